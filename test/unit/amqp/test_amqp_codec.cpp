// AMQP 0-9-1 codec: every method round-trips, golden bytes, split feeding,
// content headers with every property and field type, malformed input.
#include <catch2/catch.hpp>

#include "amqp_testkit.h"

using namespace amqp_testkit;
using namespace std::string_literals;

namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

Frame parse_one(const std::string& wire) {
  FrameParser p;
  Frame f;
  Error e;
  REQUIRE(p.next(bytes_of(wire), f, e) == ParseResult::Frame);
  REQUIRE(f.total_size == wire.size());
  return f;
}

}  // namespace

TEST_CASE("every method round-trips through encode and decode", "[amqp][codec]") {
  for (const Method& m : sample_methods()) {
    CAPTURE(method_name(m));
    std::string wire;
    REQUIRE(encode_method(3, m, wire) == Error::None);
    const Frame f = parse_one(wire);
    REQUIRE(f.type == FrameType::Method);
    REQUIRE(f.channel == 3);
    Method back;
    REQUIRE(decode_method(f.payload, back) == Error::None);
    REQUIRE(back.index() == m.index());
    std::string again;
    REQUIRE(encode_method(3, back, again) == Error::None);
    REQUIRE(hex(again) == hex(wire));
    // Every truncation of the payload is refused, never read past.
    for (std::size_t n = 0; n < f.payload.size(); ++n) {
      Method cut;
      REQUIRE(decode_method(f.payload.first(n), cut) != Error::None);
    }
  }
}

TEST_CASE("decoded fields keep their values", "[amqp][codec]") {
  std::string wire;
  REQUIRE(encode_method(1, BasicDeliver{"ctag", 0x0102030405060708ull, true, "ex", "a.b"}, wire) == Error::None);
  Method m;
  REQUIRE(decode_method(parse_one(wire).payload, m) == Error::None);
  const auto& d = std::get<BasicDeliver>(m);
  CHECK(d.consumer_tag == "ctag");
  CHECK(d.delivery_tag == 0x0102030405060708ull);
  CHECK(d.redelivered);
  CHECK(d.exchange == "ex");
  CHECK(d.routing_key == "a.b");

  wire.clear();
  ConnectionStart s;
  s.server_properties = sample_table();
  s.mechanisms = "PLAIN";
  REQUIRE(encode_method(0, s, wire) == Error::None);
  REQUIRE(decode_method(parse_one(wire).payload, m) == Error::None);
  CHECK(std::get<ConnectionStart>(m).server_properties == sample_table());
}

TEST_CASE("golden method frames", "[amqp][codec]") {
  std::string wire;
  SECTION("heartbeat") {
    encode_heartbeat(wire);
    CHECK(hex(wire) == "080000000000" "00ce");
  }
  SECTION("connection.tune-ok") {
    REQUIRE(encode_method(0, ConnectionTuneOk{2047, 131072, 30}, wire) == Error::None);
    CHECK(hex(wire) == "010000" "0000000c" "000a001f" "07ff" "00020000" "001e" "ce");
  }
  SECTION("basic.publish, mandatory") {
    BasicPublish p;
    p.exchange = "ex";
    p.routing_key = "a.b";
    p.mandatory = true;
    REQUIRE(encode_method(1, p, wire) == Error::None);
    CHECK(hex(wire) == "010001" "0000000e" "003c0028" "0000" "02" "6578" "03" "612e62" "01" "ce");
  }
  SECTION("basic.ack, multiple") {
    REQUIRE(encode_method(1, BasicAck{77, true}, wire) == Error::None);
    CHECK(hex(wire) == "010001" "0000000d" "003c0050" "000000000000004d" "01" "ce");
  }
  SECTION("queue.declare packs five bits in one octet, LSB first") {
    QueueDeclare q;
    q.queue = "q";
    q.durable = true;
    q.auto_delete = true;
    REQUIRE(encode_method(1, q, wire) == Error::None);
    CHECK(hex(wire) == "010001" "0000000d" "0032000a" "0000" "0171" "0a" "00000000" "ce");
  }
  SECTION("content header with content-type and delivery-mode") {
    ContentHeader h;
    h.body_size = 5;
    h.properties.content_type = "t";
    h.properties.delivery_mode = 2;
    REQUIRE(encode_content_header(1, h, wire) == Error::None);
    CHECK(hex(wire) == "020001" "00000011" "003c" "0000" "0000000000000005" "9000" "0174" "02" "ce");
  }
  SECTION("a server frame decodes: connection.close 320") {
    // From the wire: reply-code 320, text "X", class 0, method 0.
    const std::string in = unhex("010000" "0000000c" "000a0032" "0140" "0158" "0000" "0000" "ce");
    Method m;
    REQUIRE(decode_method(parse_one(in).payload, m) == Error::None);
    const auto& c = std::get<ConnectionClose>(m);
    CHECK(c.reply_code == 320);
    CHECK(c.reply_text == "X");
  }
}

