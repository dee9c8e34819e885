// PUBLISH [MQTT-3.3] and PUBACK/PUBREC/PUBREL/PUBCOMP [MQTT-3.4..3.7].
#include <catch2/catch.hpp>

#include "mqtt_property_samples.h"

using namespace mqtt_testkit;

namespace {

Status decode_publish_bytes(const Bytes& wire, Version v, Publish& out) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return decode_publish(f, v, out);
}

Status decode_ack_bytes(const Bytes& wire, Version v, Ack& out) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return decode_ack(f, v, out);
}

// PUBLISH with the given first byte and body (body shorter than 128 bytes).
Bytes publish_packet(int first, const Bytes& body) {
  REQUIRE(body.size() < 128);
  return cat({bytes({first, static_cast<int>(body.size())}), body});
}

void check_round_trip(Version v, const Publish& in) {
  std::string wire;
  encode_publish(v, in, wire);
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  Publish out;
  REQUIRE(decode_publish(f, v, out).ok());
  CHECK(diff(in, out) == nullptr);
}

void check_round_trip(Version v, const Ack& in) {
  std::string wire;
  encode_ack(v, in, wire);
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  Ack out;
  REQUIRE(decode_ack(f, v, out).ok());
  CHECK(diff(in, out) == nullptr);
}

}  // namespace

TEST_CASE("PUBLISH goldens decode field by field", "[mqtt][codec]") {
  const auto all = goldens();
  Publish p;
  SECTION("3.1.1 QoS 0") {
    REQUIRE(decode_publish_bytes(all[6].wire, Version::V311, p).ok());
    CHECK(p.topic == "a/b");
    CHECK(p.qos == 0);
    CHECK(p.packet_id == 0);
    CHECK_FALSE(p.dup);
    CHECK_FALSE(p.retain);
    CHECK(as_string(p.payload) == "hello");
  }
  SECTION("3.1.1 QoS 1 retained") {
    REQUIRE(decode_publish_bytes(all[7].wire, Version::V311, p).ok());
    CHECK(p.topic == "t");
    CHECK(p.qos == 1);
    CHECK(p.retain);
    CHECK(p.packet_id == 10);
    CHECK(as_string(p.payload) == "x");
  }
  SECTION("5.0 QoS 2 DUP with properties") {
    REQUIRE(decode_publish_bytes(all[8].wire, Version::V5, p).ok());
    CHECK(p.topic == "t/1");
    CHECK(p.qos == 2);
    CHECK(p.dup);
    CHECK(p.packet_id == 0x1234);
    CHECK(p.properties.payload_format_indicator == 1);
    CHECK(p.properties.content_type == "js");
    CHECK(p.properties.topic_alias == 5);
    CHECK(as_string(p.payload) == "{}");
  }
  SECTION("payload is a view into the input") {
    const Bytes& w = all[27].wire;
    REQUIRE(decode_publish_bytes(w, Version::V311, p).ok());
    CHECK(p.payload.size() == 200);
    CHECK(p.payload.data() == w.data() + 6);
    CHECK(reinterpret_cast<const std::uint8_t*>(p.topic.data()) == w.data() + 5);
  }
}

TEST_CASE("PUBLISH round trips in every version, QoS and flag", "[mqtt][codec]") {
  const Version v = GENERATE(Version::V31, Version::V311, Version::V5);
  const int qos = GENERATE(0, 1, 2);
  const bool dup = GENERATE(false, true);
  const bool retain = GENERATE(false, true);
  CAPTURE(static_cast<int>(v), qos, dup, retain);
  const Bytes payload = bytes({'h', 'e', 'l', 'l', 'o'});
  Publish p;
  p.topic = "sensors/\xC3\xA9t\xC3\xA9/temp";
  p.qos = static_cast<std::uint8_t>(qos);
  p.dup = dup;
  p.retain = retain;
  p.packet_id = qos > 0 ? 65535 : 0;
  p.payload = span(payload);
  check_round_trip(v, p);
  if (v == Version::V5) {
    p.properties = full_properties(PacketType::Publish);
    check_round_trip(v, p);
  }
}

