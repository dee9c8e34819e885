// libFuzzer target for the STOMP codec.
//
// The input is a byte stream as a connection would see it. Under each
// protocol version it is parsed frame after frame (heart-beats skipped) until
// the parser needs more or refuses. Every frame must:
//   - lie inside the input and report a sane size;
//   - re-encode (under the same version) unless it holds a value the version
//     cannot carry (a value ending in CR without 1.2 escaping), and the
//     encoding must parse back to the same command, headers and body;
// and the whole stream must give the same results fed whole, split at one
// input-chosen offset, and (for short inputs) byte by byte. Any mismatch aborts.
//
// Build: test/fuzz/build.sh (test/fuzz/meson.build: links stomp_codec_dep only)
// Seeds: test/fuzz/corpus/stomp/
#include "../unit/stomp/stomp_testkit.h"

#include <cstdio>
#include <cstdlib>

namespace {

using namespace stomp_testkit;

[[noreturn]] void fail(const char* what, Version v, std::string_view wire) {
  std::fprintf(stderr, "stomp fuzz: %s (version %s)\n  %s\n", what, std::string(version_string(v)).c_str(),
               printable(wire).c_str());
  std::abort();
}

// Small limits so the fuzzer reaches every limit with short inputs.
StompLimits fuzz_limits() {
  StompLimits l;
  l.max_frame_size = 2048;
  l.max_headers = 12;
  l.max_header_line = 200;
  l.max_command_length = 12;
  return l;
}

// Generous limits for re-parsing encoder output (escaping may double sizes).
StompLimits roomy_limits() {
  StompLimits l;
  l.max_frame_size = 1u << 20;
  l.max_headers = 1024;
  l.max_header_line = 1u << 16;
  return l;
}

bool escaped_12(Command c, Version v) {
  return v == Version::V1_2 && c != Command::Connect && c != Command::Stomp && c != Command::Connected;
}

// The only parsed content the encoder may refuse: a value ending in CR (the
// parser keeps a CR before the line-ending CR LF), which only 1.2 escaping
// can write back.
bool must_refuse(const StompFrame& f, Version v) {
  if (escaped_12(f.command, v)) return false;
  for (const Header& h : f.headers)
    if (!h.value.empty() && h.value.back() == '\r') return true;
  return false;
}

void check_round_trip(const StompFrame& f, Version v, std::string_view original) {
  std::string wire;
  const Status st = encode_frame(f.command, f.headers, f.body, v, wire);
  if (!st.ok()) {
    if (st.reason != Reason::Unencodable || st.what == nullptr) fail("encoder failed without a reason", v, original);
    if (!must_refuse(f, v)) fail("encoder refused a parsed frame", v, original);
    if (!wire.empty()) fail("encoder left output behind after refusing", v, original);
    return;
  }
  if (must_refuse(f, v)) fail("encoder accepted a value it cannot represent", v, original);

  StompFrameParser parser(roomy_limits(), v);
  StompFrame g;
  Status st2;
  if (parser.next(bytes_of(wire), g, st2) != ParseResult::Frame) fail("re-encoded frame does not parse", v, wire);
  if (g.total_size != wire.size()) fail("re-encoded frame has a different size", v, wire);
  if (g.command != f.command) fail("command changed", v, wire);
  if (g.body_view() != f.body_view()) fail("body changed", v, wire);

  // MESSAGE always gets a fresh content-length after the other headers; all
  // other frames keep exactly the parsed header list.
  const bool message = f.command == Command::Message;
  std::size_t gi = 0;
  for (const Header& h : f.headers) {
    if (message && h.name == "content-length") continue;
    while (message && gi < g.headers.size() && g.headers[gi].name == "content-length") ++gi;
    if (gi >= g.headers.size()) fail("header missing after re-encoding", v, wire);
    if (g.headers[gi].name != h.name || g.headers[gi].value != h.value) fail("header changed", v, wire);
    ++gi;
  }
  if (message) {
    std::size_t lengths = 0;
    for (; gi < g.headers.size(); ++gi) {
      if (g.headers[gi].name != "content-length") fail("extra header after re-encoding", v, wire);
      ++lengths;
    }
    const std::string_view* cl = g.header("content-length");
    if (lengths != 1 || cl == nullptr || *cl != std::to_string(f.body.size()))
      fail("MESSAGE content-length wrong", v, wire);
  } else if (gi != g.headers.size()) {
    fail("extra header after re-encoding", v, wire);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan input(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const StompLimits limits = fuzz_limits();

  for (Version v : kAllVersions) {
    StompFrameParser parser(limits, v);
    StompFrame f;
    std::size_t off = 0;
    for (;;) {
      Status st;
      const ByteSpan rest = input.subspan(off);
      const ParseResult r = parser.next(rest, f, st);
      if (r == ParseResult::NeedMore) {
        if (!st.ok()) fail("NeedMore with an error status", v, text);
        break;
      }
      if (r == ParseResult::Error) {
        if (st.ok() || st.what == nullptr) fail("Error without a reason", v, text);
        break;
      }
      if (!st.ok()) fail("result with an error status", v, text);
      if (f.total_size == 0 || f.total_size > rest.size()) fail("total_size outside the input", v, text);
      if (r == ParseResult::Heartbeat) {
        if (f.total_size > 2 || !f.headers.empty()) fail("bad heart-beat result", v, text);
      } else {
        if (f.total_size > limits.max_frame_size) fail("frame larger than max_frame_size", v, text);
        if (f.headers.size() > limits.max_headers) fail("more headers than max_headers", v, text);
        if (!f.body.empty() && (f.body.data() < rest.data() || f.body.data() + f.body.size() > rest.data() + f.total_size))
          fail("body outside the frame", v, text);
        if (rest[f.total_size - 1] != 0) fail("frame does not end with NUL", v, text);
        for (const Header& h : f.headers) {
          const std::string_view* first = f.header(h.name);
          if (first == nullptr) fail("header() misses a header", v, text);
          if (first > &h.value) fail("header() is not the first occurrence", v, text);
        }
        check_round_trip(f, v, text.substr(off, f.total_size));
      }
      off += f.total_size;
    }

    // Split invariance: the same events however the stream arrives.
    const std::vector<Event> whole = feed_whole(text, v, limits);
    const std::size_t at = size == 0 ? 0 : (static_cast<std::size_t>(data[0]) * 131u + size) % (size + 1);
    if (feed_split(text, at, v, limits) != whole) fail("split feed differs from whole feed", v, text);
    if (size <= 256 && feed_bytewise(text, v, limits) != whole) fail("byte-wise feed differs from whole feed", v, text);
  }
  return 0;
}
