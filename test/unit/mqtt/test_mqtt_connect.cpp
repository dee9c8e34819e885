// CONNECT [MQTT-3.1] and CONNACK [MQTT-3.2]: golden decodes, round trips in
// every version (with every allowed v5 property), and every rejection.
#include <catch2/catch.hpp>

#include "mqtt_property_samples.h"

using namespace mqtt_testkit;

namespace {

Status decode_connect_bytes(const Bytes& wire, Connect& out) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return decode_connect(f, out);
}

Status decode_connack_bytes(const Bytes& wire, Version v, Connack& out) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return decode_connack(f, v, out);
}

// A CONNECT built from its variable header and payload, with the remaining
// length computed (all test packets are shorter than 128 bytes).
Bytes connect_packet(const Bytes& body) {
  REQUIRE(body.size() < 128);
  return cat({bytes({0x10, static_cast<int>(body.size())}), body});
}

const Bytes kV311Header = bytes({0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04});
const Bytes kV5Header = bytes({0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05});

void check_round_trip(const Connect& in) {
  std::string wire;
  encode_connect(in, wire);
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  Connect out;
  const Status st = decode_connect(f, out);
  REQUIRE(st.ok());
  CHECK(diff(in, out) == nullptr);
  CHECK(out.protocol_name == (in.version == Version::V31 ? "MQIsdp" : "MQTT"));
}

}  // namespace

TEST_CASE("CONNECT goldens decode field by field", "[mqtt][codec]") {
  const auto all = goldens();
  Connect c;
  SECTION("3.1.1") {
    REQUIRE(decode_connect_bytes(all[0].wire, c).ok());
    CHECK(c.version == Version::V311);
    CHECK(c.protocol_name == "MQTT");
    CHECK(c.clean_start);
    CHECK(c.keep_alive == 60);
    CHECK(c.client_id == "abc");
    CHECK_FALSE(c.will);
    CHECK_FALSE(c.username);
    CHECK_FALSE(c.password);
  }
  SECTION("3.1 with will, user name and password") {
    REQUIRE(decode_connect_bytes(all[1].wire, c).ok());
    CHECK(c.version == Version::V31);
    CHECK(c.protocol_name == "MQIsdp");
    CHECK(c.keep_alive == 10);
    CHECK(c.client_id == "c1");
    REQUIRE(c.will);
    CHECK(c.will->topic == "w/t");
    CHECK(as_string(c.will->payload) == "bye");
    CHECK(c.will->qos == 1);
    CHECK(c.will->retain);
    CHECK(c.username == "u");
    REQUIRE(c.password);
    CHECK(as_string(*c.password) == "pw");
  }
  SECTION("5.0 with properties") {
    REQUIRE(decode_connect_bytes(all[2].wire, c).ok());
    CHECK(c.version == Version::V5);
    CHECK(c.keep_alive == 30);
    CHECK(c.client_id.empty());
    CHECK(c.properties.session_expiry_interval == 10);
    CHECK(c.properties.receive_maximum == 20);
    REQUIRE(c.properties.user_properties.size() == 1);
    CHECK(c.properties.user_properties[0].name == "k");
    CHECK(c.properties.user_properties[0].value == "v");
  }
  SECTION("5.0 with will properties") {
    REQUIRE(decode_connect_bytes(all[3].wire, c).ok());
    REQUIRE(c.will);
    CHECK(c.will->qos == 0);
    CHECK_FALSE(c.will->retain);
    CHECK(c.will->topic == "t");
    CHECK(as_string(c.will->payload) == "hi");
    CHECK(c.will->properties.payload_format_indicator == 1);
    CHECK(c.will->properties.will_delay_interval == 5);
    CHECK(c.properties.user_properties.empty());
  }
}

TEST_CASE("CONNECT round trips in every version", "[mqtt][codec]") {
  const Version v = GENERATE(Version::V31, Version::V311, Version::V5);
  CAPTURE(static_cast<int>(v));
  const Bytes will_payload = bytes({'b', 'y', 'e'});
  const Bytes binary_password = bytes({0x00, 0xFF, 0x80, 's'});

  Connect c;
  c.version = v;
  c.client_id = "client-1";
  c.keep_alive = 65535;
  SECTION("minimal") { check_round_trip(c); }
  SECTION("empty client id, clean start") {
    c.client_id = "";
    c.clean_start = true;
    c.keep_alive = 0;
    check_round_trip(c);
  }
  SECTION("3.1 client ids longer than 23 bytes are the front-end's business") {
    c.client_id = "a-client-identifier-longer-than-23-bytes";
    check_round_trip(c);
  }
  SECTION("will with each QoS and retain") {
    const std::uint8_t qos = GENERATE(0, 1, 2);
    const bool retain = GENERATE(false, true);
    c.will.emplace();
    c.will->topic = "clients/1/status";
    c.will->payload = span(will_payload);
    c.will->qos = qos;
    c.will->retain = retain;
    check_round_trip(c);
  }
  SECTION("empty will payload") {
    c.will.emplace();
    c.will->topic = "t";
    check_round_trip(c);
  }
  SECTION("user name only") {
    c.username = "user";
    check_round_trip(c);
  }
  SECTION("user name and binary password") {
    c.username = "";
    c.password = span(binary_password);
    check_round_trip(c);
  }
  SECTION("everything") {
    c.clean_start = true;
    c.will.emplace();
    c.will->topic = "w";
    c.will->payload = span(will_payload);
    c.will->qos = 2;
    c.will->retain = true;
    c.username = "u\xC3\xA9";
    c.password = span(binary_password);
    if (v == Version::V5) {
      c.properties = full_properties(PacketType::Connect);
      c.will->properties = full_properties(kWillContext);
    }
    check_round_trip(c);
  }
}