TEST_CASE("PUBLISH payload sizes", "[mqtt][codec]") {
  const Version v = GENERATE(Version::V311, Version::V5);
  const std::size_t n = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{121}, std::size_t{122},
                                 std::size_t{16500}, std::size_t{2100000});
  CAPTURE(static_cast<int>(v), n);
  const Bytes payload(n, 0xA5);
  Publish p;
  p.topic = "t";
  p.qos = 1;
  p.packet_id = 1;
  p.payload = span(payload);
  check_round_trip(v, p);
}

TEST_CASE("encode_publish with QoS 0 writes no packet identifier", "[mqtt][codec]") {
  Publish p;
  p.topic = "a/b";
  p.packet_id = 55;  // ignored at QoS 0
  const Bytes payload = bytes({'x'});
  p.payload = span(payload);
  std::string wire;
  encode_publish(Version::V311, p, wire);
  CHECK(to_bytes(wire) == bytes({0x30, 0x06, 0x00, 0x03, 'a', '/', 'b', 'x'}));
  wire.clear();
  encode_publish(Version::V5, p, wire);
  CHECK(to_bytes(wire) == bytes({0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 'x'}));
}

TEST_CASE("encoders append to existing output", "[mqtt][codec]") {
  std::string wire = "prefix";
  Publish p;
  p.topic = "t";
  encode_publish(Version::V311, p, wire);
  encode_pingreq(wire);
  CHECK(wire.size() == 6 + 5 + 2);
  CHECK(wire.compare(0, 6, "prefix") == 0);
}

TEST_CASE("v5 PUBLISH with an empty topic and a topic alias", "[mqtt][codec]") {
  Publish p;
  p.topic = "";
  p.properties.topic_alias = 7;
  check_round_trip(Version::V5, p);
}

TEST_CASE("PUBLISH payload format indicator", "[mqtt][codec]") {
  Publish p;
  SECTION("1 with invalid UTF-8 payload is PayloadFormatInvalid") {
    const Bytes wire = publish_packet(0x30, bytes({0, 1, 't', 2, 0x01, 0x01, 0xC3, 0x28}));
    CHECK(decode_publish_bytes(wire, Version::V5, p).reason == Reason::PayloadFormatInvalid);
  }
  SECTION("1 with a surrogate in the payload") {
    const Bytes wire = publish_packet(0x30, bytes({0, 1, 't', 2, 0x01, 0x01, 0xED, 0xA0, 0x80}));
    CHECK(decode_publish_bytes(wire, Version::V5, p).reason == Reason::PayloadFormatInvalid);
  }
  SECTION("1 with U+0000 in the payload is character data, so fine") {
    const Bytes wire = publish_packet(0x30, bytes({0, 1, 't', 2, 0x01, 0x01, 'a', 0x00, 'b'}));
    CHECK(decode_publish_bytes(wire, Version::V5, p).ok());
  }
  SECTION("0 with the same bytes is fine") {
    const Bytes wire = publish_packet(0x30, bytes({0, 1, 't', 2, 0x01, 0x00, 0xC3, 0x28}));
    CHECK(decode_publish_bytes(wire, Version::V5, p).ok());
  }
  SECTION("absent with the same bytes is fine") {
    const Bytes wire = publish_packet(0x30, bytes({0, 1, 't', 0, 0xC3, 0x28}));
    CHECK(decode_publish_bytes(wire, Version::V5, p).ok());
  }
}

