// libFuzzer target for the MQTT codec.
//
// The input is a byte stream as a connection would see it: packets are framed
// one after another until the parser needs more or refuses. Each frame is
// decoded under every protocol version; whatever decodes must survive
// encode -> frame -> decode with equal fields and re-encode to the same bytes
// (see mqtt_testkit::round_trip). Any mismatch aborts.
//
// Build: test/fuzz/build.sh (test/fuzz/meson.build: links mqtt_codec_dep only)
// Seeds: test/fuzz/corpus/mqtt/
#include "../unit/mqtt/mqtt_testkit.h"

#include <cstdio>
#include <cstdlib>

namespace {

using namespace mqtt_testkit;

[[noreturn]] void fail(const char* what, const Frame& f, Version v) {
  std::fprintf(stderr, "mqtt fuzz: %s (type %d, version %d, body %zu bytes)\n", what, static_cast<int>(f.type),
               static_cast<int>(v), f.body.size());
  std::abort();
}

void check_frame(const Frame& f) {
  // CONNECT chooses its own version; decode it once.
  const Version versions[] = {Version::V31, Version::V311, Version::V5};
  for (Version v : versions) {
    const RoundTrip rt = round_trip(f, v);
    if (rt.problem != nullptr) fail(rt.problem, f, v);
    if (!rt.first.ok() && rt.first.what == nullptr) fail("error status without description", f, v);
    if (f.type == PacketType::Connect) break;
  }

  // The property block parser on its own, as the front-end uses it for will
  // properties, against every packet type's table.
  for (int t = 1; t <= 15; ++t) {
    for (bool will : {false, true}) {
      ByteSpan cursor = f.body;
      Properties p;
      if (!decode_properties(cursor, static_cast<PacketType>(t), will, p).ok()) continue;
      if (cursor.size() > f.body.size() || (cursor.data() != nullptr && cursor.data() < f.body.data()))
        fail("cursor moved outside the body", f, Version::V5);
      std::string wire;
      encode_properties(p, wire);
      ByteSpan again = span(wire);
      Properties q;
      if (!decode_properties(again, static_cast<PacketType>(t), will, q).ok() || !again.empty())
        fail("re-encoded properties do not decode", f, Version::V5);
      if (const char* d = diff(p, q)) fail(d, f, Version::V5);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteSpan buf(data, size);
  const MqttFrameParser parser;
  for (;;) {
    Frame f;
    Status st;
    std::size_t needed = 0;
    const FrameResult r = parser.next(buf, f, st, &needed);
    if (r == FrameResult::Error) {
      if (st.ok()) fail("error without status", f, Version::V5);
      break;
    }
    if (r == FrameResult::NeedMore) {
      if (needed != 0 && needed <= buf.size()) fail("NeedMore although the packet is complete", f, Version::V5);
      break;
    }
    if (f.total_size == 0 || f.total_size > buf.size() || f.body.data() + f.body.size() != buf.data() + f.total_size)
      fail("frame outside the input", f, Version::V5);
    check_frame(f);
    buf = buf.subspan(f.total_size);
  }
  return 0;
}