TEST_CASE("content header with every property round-trips", "[amqp][codec]") {
  ContentHeader h;
  h.body_size = 1234567890123ull;
  h.properties = full_properties();
  std::string wire;
  REQUIRE(encode_content_header(9, h, wire) == Error::None);
  const Frame f = parse_one(wire);
  REQUIRE(f.type == FrameType::Header);
  ContentHeader back;
  REQUIRE(decode_content_header(f.payload, back) == Error::None);
  CHECK(back == h);
  for (std::size_t n = 0; n < f.payload.size(); ++n) {
    ContentHeader cut;
    REQUIRE(decode_content_header(f.payload.first(n), cut) != Error::None);
  }
  // Without properties: flags 0.
  ContentHeader empty;
  wire.clear();
  REQUIRE(encode_content_header(1, empty, wire) == Error::None);
  REQUIRE(decode_content_header(parse_one(wire).payload, back) == Error::None);
  CHECK(back == empty);
}

TEST_CASE("stream of frames gives the same events at every split", "[amqp][codec]") {
  std::string stream;
  encode_heartbeat(stream);
  REQUIRE(encode_method(1, BasicDeliver{"c", 1, false, "ex", "k"}, stream) == Error::None);
  ContentHeader h;
  h.body_size = 11;
  h.properties.headers = sample_table();
  REQUIRE(encode_content_header(1, h, stream) == Error::None);
  encode_body(1, "hello world", 4096, stream);
  REQUIRE(encode_method(0, ConnectionBlocked{"mem"}, stream) == Error::None);
  stream += "\x01\x00"s;  // unfinished
  const auto expected = feed_whole(stream);
  REQUIRE(expected.size() == 6);
  CHECK(expected.back().result == ParseResult::NeedMore);
  CHECK(expected.back().payload.size() == 2);
  REQUIRE(feed_bytewise(stream) == expected);
  const std::size_t at = GENERATE_COPY(range(std::size_t{0}, stream.size() + 1));
  CAPTURE(at);
  REQUIRE(feed_split(stream, at) == expected);
}

