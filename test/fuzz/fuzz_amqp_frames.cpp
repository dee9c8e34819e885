// libFuzzer target for the AMQP 0-9-1 codec (protocols/amqp/codec).
//
// The input is a byte stream as the bridge would read it from the server.
// It is framed frame after frame (small frame-max, so the limit is reached)
// until the parser needs more or refuses. Every frame must lie inside the
// input and end with 0xCE; a method or content header payload that decodes
// must re-encode to a frame that decodes to the same encoding again (field
// tables included); content frames go through a ContentAssembler. The stream
// must give the same results fed whole, split at one input-chosen offset and
// (for short inputs) byte by byte. The input is also tried as a topic: topic
// -> routing key -> topic must give it back. Any mismatch aborts.
//
// Build: test/fuzz/build.sh   Seeds: test/fuzz/corpus/amqp_frames/
#include <cstdio>
#include <cstdlib>

#include "../unit/amqp/amqp_testkit.h"
#include "amqp_name_map.h"

namespace {

using namespace amqp_testkit;

[[noreturn]] void fail(const char* what, std::string_view wire) {
  std::fprintf(stderr, "amqp fuzz: %s\n  %s\n", what, hex(wire.substr(0, 200)).c_str());
  std::abort();
}

constexpr std::uint32_t kFrameMax = 4096;

void check_method(const Frame& f, std::string_view text) {
  Method m;
  if (decode_method(f.payload, m) != Error::None) return;
  std::string wire;
  const Error e = encode_method(f.channel, m, wire);
  if (e != Error::None) fail("decoded method does not encode", text);
  FrameParser p(1u << 24);
  Frame g;
  Error pe;
  if (p.next(bytes_of(wire), g, pe) != ParseResult::Frame || g.total_size != wire.size()) fail("re-encoded method does not frame", wire);
  Method back;
  if (decode_method(g.payload, back) != Error::None) fail("re-encoded method does not decode", wire);
  if (back.index() != m.index()) fail("method changed", wire);
  std::string again;
  if (encode_method(f.channel, back, again) != Error::None || again != wire) fail("method encoding not stable", wire);
}

void check_header(const Frame& f, std::string_view text) {
  ContentHeader h;
  if (decode_content_header(f.payload, h) != Error::None) return;
  std::string wire;
  if (encode_content_header(f.channel, h, wire) != Error::None) fail("decoded header does not encode", text);
  FrameParser p(1u << 24);
  Frame g;
  Error pe;
  if (p.next(bytes_of(wire), g, pe) != ParseResult::Frame) fail("re-encoded header does not frame", wire);
  ContentHeader back;
  if (decode_content_header(g.payload, back) != Error::None) fail("re-encoded header does not decode", wire);
  if (!(back == h)) fail("header changed", wire);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FrameParser parser(kFrameMax);
  ContentAssembler content;
  std::size_t off = 0;
  for (;;) {
    Frame f;
    Error err;
    const auto rest = bytes_of(text).subspan(off);
    const ParseResult r = parser.next(rest, f, err);
    if (r == ParseResult::NeedMore) {
      if (err != Error::None) fail("NeedMore with an error", text);
      break;
    }
    if (r == ParseResult::Error) {
      if (err == Error::None) fail("Error without a reason", text);
      break;
    }
    if (f.total_size > rest.size() || f.total_size > kFrameMax || f.total_size < kFrameOverhead) fail("bad frame size", text);
    if (rest[f.total_size - 1] != kFrameEnd) fail("frame without frame-end", text);
    if (f.payload.size() + kFrameOverhead != f.total_size) fail("payload size mismatch", text);
    switch (f.type) {
      case FrameType::Method: {
        check_method(f, text);
        Method m;
        if (decode_method(f.payload, m) == Error::None && has_content(m)) content.start(m, 1u << 16);
        break;
      }
      case FrameType::Header:
      case FrameType::Body:
        if (f.type == FrameType::Header) check_header(f, text);
        if (content.active()) {
          Error ce;
          if (content.feed(f, ce) == ContentAssembler::Step::Error) {
            if (ce == Error::None) fail("content error without a reason", text);
            content.reset();
          } else if (content.body().size() > content.header().body_size) {
            fail("body longer than announced", text);
          }
        }
        break;
      case FrameType::Heartbeat:
        if (!f.payload.empty() || f.channel != 0) fail("heartbeat with payload", text);
        break;
    }
    off += f.total_size;
  }

  const auto whole = feed_whole(text, kFrameMax);
  const std::size_t at = size == 0 ? 0 : (static_cast<std::size_t>(data[0]) * 131u + size) % (size + 1);
  if (feed_split(text, at, kFrameMax) != whole) fail("split feed differs", text);
  if (size <= 256 && feed_bytewise(text, kFrameMax) != whole) fail("byte-wise feed differs", text);

  if (!text.empty()) {
    if (auto key = junction::amqp::topic_to_routing_key(text)) {
      if (junction::amqp::routing_key_to_topic(*key) != text) fail("topic does not round-trip", text);
    }
  }
  return 0;
}
