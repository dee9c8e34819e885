// Frame parser and Variable Byte Integer tests: fixed header rules
// [MQTT-2.1], [MQTT-1.5.5], early PacketTooLarge, split-point feeding.
#include <catch2/catch.hpp>

#include "mqtt_testkit.h"

using namespace mqtt_testkit;

namespace {

FrameResult parse(const Bytes& b, Frame& f, Status& st, std::size_t* needed = nullptr, std::uint32_t max = 268435460u) {
  MqttFrameParser p(max);
  return p.next(span(b), f, st, needed);
}

struct Seen {
  PacketType type;
  std::uint8_t flags;
  Bytes body;
  bool operator==(const Seen& o) const { return type == o.type && flags == o.flags && body == o.body; }
};

// Feeds `stream` in chunks of `chunk` bytes into an accumulating buffer, as a
// connection would, framing everything that is complete after each chunk.
std::vector<Seen> feed(const Bytes& stream, std::size_t chunk, bool& error) {
  MqttFrameParser parser;
  std::vector<Seen> out;
  Bytes acc;
  error = false;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    const std::size_t n = std::min(chunk, stream.size() - pos);
    acc.insert(acc.end(), stream.begin() + static_cast<std::ptrdiff_t>(pos),
               stream.begin() + static_cast<std::ptrdiff_t>(pos + n));
    for (;;) {
      Frame f;
      Status st;
      const FrameResult r = parser.next(span(acc), f, st);
      if (r == FrameResult::Error) {
        error = true;
        return out;
      }
      if (r == FrameResult::NeedMore) break;
      out.push_back({f.type, f.flags, Bytes(f.body.begin(), f.body.end())});
      acc.erase(acc.begin(), acc.begin() + static_cast<std::ptrdiff_t>(f.total_size));
    }
  }
  if (!acc.empty()) error = true;
  return out;
}

}  // namespace

TEST_CASE("varint encodes the spec's boundary values", "[mqtt][codec]") {
  // v5 Table 1-1 / 3.1.1 Table 2.4.
  struct Case {
    std::uint32_t value;
    Bytes wire;
  };
  const Case cases[] = {
      {0, bytes({0x00})},
      {127, bytes({0x7F})},
      {128, bytes({0x80, 0x01})},
      {16383, bytes({0xFF, 0x7F})},
      {16384, bytes({0x80, 0x80, 0x01})},
      {2097151, bytes({0xFF, 0xFF, 0x7F})},
      {2097152, bytes({0x80, 0x80, 0x80, 0x01})},
      {268435455, bytes({0xFF, 0xFF, 0xFF, 0x7F})},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    std::string out;
    encode_varint(c.value, out);
    CHECK(to_bytes(out) == c.wire);
    CHECK(varint_size(c.value) == c.wire.size());

    // As a remaining length behind a PUBLISH header the parser reads it back.
    Bytes hdr = bytes({0x30});
    hdr.insert(hdr.end(), c.wire.begin(), c.wire.end());
    Frame f;
    Status st;
    std::size_t needed = 7;
    const FrameResult r = parse(hdr, f, st, &needed);
    if (c.value == 0) {
      CHECK(r == FrameResult::Frame);
      CHECK(f.total_size == 2);
    } else {
      CHECK(r == FrameResult::NeedMore);
      CHECK(needed == 1 + c.wire.size() + c.value);
    }
  }
}