TEST_CASE("content assembly across body frames", "[amqp][codec]") {
  std::string body(10000, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  std::string wire;
  ContentHeader h;
  h.body_size = body.size();
  h.properties.message_id = "id";
  REQUIRE(encode_content_header(1, h, wire) == Error::None);
  encode_body(1, body, 4096, wire);  // 3 body frames
  FrameParser p(4096);
  ContentAssembler a;
  a.start(BasicDeliver{}, 1u << 20);
  std::size_t off = 0, frames = 0;
  ContentAssembler::Step step = ContentAssembler::Step::NeedMore;
  while (off < wire.size()) {
    Frame f;
    Error e;
    REQUIRE(p.next(bytes_of(wire).subspan(off), f, e) == ParseResult::Frame);
    REQUIRE(f.total_size <= 4096);
    step = a.feed(f, e);
    REQUIRE(step != ContentAssembler::Step::Error);
    off += f.total_size;
    ++frames;
  }
  CHECK(frames == 4);
  CHECK(step == ContentAssembler::Step::Complete);
  CHECK(a.body() == body);
  CHECK(a.header().properties.message_id == "id");

  SECTION("body beyond the limit is refused") {
    ContentAssembler small;
    small.start(BasicDeliver{}, 100);
    Frame f;
    Error e;
    REQUIRE(p.next(bytes_of(wire), f, e) == ParseResult::Frame);
    CHECK(small.feed(f, e) == ContentAssembler::Step::Error);
    CHECK(e == Error::BodyTooLarge);
  }
  SECTION("a method frame where the header belongs is refused") {
    ContentAssembler x;
    x.start(BasicDeliver{}, 100);
    std::string m;
    REQUIRE(encode_method(1, BasicAck{1, false}, m) == Error::None);
    Frame f;
    Error e;
    REQUIRE(p.next(bytes_of(m), f, e) == ParseResult::Frame);
    CHECK(x.feed(f, e) == ContentAssembler::Step::Error);
    CHECK(e == Error::UnexpectedFrame);
  }
}

TEST_CASE("malformed frames are refused with a reason", "[amqp][codec]") {
  auto first_error = [](const std::string& wire, std::uint32_t max = 131072) {
    const auto ev = feed_whole(wire, max);
    REQUIRE(!ev.empty());
    return ev.back().error;
  };
  CHECK(first_error("\x05\x00\x00\x00\x00\x00\x00\xce"s) == Error::BadFrameType);
  CHECK(first_error("\x01\x00\x00\x00\x00\x00\x00\x00"s) == Error::BadFrameEnd);
  CHECK(first_error("\x08\x00\x01\x00\x00\x00\x00\xce"s) == Error::BadHeartbeat);
  CHECK(first_error("\x08\x00\x00\x00\x00\x00\x01"s) == Error::BadHeartbeat);
  CHECK(first_error("AMQP\x00\x00\x09\x01"s) == Error::ProtocolHeader);
  CHECK(first_error("AMQX"s) == Error::BadFrameType);
  // Size checked from the header, before the payload arrives.
  CHECK(first_error("\x03\x00\x01\x00\x00\x10\x00"s, 4096) == Error::FrameTooLarge);
  CHECK(first_error("\x03\x00\x01\x00\x00\x0f\xf8"s + std::string(0xff8, 'x') + "\xce", 4096) == Error::None);

  Method m;
  CHECK(decode_method(bytes_of("\x00\x0a\x00\x63"s), m) == Error::UnknownMethod);
  CHECK(decode_method(bytes_of("\x00\x0a"s), m) == Error::Truncated);
  CHECK(decode_method(bytes_of("\x00\x0a\x00\x33\x00"s), m) == Error::TrailingBytes);  // close-ok + 1
  // shortstr longer than the payload.
  CHECK(decode_method(bytes_of("\x00\x0a\x00\x3c\x09" "ab"s), m) == Error::Truncated);

  ContentHeader h;
  CHECK(decode_content_header(bytes_of("\x00\x3c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"s), h) ==
        Error::BadPropertyFlags);

  SECTION("field tables") {
    FieldTable t;
    std::size_t used = 0;
    CHECK(decode_table(bytes_of("\x00\x00\x00\x03\x01\x61\x7a"s), t, used) == Error::BadFieldType);
    CHECK(decode_table(bytes_of("\x00\x00\x00\x05\x01\x61\x53\x00\x00"s), t, used) == Error::Truncated);
    CHECK(decode_table(bytes_of("\x00\x00\x00\x09"s), t, used) == Error::Truncated);
    // A string inside the table may not claim bytes after the table's end.
    CHECK(decode_table(bytes_of("\x00\x00\x00\x07\x01\x61\x53\x00\x00\x00\x02xy"s), t, used) == Error::Truncated);
    // Nesting deeper than the limit.
    std::string deep = "\x00\x00\x00\x00"s;
    for (int i = 0; i < kMaxFieldDepth + 2; ++i) {
      std::string inner = "\x01\x61" "F"s + deep;
      const std::uint32_t n = static_cast<std::uint32_t>(inner.size());
      deep = std::string{char(n >> 24), char(n >> 16), char(n >> 8), char(n)} + inner;
    }
    CHECK(decode_table(bytes_of(deep), t, used) == Error::TooDeep);
  }
  SECTION("encoder refuses a shortstr over 255 octets, leaving no output") {
    std::string out = "keep";
    BasicPublish p;
    p.routing_key = std::string(256, 'k');
    CHECK(encode_method(1, p, out) == Error::StringTooLong);
    CHECK(out == "keep");
  }
}

TEST_CASE("field values: text form and lookup", "[amqp][codec]") {
  const FieldTable t = sample_table();
  REQUIRE(find_field(t, "i16") != nullptr);
  CHECK(find_field(t, "i16")->to_text() == "-300");
  CHECK(find_field(t, "bool")->to_text() == "true");
  CHECK(find_field(t, "str")->to_text() == "hello");
  CHECK(find_field(t, "u32")->to_text() == "4000000000");
  CHECK(find_field(t, "missing") == nullptr);
  std::string wire;
  REQUIRE(encode_table(t, wire) == Error::None);
  FieldTable back;
  std::size_t used = 0;
  REQUIRE(decode_table(bytes_of(wire), back, used) == Error::None);
  CHECK(used == wire.size());
  CHECK(back == t);
}
