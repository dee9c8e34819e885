// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK [MQTT-3.8..3.11].
#include <catch2/catch.hpp>

#include "mqtt_property_samples.h"

using namespace mqtt_testkit;

namespace {

template <class T, class Dec>
Status decode_bytes(const Bytes& wire, T& out, Dec dec) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return dec(f, out);
}

Status sub(const Bytes& wire, Version v, Subscribe& out) {
  return decode_bytes(wire, out, [v](const Frame& f, Subscribe& o) { return decode_subscribe(f, v, o); });
}
Status suback(const Bytes& wire, Version v, SubAck& out) {
  return decode_bytes(wire, out, [v](const Frame& f, SubAck& o) { return decode_suback(f, v, o); });
}
Status unsub(const Bytes& wire, Version v, Unsubscribe& out) {
  return decode_bytes(wire, out, [v](const Frame& f, Unsubscribe& o) { return decode_unsubscribe(f, v, o); });
}

Bytes packet(int first, const Bytes& body) {
  REQUIRE(body.size() < 128);
  return cat({bytes({first, static_cast<int>(body.size())}), body});
}

}  // namespace

TEST_CASE("SUBSCRIBE goldens decode", "[mqtt][codec]") {
  const auto all = goldens();
  Subscribe s;
  SECTION("3.1.1") {
    REQUIRE(sub(all[14].wire, Version::V311, s).ok());
    CHECK(s.packet_id == 1);
    REQUIRE(s.topics.size() == 1);
    CHECK(s.topics[0].filter == "a/+");
    CHECK(s.topics[0].qos == 1);
  }
  SECTION("5.0 with options and a subscription identifier") {
    REQUIRE(sub(all[15].wire, Version::V5, s).ok());
    CHECK(s.packet_id == 2);
    CHECK(s.properties.subscription_identifiers == std::vector<std::uint32_t>{7});
    REQUIRE(s.topics.size() == 1);
    const SubscribeTopic& t = s.topics[0];
    CHECK(t.filter == "a/#");
    CHECK(t.qos == 2);
    CHECK(t.no_local);
    CHECK(t.retain_as_published);
    CHECK(t.retain_handling == 1);
  }
}

TEST_CASE("SUBSCRIBE round trips", "[mqtt][codec]") {
  const Version v = GENERATE(Version::V31, Version::V311, Version::V5);
  CAPTURE(static_cast<int>(v));
  Subscribe s;
  s.packet_id = 0x0102;
  for (std::uint8_t qos = 0; qos < 3; ++qos) s.topics.push_back({"a/+/c", qos, false, false, 0});
  s.topics.push_back({"#", 0, false, false, 0});
  s.topics.push_back({"$share/g/x", 1, false, false, 0});
  if (v == Version::V5) {
    for (std::uint8_t rh = 0; rh < 3; ++rh) {
      s.topics.push_back({"x/y", 2, true, false, rh});
      s.topics.push_back({"x/z", 1, false, true, rh});
    }
    s.properties = full_properties(PacketType::Subscribe);
  }
  std::string wire;
  encode_subscribe(v, s, wire);
  CHECK(static_cast<std::uint8_t>(wire[0]) == 0x82);
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  Subscribe out;
  out.topics.push_back({"stale", 0, false, false, 0});
  REQUIRE(decode_subscribe(f, v, out).ok());
  CHECK(diff(s, out) == nullptr);
}

TEST_CASE("v3 SUBSCRIBE encoding ignores v5-only options", "[mqtt][codec]") {
  Subscribe s;
  s.packet_id = 1;
  s.topics.push_back({"t", 1, true, true, 2});
  std::string wire;
  encode_subscribe(Version::V311, s, wire);
  CHECK(to_bytes(wire) == bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x01}));
}

