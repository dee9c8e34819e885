// Helpers shared by the STOMP codec unit tests and the fuzz target
// (test/fuzz/fuzz_stomp_parser.cpp). No Catch2 here, so the fuzzer can use it.
//
// The central helper is feed(): it plays a connection, appending the stream
// to a buffer in the given pieces and calling the parser until it needs
// more, recording every result. Feeding the same stream whole, byte by byte
// or cut at any offset must give the same list of events.
#pragma once

#include "stomp_codec.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Readable Catch2 output for the codec's enums (found by ADL).
namespace junction::stomp {
inline std::ostream& operator<<(std::ostream& os, Reason r) { return os << reason_name(r); }
inline std::ostream& operator<<(std::ostream& os, Command c) { return os << command_name(c); }
inline std::ostream& operator<<(std::ostream& os, Version v) { return os << version_string(v); }
inline std::ostream& operator<<(std::ostream& os, ParseResult r) {
  const char* names[] = {"NeedMore", "Frame", "Heartbeat", "Error"};
  return os << names[static_cast<int>(r)];
}
}  // namespace junction::stomp

namespace stomp_testkit {

using namespace junction::stomp;

using namespace std::string_literals;

// A frame copied out of the parser's views, so it can outlive the buffer.
struct Owned {
  Command command = Command::Send;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t total_size = 0;
  bool operator==(const Owned&) const = default;
};

inline Owned own(const StompFrame& f) {
  Owned o;
  o.command = f.command;
  for (const Header& h : f.headers) o.headers.emplace_back(std::string(h.name), std::string(h.value));
  o.body = std::string(f.body_view());
  o.total_size = f.total_size;
  return o;
}

struct Event {
  enum class Kind { Frame, Heartbeat, Error, Pending } kind = Kind::Frame;
  Owned frame;                // Kind::Frame
  std::size_t size = 0;       // Heartbeat: EOL bytes; Pending: bytes left unconsumed at the end
  Reason reason = Reason::Ok;  // Kind::Error
  bool operator==(const Event&) const = default;
};

inline std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "^@"; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return out;
}

inline std::ostream& operator<<(std::ostream& os, const Event& e) {
  switch (e.kind) {
    case Event::Kind::Frame:
      os << "Frame{" << command_name(e.frame.command);
      for (const auto& [n, v] : e.frame.headers) os << " " << printable(n) << "=" << printable(v);
      os << " body=\"" << printable(e.frame.body) << "\" size=" << e.frame.total_size << "}";
      break;
    case Event::Kind::Heartbeat: os << "Heartbeat{" << e.size << "}"; break;
    case Event::Kind::Error: os << "Error{" << reason_name(e.reason) << "}"; break;
    case Event::Kind::Pending: os << "Pending{" << e.size << "}"; break;
  }
  return os;
}

inline Event frame_event(Owned f) { return Event{Event::Kind::Frame, std::move(f), 0, Reason::Ok}; }
inline Event heartbeat_event(std::size_t n) { return Event{Event::Kind::Heartbeat, {}, n, Reason::Ok}; }
inline Event error_event(Reason r) { return Event{Event::Kind::Error, {}, 0, r}; }
inline Event pending_event(std::size_t n) { return Event{Event::Kind::Pending, {}, n, Reason::Ok}; }

// Feeds `stream` to one parser, appending it to a connection buffer cut at
// the offsets in `cuts` (ascending; 0 and stream.size() are implied).
// Stops at the first error. A final Pending event reports unconsumed bytes.
inline std::vector<Event> feed(std::string_view stream, const std::vector<std::size_t>& cuts, Version v = Version::V1_2,
                               const StompLimits& limits = {}) {
  StompFrameParser parser(limits, v);
  StompFrame frame;
  std::vector<Event> events;
  std::string acc;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(stream.size());
  for (std::size_t end : ends) {
    if (end < from || end > stream.size()) continue;
    acc.append(stream.substr(from, end - from));
    from = end;
    for (;;) {
      Status st;
      const ParseResult r = parser.next(bytes_of(acc), frame, st);
      if (r == ParseResult::NeedMore) break;
      if (r == ParseResult::Error) {
        events.push_back(error_event(st.reason));
        return events;
      }
      if (r == ParseResult::Frame)
        events.push_back(frame_event(own(frame)));
      else
        events.push_back(heartbeat_event(frame.total_size));
      acc.erase(0, frame.total_size);
    }
  }
  if (!acc.empty()) events.push_back(pending_event(acc.size()));
  return events;
}

inline std::vector<Event> feed_whole(std::string_view s, Version v = Version::V1_2, const StompLimits& l = {}) {
  return feed(s, {}, v, l);
}
inline std::vector<Event> feed_bytewise(std::string_view s, Version v = Version::V1_2, const StompLimits& l = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
  return feed(s, cuts, v, l);
}
inline std::vector<Event> feed_split(std::string_view s, std::size_t at, Version v = Version::V1_2,
                                     const StompLimits& l = {}) {
  return feed(s, {at}, v, l);
}

// Parses exactly one frame from `wire` (whole). Returns the result; the frame
// is copied into `out` on success and `st` holds the status on error.
inline ParseResult parse_one(std::string_view wire, Version v, Owned& out, Status& st, const StompLimits& l = {}) {
  StompFrameParser parser(l, v);
  StompFrame f;
  const ParseResult r = parser.next(bytes_of(wire), f, st);
  if (r == ParseResult::Frame) out = own(f);
  return r;
}

// Header list in the form Owned uses, for building expectations.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline std::vector<Header> views(const HeaderList& h) {
  std::vector<Header> out;
  for (const auto& [n, v] : h) out.push_back(Header{n, v});
  return out;
}

}  // namespace stomp_testkit
