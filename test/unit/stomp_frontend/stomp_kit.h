// STOMP side of the front-end test kit (the transport and broker parts are
// shared with the MQTT tests: ../mqtt_frontend/frontend_testkit.h): a world
// (broker + StompProtocol), a client writing frames by hand, and the
// server's frames split with the real StompFrameParser and copied out.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "../mqtt_frontend/frontend_testkit.h"
#include "stomp_codec.h"
#include "stomp_protocol.h"

namespace junction::fetest {

struct StompWorld : BrokerWorld {
  std::unique_ptr<stomp::StompProtocol> proto;
  explicit StompWorld(const stomp::StompOptions& o = {}, const core::BrokerConfig& c = {}) : BrokerWorld(c) {
    proto = std::make_unique<stomp::StompProtocol>(*broker, o);
  }
  const core::Queue* queue(std::string_view name) const { return broker->queues().find(name); }
  std::size_t ready(std::string_view name) const {
    const core::Queue* q = queue(name);
    return q ? q->ready_count() : 0;
  }
  std::size_t unacked(std::string_view name) const {
    const core::Queue* q = queue(name);
    return q ? q->unacked_count() : 0;
  }
};

// One server frame (or heart-beat), copied out of the parser's views.
struct SFrame {
  std::string command;  // "HEARTBEAT" for an EOL between frames
  std::vector<std::pair<std::string, std::string>> headers;  // decoded, wire order
  std::string body;
  std::string raw;  // the exact bytes

  // First header of that name; REQUIREs that it is there.
  const std::string& at(std::string_view name) const {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    FAIL("no header " << name << " in " << command);
    static const std::string none;
    return none;
  }
  bool has(std::string_view name) const {
    for (const auto& h : headers)
      if (h.first == name) return true;
    return false;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& h : headers) out.push_back(h.first);
    return out;
  }
};

using Hdrs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// A client frame written by hand (no escaping: tests use plain values).
inline std::string frame(std::string_view command, Hdrs headers, std::string_view body = {}) {
  std::string out(command);
  out.push_back('\n');
  for (const auto& [k, v] : headers) out.append(k).append(":").append(v).push_back('\n');
  out.push_back('\n');
  out.append(body);
  out.push_back('\0');
  return out;
}

// The exact bytes of a RECEIPT.
inline std::string receipt(std::string_view id) {
  std::string out = "RECEIPT\nreceipt-id:";
  out.append(id).append("\n\n");
  out.push_back('\0');
  return out;
}

class StompClient : public Conn {
 public:
  explicit StompClient(StompWorld& w) : Conn(*w.proto, w.clock) {}

  stomp::Version version() const { return v_; }

  // CONNECT (or STOMP) and its CONNECTED; the version is then the negotiated one.
  SFrame connect(std::string_view accept_version = "1.2", std::string_view heart_beat = "0,0",
                 std::string_view command = "CONNECT") {
    if (accept_version.empty()) {
      feed(frame(command, {{"host", "/"}}));
    } else {
      feed(frame(command, {{"accept-version", accept_version}, {"host", "/"}, {"heart-beat", heart_beat}}));
    }
    SFrame f = next();
    REQUIRE(f.command == "CONNECTED");
    v_ = stomp::Version::V1_0;
    for (const auto& [k, val] : f.headers) {
      if (k == "version") v_ = val == "1.2" ? stomp::Version::V1_2 : val == "1.1" ? stomp::Version::V1_1 : v_;
    }
    return f;
  }
  void send(std::string_view command, Hdrs headers, std::string_view body = {}) { feed(frame(command, headers, body)); }
  // SUBSCRIBE, then nothing may have been written but MESSAGEs.
  void subscribe(std::string_view id, std::string_view destination, std::string_view ack = "auto",
                 std::string_view prefetch = {}) {
    if (prefetch.empty()) {
      send("SUBSCRIBE", {{"id", id}, {"destination", destination}, {"ack", ack}});
    } else {
      send("SUBSCRIBE", {{"id", id}, {"destination", destination}, {"ack", ack}, {"prefetch-count", prefetch}});
    }
  }

  // Every whole frame (and heart-beat) written since the previous call.
  std::vector<SFrame> frames() {
    pending_ += take_output();
    std::vector<SFrame> out;
    stomp::StompFrame f;
    while (!pending_.empty()) {
      stomp::StompFrameParser parser(stomp::StompLimits{}, v_);
      stomp::Status st;
      const stomp::ParseResult r = parser.next(span_of(pending_), f, st);
      INFO("parse error: " << stomp::reason_name(st.reason));
      REQUIRE(r != stomp::ParseResult::Error);
      if (r == stomp::ParseResult::NeedMore) break;
      SFrame s;
      s.raw = pending_.substr(0, f.total_size);
      if (r == stomp::ParseResult::Heartbeat) {
        s.command = "HEARTBEAT";
      } else {
        s.command = std::string(stomp::command_name(f.command));
        for (const stomp::Header& h : f.headers) s.headers.emplace_back(std::string(h.name), std::string(h.value));
        s.body = std::string(f.body_view());
      }
      pending_.erase(0, f.total_size);
      out.push_back(std::move(s));
    }
    return out;
  }
  // Exactly one frame is waiting; returns it.
  SFrame next() {
    std::vector<SFrame> fs = frames();
    INFO("server wrote " << fs.size() << " frames");
    REQUIRE(fs.size() == 1);
    return std::move(fs[0]);
  }
  // Frames that must all be MESSAGEs.
  std::vector<SFrame> messages() {
    std::vector<SFrame> fs = frames();
    for (const SFrame& f : fs) REQUIRE(f.command == "MESSAGE");
    return fs;
  }
  bool silent() {
    pending_ += take_output();
    return pending_.empty();
  }

 private:
  stomp::Version v_ = stomp::Version::V1_0;
  std::string pending_;
};

// Checks an ERROR frame: its message header, its receipt-id (none when
// empty), the extra header if named, content-type text/plain, a correct
// content-length, and the body "<message>[: <detail>]\n".
inline void check_error(const SFrame& f, std::string_view message, std::string_view receipt_id,
                        std::string_view detail, std::string_view extra = {}) {
  REQUIRE(f.command == "ERROR");
  std::vector<std::string> names{"message"};
  if (!receipt_id.empty()) names.push_back("receipt-id");
  if (!extra.empty()) names.emplace_back(extra);
  names.push_back("content-type");
  names.push_back("content-length");
  CHECK(f.names() == names);
  CHECK(f.at("message") == message);
  if (!receipt_id.empty()) CHECK(f.at("receipt-id") == receipt_id);
  CHECK(f.at("content-type") == "text/plain");
  std::string body(message);
  if (!detail.empty()) body.append(": ").append(detail);
  body.push_back('\n');
  CHECK(f.body == body);
  CHECK(f.at("content-length") == std::to_string(body.size()));
}

}  // namespace junction::fetest