TEST_CASE("v5 CONNECT may carry a password without a user name", "[mqtt][codec]") {
  const Bytes pw = bytes({'t', 'o', 'k'});
  Connect c;
  c.version = Version::V5;
  c.password = span(pw);
  check_round_trip(c);

  // The same flags in 3.1.1 are refused.
  Connect bad;
  const Bytes wire = connect_packet(cat({kV311Header, bytes({0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'p'})}));
  CHECK(decode_connect_bytes(wire, bad).reason == Reason::MalformedPacket);
}

TEST_CASE("CONNECT rejections", "[mqtt][codec]") {
  Connect c;
  // flags, keep alive, then payload; for v3.1.1 unless noted.
  auto v311 = [](const Bytes& rest) { return connect_packet(cat({kV311Header, rest})); };
  auto v5 = [](const Bytes& rest) { return connect_packet(cat({kV5Header, rest})); };

  SECTION("protocol level 3 with name MQTT") {
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 4, 'M', 'Q', 'T', 'T', 3, 0, 0, 0, 0, 0})), c).reason ==
          Reason::UnsupportedProtocolVersion);
  }
  SECTION("protocol level 6") {
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 4, 'M', 'Q', 'T', 'T', 6, 0, 0, 0, 0, 0})), c).reason ==
          Reason::UnsupportedProtocolVersion);
  }
  SECTION("MQIsdp with level 4") {
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 4, 0, 0, 0, 0, 0})), c)
              .reason == Reason::UnsupportedProtocolVersion);
  }
  SECTION("unknown protocol name") {
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 4, 'M', 'Q', 'T', 'X', 4, 0, 0, 0, 0, 0})), c).reason ==
          Reason::UnsupportedProtocolVersion);
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 4, 'm', 'q', 't', 't', 4, 0, 0, 0, 0, 0})), c).reason ==
          Reason::UnsupportedProtocolVersion);
  }
  SECTION("truncated protocol name") {
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 4, 'M', 'Q'})), c).reason == Reason::MalformedPacket);
  }
  SECTION("missing protocol level") {
    CHECK(decode_connect_bytes(connect_packet(bytes({0, 4, 'M', 'Q', 'T', 'T'})), c).reason == Reason::MalformedPacket);
  }
  SECTION("missing keep alive") {
    CHECK(decode_connect_bytes(v311(bytes({0x02, 0x00})), c).reason == Reason::MalformedPacket);
  }
  SECTION("reserved connect flag [MQTT-3.1.2-3]") {
    CHECK(decode_connect_bytes(v311(bytes({0x03, 0, 0, 0, 0})), c).reason == Reason::MalformedPacket);
    CHECK(decode_connect_bytes(v5(bytes({0x01, 0, 0, 0, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("will QoS without will flag") {
    CHECK(decode_connect_bytes(v311(bytes({0x08, 0, 0, 0, 0})), c).reason == Reason::MalformedPacket);
    CHECK(decode_connect_bytes(v311(bytes({0x10, 0, 0, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("will retain without will flag") {
    CHECK(decode_connect_bytes(v311(bytes({0x20, 0, 0, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("will QoS 3") {
    CHECK(decode_connect_bytes(v311(bytes({0x1C, 0, 0, 0, 0, 0, 1, 't', 0, 0})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("password without user name in 3.1.1") {
    CHECK(decode_connect_bytes(v311(bytes({0x40, 0, 0, 0, 0, 0, 1, 'p'})), c).reason == Reason::MalformedPacket);
  }
  SECTION("password without user name in 3.1") {
    const Bytes wire = connect_packet(bytes({0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x40, 0, 0, 0, 0, 0, 1, 'p'}));
    CHECK(decode_connect_bytes(wire, c).reason == Reason::MalformedPacket);
  }
  SECTION("client id missing") {
    CHECK(decode_connect_bytes(v311(bytes({0x02, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("client id truncated") {
    CHECK(decode_connect_bytes(v311(bytes({0x02, 0, 0, 0, 5, 'a', 'b'})), c).reason == Reason::MalformedPacket);
  }
  SECTION("client id not UTF-8") {
    CHECK(decode_connect_bytes(v311(bytes({0x02, 0, 0, 0, 2, 0xC0, 0x80})), c).reason == Reason::MalformedPacket);
  }
  SECTION("client id with U+0000") {
    CHECK(decode_connect_bytes(v311(bytes({0x02, 0, 0, 0, 1, 0x00})), c).reason == Reason::MalformedPacket);
  }
  SECTION("will topic missing") {
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c'})), c).reason == Reason::MalformedPacket);
  }
  SECTION("will payload missing") {
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c', 0, 1, 't'})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("will payload truncated") {
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c', 0, 1, 't', 0, 3, 'x'})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("will topic not UTF-8") {
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c', 0, 1, 0xFF, 0, 0})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("will topic with a wildcard") {
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c', 0, 3, 'a', '/', '#', 0, 0})), c).reason ==
          Reason::TopicNameInvalid);
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c', 0, 1, '+', 0, 0})), c).reason ==
          Reason::TopicNameInvalid);
  }
  SECTION("empty will topic") {
    CHECK(decode_connect_bytes(v311(bytes({0x06, 0, 0, 0, 1, 'c', 0, 0, 0, 0})), c).reason ==
          Reason::TopicNameInvalid);
  }
  SECTION("user name missing") {
    CHECK(decode_connect_bytes(v311(bytes({0x82, 0, 0, 0, 1, 'c'})), c).reason == Reason::MalformedPacket);
  }
  SECTION("user name not UTF-8") {
    CHECK(decode_connect_bytes(v311(bytes({0x82, 0, 0, 0, 1, 'c', 0, 1, 0x80})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("password missing") {
    CHECK(decode_connect_bytes(v311(bytes({0xC2, 0, 0, 0, 1, 'c', 0, 1, 'u'})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("trailing bytes") {
    CHECK(decode_connect_bytes(v311(bytes({0x02, 0, 0, 0, 1, 'c', 'x'})), c).reason == Reason::MalformedPacket);
    CHECK(decode_connect_bytes(v311(bytes({0x82, 0, 0, 0, 1, 'c', 0, 1, 'u', 0, 0})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 properties missing") {
    CHECK(decode_connect_bytes(v5(bytes({0x02, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("v5 property not allowed on CONNECT") {
    CHECK(decode_connect_bytes(v5(bytes({0x02, 0, 0, 3, 0x23, 0, 1, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("v5 duplicate CONNECT property") {
    CHECK(decode_connect_bytes(v5(bytes({0x02, 0, 0, 4, 0x17, 1, 0x17, 1, 0, 0})), c).reason ==
          Reason::ProtocolError);
  }
  SECTION("v5 receive maximum 0") {
    CHECK(decode_connect_bytes(v5(bytes({0x02, 0, 0, 3, 0x21, 0, 0, 0, 0})), c).reason == Reason::ProtocolError);
  }
  SECTION("v5 will property not allowed on a will") {
    CHECK(decode_connect_bytes(v5(bytes({0x06, 0, 0, 0, 0, 0, 5, 0x11, 0, 0, 0, 1, 0, 1, 't', 0, 0})), c).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 will properties missing") {
    CHECK(decode_connect_bytes(v5(bytes({0x06, 0, 0, 0, 0, 0})), c).reason == Reason::MalformedPacket);
  }
  SECTION("v5 will marked UTF-8 with a non-UTF-8 payload") {
    CHECK(decode_connect_bytes(v5(bytes({0x06, 0, 0, 0, 0, 0, 2, 0x01, 0x01, 0, 1, 't', 0, 2, 0xC3, 0x28})), c)
              .reason == Reason::PayloadFormatInvalid);
    // Unmarked, the same bytes are fine.
    CHECK(decode_connect_bytes(v5(bytes({0x06, 0, 0, 0, 0, 0, 0, 0, 1, 't', 0, 2, 0xC3, 0x28})), c).ok());
  }
  SECTION("not a CONNECT frame") {
    Frame f;
    const Bytes wire = bytes({0x20, 0x02, 0x00, 0x00});
    REQUIRE(frame_whole(span(wire), f));
    CHECK(decode_connect(f, c).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("decode_connect resets optional parts of a reused struct", "[mqtt][codec]") {
  const auto all = goldens();
  Connect c;
  REQUIRE(decode_connect_bytes(all[1].wire, c).ok());  // will, user name, password
  REQUIRE(c.will);
  REQUIRE(decode_connect_bytes(all[2].wire, c).ok());  // none of those, but v5 properties
  CHECK_FALSE(c.will);
  CHECK_FALSE(c.username);
  CHECK_FALSE(c.password);
  CHECK(c.properties.receive_maximum == 20);
  REQUIRE(decode_connect_bytes(all[0].wire, c).ok());  // v3.1.1: properties cleared
  CHECK_FALSE(c.properties.receive_maximum);
  CHECK(c.properties.user_properties.empty());
}

TEST_CASE("CONNACK goldens decode", "[mqtt][codec]") {
  const auto all = goldens();
  Connack a;
  REQUIRE(decode_connack_bytes(all[4].wire, Version::V311, a).ok());
  CHECK(a.session_present);
  CHECK(a.code == 0);
  REQUIRE(decode_connack_bytes(all[5].wire, Version::V5, a).ok());
  CHECK_FALSE(a.session_present);
  CHECK(a.properties.maximum_qos == 1);
  CHECK(a.properties.retain_available == 0);
}

TEST_CASE("CONNACK round trips", "[mqtt][codec]") {
  SECTION("v3 return codes 0-5") {
    const Version v = GENERATE(Version::V31, Version::V311);
    for (std::uint8_t code = 0; code <= 5; ++code) {
      Connack in;
      in.code = code;
      in.session_present = code == 0 && v == Version::V311;
      std::string wire;
      encode_connack(v, in, wire);
      CHECK(wire.size() == 4);
      Frame f;
      REQUIRE(frame_whole(span(wire), f));
      Connack out;
      REQUIRE(decode_connack(f, v, out).ok());
      CHECK(diff(in, out) == nullptr);
    }
  }
  SECTION("v5 every CONNACK reason code with every CONNACK property") {
    const int code = GENERATE(0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
                              0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F);
    CAPTURE(code);
    Connack in;
    in.code = static_cast<std::uint8_t>(code);
    in.session_present = code == 0;
    in.properties = full_properties(PacketType::Connack);
    std::string wire;
    encode_connack(Version::V5, in, wire);
    Frame f;
    REQUIRE(frame_whole(span(wire), f));
    Connack out;
    REQUIRE(decode_connack(f, Version::V5, out).ok());
    CHECK(diff(in, out) == nullptr);
  }
  SECTION("v5 without properties still writes a property length") {
    std::string wire;
    encode_connack(Version::V5, Connack{}, wire);
    CHECK(to_bytes(wire) == bytes({0x20, 0x03, 0x00, 0x00, 0x00}));
  }
  SECTION("3.1 has no session present flag") {
    Connack in;
    in.session_present = true;
    std::string wire;
    encode_connack(Version::V31, in, wire);
    CHECK(to_bytes(wire) == bytes({0x20, 0x02, 0x00, 0x00}));
    Connack out;
    REQUIRE(decode_connack_bytes(bytes({0x20, 0x02, 0x01, 0x00}), Version::V31, out).ok());
    CHECK_FALSE(out.session_present);
  }
}

TEST_CASE("CONNACK rejections", "[mqtt][codec]") {
  Connack a;
  SECTION("v3 too short") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x01, 0x00}), Version::V311, a).reason == Reason::MalformedPacket);
  }
  SECTION("v3 too long") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x03, 0x00, 0x00, 0x00}), Version::V311, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("reserved acknowledge flags [MQTT-3.2.2-1]") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x02, 0x02, 0x00}), Version::V311, a).reason == Reason::MalformedPacket);
    CHECK(decode_connack_bytes(bytes({0x20, 0x03, 0x80, 0x00, 0x00}), Version::V5, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v3 return code above 5") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x02, 0x00, 0x06}), Version::V311, a).reason == Reason::ProtocolError);
  }
  SECTION("session present with a failure code") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x02, 0x01, 0x05}), Version::V311, a).reason == Reason::ProtocolError);
    CHECK(decode_connack_bytes(bytes({0x20, 0x03, 0x01, 0x87, 0x00}), Version::V5, a).reason ==
          Reason::ProtocolError);
  }
  SECTION("v5 without property length") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x02, 0x00, 0x00}), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("v5 reason code not defined for CONNACK") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x03, 0x00, 0x01, 0x00}), Version::V5, a).reason ==
          Reason::ProtocolError);
    CHECK(decode_connack_bytes(bytes({0x20, 0x03, 0x00, 0x8E, 0x00}), Version::V5, a).reason ==
          Reason::ProtocolError);
  }
  SECTION("v5 property not allowed on CONNACK") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x08, 0x00, 0x00, 0x05, 0x18, 0, 0, 0, 1}), Version::V5, a).reason ==
          Reason::MalformedPacket);
  }
  SECTION("v5 trailing bytes") {
    CHECK(decode_connack_bytes(bytes({0x20, 0x04, 0x00, 0x00, 0x00, 0x00}), Version::V5, a).reason ==
          Reason::MalformedPacket);
  }
}