TEST_CASE("PUBLISH rejections", "[mqtt][codec]") {
  Publish p;
  SECTION("topic with '+' [MQTT-3.3.2-2]") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 3, 'a', '/', '+'})), Version::V311, p).reason ==
          Reason::TopicNameInvalid);
  }
  SECTION("topic with '#'") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 1, '#', 0})), Version::V5, p).reason ==
          Reason::TopicNameInvalid);
  }
  SECTION("topic not UTF-8") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 2, 0xC0, 0xAF})), Version::V311, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("topic with U+0000") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 3, 'a', 0, 'b'})), Version::V311, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("empty body") {
    CHECK(decode_publish_bytes(publish_packet(0x30, Bytes{}), Version::V311, p).reason == Reason::MalformedPacket);
  }
  SECTION("topic longer than the packet") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 9, 'a'})), Version::V311, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("QoS 1 without packet identifier") {
    CHECK(decode_publish_bytes(publish_packet(0x32, bytes({0, 1, 't', 0})), Version::V311, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("QoS 1 with packet identifier 0 [MQTT-2.2.1-3]") {
    CHECK(decode_publish_bytes(publish_packet(0x32, bytes({0, 1, 't', 0, 0})), Version::V311, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("QoS 2 with packet identifier 0") {
    CHECK(decode_publish_bytes(publish_packet(0x34, bytes({0, 1, 't', 0, 0, 0})), Version::V5, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("QoS 3 in a hand-made frame") {
    const Bytes body = bytes({0, 1, 't', 0, 1});
    Frame f;
    f.type = PacketType::Publish;
    f.flags = 0x06;
    f.body = span(body);
    f.total_size = body.size() + 2;
    CHECK(decode_publish(f, Version::V311, p).reason == Reason::MalformedPacket);
  }
  SECTION("v5 topic alias 0 [MQTT-3.3.2-8]") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 1, 't', 3, 0x23, 0, 0})), Version::V5, p).reason ==
          Reason::TopicAliasInvalid);
  }
  SECTION("v5 empty topic without topic alias") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 0, 0, 'x'})), Version::V5, p).reason ==
          Reason::ProtocolError);
  }
  SECTION("v3 empty topic") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 0, 'x'})), Version::V311, p).reason ==
          Reason::MalformedPacket);
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 0, 'x'})), Version::V31, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 property length missing") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 1, 't'})), Version::V5, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 property length beyond the packet") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 1, 't', 9, 0x01, 0x01})), Version::V5, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 property not allowed on PUBLISH") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 1, 't', 5, 0x11, 0, 0, 0, 1})), Version::V5, p)
              .reason == Reason::MalformedPacket);
  }
  SECTION("v5 duplicate topic alias") {
    CHECK(decode_publish_bytes(publish_packet(0x30, bytes({0, 1, 't', 6, 0x23, 0, 1, 0x23, 0, 2})), Version::V5, p)
              .reason == Reason::ProtocolError);
  }
  SECTION("not a PUBLISH frame") {
    Frame f;
    const Bytes wire = bytes({0x40, 0x02, 0x00, 0x01});
    REQUIRE(frame_whole(span(wire), f));
    CHECK(decode_publish(f, Version::V311, p).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("acknowledgement goldens decode", "[mqtt][codec]") {
  const auto all = goldens();
  Ack a;
  REQUIRE(decode_ack_bytes(all[9].wire, Version::V311, a).ok());
  CHECK(a.type == PacketType::Puback);
  CHECK(a.packet_id == 10);
  CHECK(a.reason == Reason::Success);
  REQUIRE(decode_ack_bytes(all[10].wire, Version::V5, a).ok());
  CHECK(a.reason == Reason::NoMatchingSubscribers);
  REQUIRE(decode_ack_bytes(all[11].wire, Version::V5, a).ok());
  CHECK(a.type == PacketType::Pubrec);
  CHECK(a.packet_id == 11);
  CHECK(a.reason == Reason::UnspecifiedError);
  CHECK(a.properties.reason_string == "bad");
  REQUIRE(decode_ack_bytes(all[12].wire, Version::V311, a).ok());
  CHECK(a.type == PacketType::Pubrel);
  REQUIRE(decode_ack_bytes(all[13].wire, Version::V5, a).ok());
  CHECK(a.type == PacketType::Pubcomp);
  CHECK(a.reason == Reason::Success);
  CHECK_FALSE(a.properties.reason_string);  // reset from the previous decode
}

TEST_CASE("acknowledgements round trip", "[mqtt][codec]") {
  const PacketType type = GENERATE(PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp);
  CAPTURE(static_cast<int>(type));
  SECTION("v3") {
    const Version v = GENERATE(Version::V31, Version::V311);
    Ack a;
    a.type = type;
    a.packet_id = 0xBEEF;
    std::string wire;
    encode_ack(v, a, wire);
    CHECK(wire.size() == 4);
    check_round_trip(v, a);
  }
  SECTION("v5 every allowed reason code, with and without properties") {
    const bool pub = type == PacketType::Puback || type == PacketType::Pubrec;
    const std::vector<int> codes = pub ? std::vector<int>{0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99}
                                       : std::vector<int>{0x00, 0x92};
    for (int code : codes) {
      CAPTURE(code);
      Ack a;
      a.type = type;
      a.packet_id = 1;
      a.reason = static_cast<Reason>(code);
      check_round_trip(Version::V5, a);
      a.properties = full_properties(type);
      check_round_trip(Version::V5, a);
    }
  }
}

TEST_CASE("v5 acknowledgements use the shortest form", "[mqtt][codec]") {
  Ack a;
  a.type = PacketType::Pubrel;
  a.packet_id = 10;
  std::string wire;
  SECTION("Success without properties: 2 bytes") {
    encode_ack(Version::V5, a, wire);
    CHECK(to_bytes(wire) == bytes({0x62, 0x02, 0x00, 0x0A}));
  }
  SECTION("reason without properties: 3 bytes") {
    a.reason = Reason::PacketIdentifierNotFound;
    encode_ack(Version::V5, a, wire);
    CHECK(to_bytes(wire) == bytes({0x62, 0x03, 0x00, 0x0A, 0x92}));
  }
  SECTION("Success with properties keeps the reason code") {
    a.properties.reason_string = "r";
    encode_ack(Version::V5, a, wire);
    CHECK(to_bytes(wire) == bytes({0x62, 0x08, 0x00, 0x0A, 0x00, 0x04, 0x1F, 0x00, 0x01, 'r'}));
  }
}

TEST_CASE("v5 acknowledgements accept every legal length", "[mqtt][codec]") {
  Ack a;
  SECTION("reason code and empty property block") {
    REQUIRE(decode_ack_bytes(bytes({0x40, 0x04, 0x00, 0x01, 0x00, 0x00}), Version::V5, a).ok());
    CHECK(a.reason == Reason::Success);
  }
  SECTION("reason code only") {
    REQUIRE(decode_ack_bytes(bytes({0x70, 0x03, 0x00, 0x01, 0x92}), Version::V5, a).ok());
    CHECK(a.reason == Reason::PacketIdentifierNotFound);
  }
}

TEST_CASE("acknowledgement rejections", "[mqtt][codec]") {
  Ack a;
  SECTION("v3 with a reason code byte") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x03, 0x00, 0x01, 0x00}), Version::V311, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v3 too short") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x01, 0x00}), Version::V311, a).reason == Reason::MalformedPacket);
    CHECK(decode_ack_bytes(bytes({0x50, 0x00}), Version::V31, a).reason == Reason::MalformedPacket);
  }
  SECTION("v5 too short") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x01, 0x01}), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("packet identifier 0") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x02, 0x00, 0x00}), Version::V311, a).reason == Reason::MalformedPacket);
    CHECK(decode_ack_bytes(bytes({0x62, 0x02, 0x00, 0x00}), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("v5 PUBACK with a PUBREL-only reason code") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x03, 0x00, 0x01, 0x92}), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 PUBCOMP with a PUBACK-only reason code") {
    CHECK(decode_ack_bytes(bytes({0x70, 0x03, 0x00, 0x01, 0x10}), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 undefined reason code") {
    CHECK(decode_ack_bytes(bytes({0x50, 0x03, 0x00, 0x01, 0x05}), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 property not allowed on acknowledgements") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01}), Version::V5, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 property length beyond the packet") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x05, 0x00, 0x01, 0x00, 0x05, 0x1F}), Version::V5, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 trailing bytes after properties") {
    CHECK(decode_ack_bytes(bytes({0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xAA}), Version::V5, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("not an acknowledgement frame") {
    Frame f;
    const Bytes wire = bytes({0xB0, 0x02, 0x00, 0x01});
    REQUIRE(frame_whole(span(wire), f));
    CHECK(decode_ack(f, Version::V5, a).reason == Reason::MalformedPacket);
  }
}