TEST_CASE("frame parser rejects bad remaining lengths", "[mqtt][codec]") {
  Frame f;
  Status st;
  SECTION("five-byte varint") {
    CHECK(parse(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
  SECTION("fourth byte with continuation bit, even before a fifth arrives") {
    CHECK(parse(bytes({0x30, 0x80, 0x80, 0x80, 0x80}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
  SECTION("non-minimal encoding [MQTT-1.5.5-1]") {
    CHECK(parse(bytes({0x30, 0x80, 0x00}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
    CHECK(parse(bytes({0x30, 0x85, 0x80, 0x00}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
  SECTION("incomplete varint is NeedMore with unknown size") {
    std::size_t needed = 99;
    CHECK(parse(bytes({0x30, 0xFF, 0xFF}), f, st, &needed) == FrameResult::NeedMore);
    CHECK(needed == 0);
    CHECK(st.ok());
  }
}

TEST_CASE("frame parser: reserved type 0 is malformed", "[mqtt][codec]") {
  Frame f;
  Status st;
  for (int flags = 0; flags < 16; ++flags) {
    CHECK(parse(bytes({flags, 0x00}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
}

TEST_CASE("frame parser checks fixed header flags of every type", "[mqtt][codec]") {
  // [MQTT-2.1.3-1]: v5 Table 2-2.
  const int type = GENERATE(range(1, 16));
  const int flags = GENERATE(range(0, 16));
  bool valid;
  if (type == 3) {
    valid = ((flags >> 1) & 3) != 3;  // PUBLISH: anything but QoS 3
  } else if (type == 6 || type == 8 || type == 10) {
    valid = flags == 2;  // PUBREL, SUBSCRIBE, UNSUBSCRIBE
  } else {
    valid = flags == 0;
  }
  CAPTURE(type, flags);
  Frame f;
  Status st;
  const FrameResult r = parse(bytes({(type << 4) | flags, 0x00}), f, st);
  if (valid) {
    REQUIRE(r == FrameResult::Frame);
    CHECK(static_cast<int>(f.type) == type);
    CHECK(f.flags == flags);
    CHECK(f.body.empty());
    CHECK(f.total_size == 2);
  } else {
    REQUIRE(r == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
}

TEST_CASE("MQTT 3.1 (MQIsdp) may set DUP on PUBREL, SUBSCRIBE and UNSUBSCRIBE", "[mqtt][codec]") {
  // MQTT 3.1 gave these packets QoS 1 and let a resend set DUP; 3.1.1 fixed
  // their flags at 0b0010 [MQTT-2.1.3-1]. Everything else is as strict.
  const int type = GENERATE(6, 8, 10);
  const int flags = GENERATE(range(0, 16));
  CAPTURE(type, flags);
  const MqttFrameParser v31(1u << 20, Version::V31);
  const MqttFrameParser v311(1u << 20, Version::V311);
  Frame f;
  Status st;
  const auto packet = bytes({(type << 4) | flags, 0x00});
  CHECK((v31.next(span(packet), f, st) == FrameResult::Frame) == (flags == 0x2 || flags == 0xA));
  CHECK((v311.next(span(packet), f, st) == FrameResult::Frame) == (flags == 0x2));
  for (int other : {4, 5, 7, 12, 14}) {  // PUBACK, PUBREC, PUBCOMP, PINGREQ, DISCONNECT keep flags 0
    CHECK(v31.next(span(bytes({(other << 4) | 0x8, 0x00})), f, st) == FrameResult::Error);
  }
}

TEST_CASE("frame parser refuses bad flags before the length arrives", "[mqtt][codec]") {
  Frame f;
  Status st;
  SECTION("PUBLISH QoS 3") {
    for (int dup_retain : {0x0, 0x1, 0x8, 0x9}) {
      CHECK(parse(bytes({0x36 | dup_retain}), f, st) == FrameResult::Error);
      CHECK(st.reason == Reason::MalformedPacket);
    }
  }
  SECTION("SUBSCRIBE with flags 0") {
    CHECK(parse(bytes({0x80}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
  SECTION("CONNECT with a flag") {
    CHECK(parse(bytes({0x11}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
}

TEST_CASE("PINGREQ and PINGRESP must have remaining length 0", "[mqtt][codec]") {
  Frame f;
  Status st;
  SECTION("PINGREQ with a body, refused from the header alone") {
    CHECK(parse(bytes({0xC0, 0x01}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
  SECTION("PINGRESP with a body") {
    CHECK(parse(bytes({0xD0, 0x02, 0x00, 0x00}), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::MalformedPacket);
  }
  SECTION("empty PINGREQ frames") {
    CHECK(parse(bytes({0xC0, 0x00}), f, st) == FrameResult::Frame);
    CHECK(f.type == PacketType::Pingreq);
  }
}

TEST_CASE("PacketTooLarge is reported from the header alone", "[mqtt][codec]") {
  Frame f;
  Status st;
  std::size_t needed = 0;
  SECTION("one-byte length over the limit") {
    // total = 1 + 1 + 99 = 101 > 100; no body byte present.
    CHECK(parse(bytes({0x30, 99}), f, st, &needed, 100) == FrameResult::Error);
    CHECK(st.reason == Reason::PacketTooLarge);
  }
  SECTION("exactly at the limit is fine") {
    CHECK(parse(bytes({0x30, 98}), f, st, &needed, 100) == FrameResult::NeedMore);
    CHECK(needed == 100);
  }
  SECTION("four-byte length with a 1 MiB limit") {
    CHECK(parse(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), f, st, &needed, 1u << 20) == FrameResult::Error);
    CHECK(st.reason == Reason::PacketTooLarge);
  }
  SECTION("the largest packet fits the default limit") {
    CHECK(parse(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}), f, st, &needed) == FrameResult::NeedMore);
    CHECK(needed == 268435455u + 5u);
  }
  SECTION("the fixed header counts toward the limit") {
    // A 2-byte packet (PINGREQ) against a limit of 1.
    CHECK(parse(bytes({0xC0, 0x00}), f, st, &needed, 1) == FrameResult::Error);
    CHECK(st.reason == Reason::PacketTooLarge);
  }
  SECTION("set_max_packet_size applies to the next call") {
    MqttFrameParser p;
    const Bytes b = bytes({0x30, 0x10});
    CHECK(p.next(span(b), f, st) == FrameResult::NeedMore);
    p.set_max_packet_size(10);
    CHECK(p.next(span(b), f, st) == FrameResult::Error);
    CHECK(st.reason == Reason::PacketTooLarge);
  }
}

TEST_CASE("frame body points into the input buffer", "[mqtt][codec]") {
  const Bytes b = bytes({0x40, 0x02, 0x00, 0x07, 0xAA});  // PUBACK + one byte of the next packet
  Frame f;
  Status st;
  REQUIRE(parse(b, f, st) == FrameResult::Frame);
  CHECK(f.body.data() == b.data() + 2);
  CHECK(f.body.size() == 2);
  CHECK(f.total_size == 4);
}

TEST_CASE("empty buffer needs more", "[mqtt][codec]") {
  MqttFrameParser p;
  Frame f;
  Status st;
  std::size_t needed = 5;
  CHECK(p.next(ByteSpan{}, f, st, &needed) == FrameResult::NeedMore);
  CHECK(needed == 0);
}

TEST_CASE("golden packets: every proper prefix needs more and the whole packet frames", "[mqtt][codec]") {
  const auto all = goldens();
  const auto gi = GENERATE_COPY(range(std::size_t{0}, all.size()));
  const Golden& g = all[gi];
  const auto split = GENERATE_COPY(range(std::size_t{0}, all[gi].wire.size() + 1));
  CAPTURE(g.name, split);

  // Header length from the golden's own length byte(s).
  std::size_t header = 2;
  while (g.wire[header - 1] & 0x80) ++header;

  const Bytes prefix(g.wire.begin(), g.wire.begin() + static_cast<std::ptrdiff_t>(split));
  Frame f;
  Status st;
  std::size_t needed = 0;
  const FrameResult r = parse(prefix, f, st, &needed);
  if (split < g.wire.size()) {
    CHECK(r == FrameResult::NeedMore);
    CHECK(needed == (split >= header ? g.wire.size() : 0));
  } else {
    REQUIRE(r == FrameResult::Frame);
    CHECK(f.total_size == g.wire.size());
    CHECK(f.body.size() == g.wire.size() - header);
    CHECK(static_cast<int>(f.type) == g.wire[0] >> 4);
    CHECK(f.flags == (g.wire[0] & 0x0F));
  }

  // Delivered in chunks of `split` bytes into a connection-style buffer, the
  // packet frames once and identically.
  bool err = false;
  const auto frames = feed(g.wire, split == 0 ? g.wire.size() : split, err);
  CHECK_FALSE(err);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].body == Bytes(g.wire.begin() + static_cast<std::ptrdiff_t>(header), g.wire.end()));
}

TEST_CASE("a stream of golden packets yields the same frames however it is split", "[mqtt][codec]") {
  const auto all = goldens();
  Bytes stream;
  std::vector<Seen> expected;
  for (const Golden& g : all) {
    stream.insert(stream.end(), g.wire.begin(), g.wire.end());
    std::size_t header = 2;
    while (g.wire[header - 1] & 0x80) ++header;
    expected.push_back({static_cast<PacketType>(g.wire[0] >> 4), static_cast<std::uint8_t>(g.wire[0] & 0x0F),
                        Bytes(g.wire.begin() + static_cast<std::ptrdiff_t>(header), g.wire.end())});
  }
  const std::size_t chunk = GENERATE(1, 2, 3, 5, 7, 13, 64, 1000);
  CAPTURE(chunk);
  bool err = false;
  const auto frames = feed(stream, chunk, err);
  CHECK_FALSE(err);
  CHECK(frames == expected);
}

TEST_CASE("a stream split at every single index yields the same frames", "[mqtt][codec]") {
  const auto all = goldens();
  Bytes stream;
  for (std::size_t i = 0; i < 6; ++i) stream.insert(stream.end(), all[i].wire.begin(), all[i].wire.end());
  const auto split = GENERATE_COPY(range(std::size_t{1}, stream.size()));
  CAPTURE(split);

  MqttFrameParser parser;
  Bytes acc(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(split));
  std::vector<Seen> got;
  auto drain = [&] {
    for (;;) {
      Frame f;
      Status st;
      const FrameResult r = parser.next(span(acc), f, st);
      REQUIRE(r != FrameResult::Error);
      if (r == FrameResult::NeedMore) return;
      got.push_back({f.type, f.flags, Bytes(f.body.begin(), f.body.end())});
      acc.erase(acc.begin(), acc.begin() + static_cast<std::ptrdiff_t>(f.total_size));
    }
  };
  drain();
  acc.insert(acc.end(), stream.begin() + static_cast<std::ptrdiff_t>(split), stream.end());
  drain();
  CHECK(acc.empty());
  CHECK(got.size() == 6);
}