TEST_CASE("SUBSCRIBE rejections", "[mqtt][codec]") {
  Subscribe s;
  SECTION("no topic filters in 3.1.1 [MQTT-3.8.3-3]") {
    CHECK(sub(packet(0x82, bytes({0, 1})), Version::V311, s).reason == Reason::ProtocolError);
  }
  SECTION("no topic filters in 5.0 [MQTT-3.8.3-2]") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0})), Version::V5, s).reason == Reason::ProtocolError);
  }
  SECTION("packet identifier 0") {
    CHECK(sub(packet(0x82, bytes({0, 0, 0, 1, 't', 0})), Version::V311, s).reason == Reason::MalformedPacket);
    CHECK(sub(packet(0x82, bytes({0, 0, 0, 0, 1, 't', 0})), Version::V5, s).reason == Reason::MalformedPacket);
  }
  SECTION("packet identifier missing") {
    CHECK(sub(packet(0x82, bytes({0})), Version::V311, s).reason == Reason::MalformedPacket);
  }
  SECTION("v3 reserved option bits [MQTT-3-8.3-4]") {
    for (int opts : {0x04, 0x08, 0x10, 0x20, 0x40, 0x80}) {
      CAPTURE(opts);
      CHECK(sub(packet(0x82, bytes({0, 1, 0, 1, 't', opts})), Version::V311, s).reason == Reason::MalformedPacket);
    }
  }
  SECTION("v3 QoS 3") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 1, 't', 3})), Version::V311, s).reason == Reason::MalformedPacket);
  }
  SECTION("v5 reserved option bits 6-7 [MQTT-3.8.3-5]") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 0, 1, 't', 0x40})), Version::V5, s).reason == Reason::MalformedPacket);
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 0, 1, 't', 0x80})), Version::V5, s).reason == Reason::MalformedPacket);
  }
  SECTION("v5 QoS 3") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 0, 1, 't', 0x03})), Version::V5, s).reason == Reason::ProtocolError);
  }
  SECTION("v5 retain handling 3") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 0, 1, 't', 0x30})), Version::V5, s).reason == Reason::ProtocolError);
  }
  SECTION("options byte missing") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 1, 't'})), Version::V311, s).reason == Reason::MalformedPacket);
  }
  SECTION("second filter truncated") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 1, 't', 0, 0, 5, 'x'})), Version::V311, s).reason ==
          Reason::MalformedPacket);
  }
  SECTION("filter not UTF-8") {
    CHECK(sub(packet(0x82, bytes({0, 1, 0, 1, 0xFF, 0})), Version::V311, s).reason == Reason::MalformedPacket);
  }
  SECTION("v5 two subscription identifiers") {
    CHECK(sub(packet(0x82, bytes({0, 1, 4, 0x0B, 1, 0x0B, 2, 0, 1, 't', 0})), Version::V5, s).reason ==
          Reason::ProtocolError);
  }
  SECTION("v5 subscription identifier 0") {
    CHECK(sub(packet(0x82, bytes({0, 1, 2, 0x0B, 0, 0, 1, 't', 0})), Version::V5, s).reason ==
          Reason::ProtocolError);
  }
  SECTION("v5 property not allowed on SUBSCRIBE") {
    CHECK(sub(packet(0x82, bytes({0, 1, 2, 0x01, 0, 0, 1, 't', 0})), Version::V5, s).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 property length missing") {
    CHECK(sub(packet(0x82, bytes({0, 1})), Version::V5, s).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("filter syntax is left to the front-end", "[mqtt][codec]") {
  // v5 answers a bad filter per topic in SUBACK (0x8F) rather than closing.
  Subscribe s;
  const Bytes wire = packet(0x82, bytes({0, 1, 0, 3, 'a', '#', 'b', 0, 0, 0, 0}));
  REQUIRE(sub(wire, Version::V311, s).ok());
  REQUIRE(s.topics.size() == 2);
  CHECK(s.topics[0].filter == "a#b");
  CHECK(s.topics[1].filter.empty());
}

TEST_CASE("SUBACK and UNSUBACK goldens decode", "[mqtt][codec]") {
  const auto all = goldens();
  SubAck a;
  REQUIRE(suback(all[16].wire, Version::V311, a).ok());
  CHECK(a.type == PacketType::Suback);
  CHECK(a.packet_id == 1);
  CHECK(a.codes == std::vector<std::uint8_t>{0x01, 0x80});
  REQUIRE(suback(all[17].wire, Version::V5, a).ok());
  CHECK(a.codes == std::vector<std::uint8_t>{0x02});
  REQUIRE(suback(all[19].wire, Version::V311, a).ok());
  CHECK(a.type == PacketType::Unsuback);
  CHECK(a.packet_id == 3);
  CHECK(a.codes.empty());
  REQUIRE(suback(all[20].wire, Version::V5, a).ok());
  CHECK(a.codes == std::vector<std::uint8_t>{0x11});
}

TEST_CASE("SUBACK and UNSUBACK round trip", "[mqtt][codec]") {
  const Version v = GENERATE(Version::V31, Version::V311, Version::V5);
  const PacketType type = GENERATE(PacketType::Suback, PacketType::Unsuback);
  CAPTURE(static_cast<int>(v), static_cast<int>(type));
  SubAck a;
  a.type = type;
  a.packet_id = 77;
  if (type == PacketType::Suback) {
    a.codes = v == Version::V5 ? std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97,
                                                           0x9E, 0xA1, 0xA2}
                               : std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0x80};
  } else if (v == Version::V5) {
    a.codes = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
  }
  if (v == Version::V5) a.properties = full_properties(type);
  std::string wire;
  encode_suback(v, a, wire);
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  SubAck out;
  REQUIRE(decode_suback(f, v, out).ok());
  CHECK(diff(a, out) == nullptr);
}

TEST_CASE("v3 UNSUBACK encodes the packet identifier only", "[mqtt][codec]") {
  SubAck a;
  a.type = PacketType::Unsuback;
  a.packet_id = 3;
  a.codes = {0x00};  // no place for it in 3.1.1
  std::string wire;
  encode_suback(Version::V311, a, wire);
  CHECK(to_bytes(wire) == bytes({0xB0, 0x02, 0x00, 0x03}));
}

TEST_CASE("SUBACK and UNSUBACK rejections", "[mqtt][codec]") {
  SubAck a;
  SECTION("v3 SUBACK without return codes") {
    CHECK(suback(packet(0x90, bytes({0, 1})), Version::V311, a).reason == Reason::ProtocolError);
  }
  SECTION("v3 SUBACK reserved return code [MQTT-3.9.3-2]") {
    CHECK(suback(packet(0x90, bytes({0, 1, 0x03})), Version::V311, a).reason == Reason::ProtocolError);
    CHECK(suback(packet(0x90, bytes({0, 1, 0x87})), Version::V311, a).reason == Reason::ProtocolError);
  }
  SECTION("v3 UNSUBACK with extra bytes") {
    CHECK(suback(packet(0xB0, bytes({0, 1, 0})), Version::V311, a).reason == Reason::MalformedPacket);
  }
  SECTION("packet identifier 0") {
    CHECK(suback(packet(0x90, bytes({0, 0, 0})), Version::V311, a).reason == Reason::MalformedPacket);
    CHECK(suback(packet(0xB0, bytes({0, 0})), Version::V311, a).reason == Reason::MalformedPacket);
  }
  SECTION("v5 SUBACK without reason codes") {
    CHECK(suback(packet(0x90, bytes({0, 1, 0})), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 UNSUBACK without reason codes") {
    CHECK(suback(packet(0xB0, bytes({0, 1, 0})), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 SUBACK with an UNSUBACK-only code") {
    CHECK(suback(packet(0x90, bytes({0, 1, 0, 0x11})), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 UNSUBACK with a SUBACK-only code") {
    CHECK(suback(packet(0xB0, bytes({0, 1, 0, 0x01})), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("v5 property not allowed on SUBACK") {
    CHECK(suback(packet(0x90, bytes({0, 1, 2, 0x24, 0, 0})), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("v5 property length missing") {
    CHECK(suback(packet(0x90, bytes({0, 1})), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("not a SUBACK frame") {
    Frame f;
    const Bytes wire = bytes({0x40, 0x02, 0x00, 0x01});
    REQUIRE(frame_whole(span(wire), f));
    CHECK(decode_suback(f, Version::V5, a).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("UNSUBSCRIBE goldens decode and round trips", "[mqtt][codec]") {
  const auto all = goldens();
  Unsubscribe u;
  REQUIRE(unsub(all[18].wire, Version::V311, u).ok());
  CHECK(u.packet_id == 3);
  CHECK(u.filters == std::vector<std::string_view>{"x"});

  const Version v = GENERATE(Version::V31, Version::V311, Version::V5);
  CAPTURE(static_cast<int>(v));
  Unsubscribe in;
  in.packet_id = 9;
  in.filters = {"a/+", "#", "$share/g/t", "\xC3\xA9"};
  if (v == Version::V5) in.properties = full_properties(PacketType::Unsubscribe);
  std::string wire;
  encode_unsubscribe(v, in, wire);
  CHECK(static_cast<std::uint8_t>(wire[0]) == 0xA2);
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  Unsubscribe out;
  REQUIRE(decode_unsubscribe(f, v, out).ok());
  CHECK(diff(in, out) == nullptr);
}

TEST_CASE("UNSUBSCRIBE rejections", "[mqtt][codec]") {
  Unsubscribe u;
  SECTION("no filters [MQTT-3.10.3-2]") {
    CHECK(unsub(packet(0xA2, bytes({0, 1})), Version::V311, u).reason == Reason::ProtocolError);
    CHECK(unsub(packet(0xA2, bytes({0, 1, 0})), Version::V5, u).reason == Reason::ProtocolError);
  }
  SECTION("packet identifier 0") {
    CHECK(unsub(packet(0xA2, bytes({0, 0, 0, 1, 'x'})), Version::V311, u).reason == Reason::MalformedPacket);
  }
  SECTION("filter truncated") {
    CHECK(unsub(packet(0xA2, bytes({0, 1, 0, 2, 'x'})), Version::V311, u).reason == Reason::MalformedPacket);
  }
  SECTION("filter not UTF-8") {
    CHECK(unsub(packet(0xA2, bytes({0, 1, 0, 1, 0x80})), Version::V311, u).reason == Reason::MalformedPacket);
  }
  SECTION("v5 property not allowed on UNSUBSCRIBE") {
    CHECK(unsub(packet(0xA2, bytes({0, 1, 2, 0x0B, 1, 0, 1, 'x'})), Version::V5, u).reason ==
          Reason::MalformedPacket);
  }
  SECTION("not an UNSUBSCRIBE frame") {
    Frame f;
    const Bytes wire = bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x00});
    REQUIRE(frame_whole(span(wire), f));
    CHECK(decode_unsubscribe(f, Version::V311, u).reason == Reason::MalformedPacket);
  }
}
