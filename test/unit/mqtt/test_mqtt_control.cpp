// PINGREQ/PINGRESP, DISCONNECT, AUTH [MQTT-3.12..3.15], reason names, and
// the golden set as a whole (decode, canonical re-encoding).
#include <catch2/catch.hpp>

#include "mqtt_property_samples.h"

#include <cstring>

using namespace mqtt_testkit;

namespace {

Status disconnect(const Bytes& wire, Version v, Disconnect& out) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return decode_disconnect(f, v, out);
}

Status auth(const Bytes& wire, Version v, Auth& out) {
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  return decode_auth(f, v, out);
}

}  // namespace

TEST_CASE("PINGREQ and PINGRESP encode to two bytes", "[mqtt][codec]") {
  std::string wire;
  encode_pingreq(wire);
  CHECK(to_bytes(wire) == bytes({0xC0, 0x00}));
  wire.clear();
  encode_pingresp(wire);
  CHECK(to_bytes(wire) == bytes({0xD0, 0x00}));
  Frame f;
  REQUIRE(frame_whole(span(wire), f));
  CHECK(f.type == PacketType::Pingresp);
}

TEST_CASE("DISCONNECT decodes", "[mqtt][codec]") {
  const auto all = goldens();
  Disconnect d;
  SECTION("v3 empty") {
    REQUIRE(disconnect(all[23].wire, Version::V311, d).ok());
    CHECK(d.reason == Reason::Success);
  }
  SECTION("v5 with reason and session expiry") {
    REQUIRE(disconnect(all[24].wire, Version::V5, d).ok());
    CHECK(d.reason == Reason::DisconnectWithWill);
    CHECK(d.properties.session_expiry_interval == 0);
  }
  SECTION("v5 remaining length 0 is a normal disconnection") {
    d.reason = Reason::ServerBusy;
    REQUIRE(disconnect(bytes({0xE0, 0x00}), Version::V5, d).ok());
    CHECK(d.reason == Reason::Success);
  }
  SECTION("v5 remaining length 1: reason code, no property length (3.14.2.2.1)") {
    REQUIRE(disconnect(bytes({0xE0, 0x01, 0x8E}), Version::V5, d).ok());
    CHECK(d.reason == Reason::SessionTakenOver);
  }
}

TEST_CASE("DISCONNECT round trips", "[mqtt][codec]") {
  SECTION("v3") {
    const Version v = GENERATE(Version::V31, Version::V311);
    std::string wire;
    encode_disconnect(v, Disconnect{}, wire);
    CHECK(to_bytes(wire) == bytes({0xE0, 0x00}));
    Frame f;
    REQUIRE(frame_whole(span(wire), f));
    Disconnect out;
    CHECK(decode_disconnect(f, v, out).ok());
  }
  SECTION("v5 every reason code, with and without properties") {
    const int code = GENERATE(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
                              0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1,
                              0xA2);
    const bool with_props = GENERATE(false, true);
    CAPTURE(code, with_props);
    Disconnect in;
    in.reason = static_cast<Reason>(code);
    if (with_props) in.properties = full_properties(PacketType::Disconnect);
    std::string wire;
    encode_disconnect(Version::V5, in, wire);
    if (!with_props) CHECK(wire.size() == (code == 0 ? 2u : 3u));  // shortest form
    Frame f;
    REQUIRE(frame_whole(span(wire), f));
    Disconnect out;
    REQUIRE(decode_disconnect(f, Version::V5, out).ok());
    CHECK(diff(in, out) == nullptr);
  }
}

TEST_CASE("DISCONNECT rejections", "[mqtt][codec]") {
  Disconnect d;
  SECTION("v3 with a body") {
    CHECK(disconnect(bytes({0xE0, 0x01, 0x00}), Version::V311, d).reason == Reason::MalformedPacket);
    CHECK(disconnect(bytes({0xE0, 0x01, 0x00}), Version::V31, d).reason == Reason::MalformedPacket);
  }
  SECTION("v5 reason code not defined for DISCONNECT") {
    CHECK(disconnect(bytes({0xE0, 0x01, 0x10}), Version::V5, d).reason == Reason::ProtocolError);
    CHECK(disconnect(bytes({0xE0, 0x01, 0x84}), Version::V5, d).reason == Reason::ProtocolError);
  }
  SECTION("v5 property not allowed on DISCONNECT") {
    CHECK(disconnect(bytes({0xE0, 0x04, 0x00, 0x02, 0x01, 0x01}), Version::V5, d).reason == Reason::MalformedPacket);
  }
  SECTION("v5 property length beyond the packet") {
    CHECK(disconnect(bytes({0xE0, 0x03, 0x00, 0x04, 0x1F}), Version::V5, d).reason == Reason::MalformedPacket);
  }
  SECTION("v5 trailing bytes") {
    CHECK(disconnect(bytes({0xE0, 0x03, 0x00, 0x00, 0x00}), Version::V5, d).reason == Reason::MalformedPacket);
  }
  SECTION("not a DISCONNECT frame") {
    Frame f;
    const Bytes wire = bytes({0xF0, 0x00});
    REQUIRE(frame_whole(span(wire), f));
    CHECK(decode_disconnect(f, Version::V5, d).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("AUTH decodes and round trips", "[mqtt][codec]") {
  const auto all = goldens();
  Auth a;
  SECTION("goldens") {
    REQUIRE(auth(all[25].wire, Version::V5, a).ok());
    CHECK(a.reason == Reason::Success);
    REQUIRE(auth(all[26].wire, Version::V5, a).ok());
    CHECK(a.reason == Reason::ContinueAuthentication);
    CHECK(a.properties.authentication_method == "SCRAM");
  }
  SECTION("every reason code with and without properties") {
    const int code = GENERATE(0x00, 0x18, 0x19);
    const bool with_props = GENERATE(false, true);
    CAPTURE(code, with_props);
    Auth in;
    in.reason = static_cast<Reason>(code);
    if (with_props) in.properties = full_properties(PacketType::Auth);
    std::string wire;
    encode_auth(in, wire);
    if (!with_props) CHECK(wire.size() == (code == 0 ? 2u : 4u));  // no 1-byte form for AUTH
    Frame f;
    REQUIRE(frame_whole(span(wire), f));
    Auth out;
    REQUIRE(decode_auth(f, Version::V5, out).ok());
    CHECK(diff(in, out) == nullptr);
  }
}

TEST_CASE("AUTH rejections", "[mqtt][codec]") {
  Auth a;
  SECTION("AUTH in MQTT 3.1.1 is a protocol error") {
    CHECK(auth(bytes({0xF0, 0x00}), Version::V311, a).reason == Reason::ProtocolError);
  }
  SECTION("AUTH in MQTT 3.1 is a protocol error") {
    CHECK(auth(bytes({0xF0, 0x00}), Version::V31, a).reason == Reason::ProtocolError);
  }
  SECTION("reason code without property length") {
    CHECK(auth(bytes({0xF0, 0x01, 0x18}), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("reason code not defined for AUTH") {
    CHECK(auth(bytes({0xF0, 0x02, 0x87, 0x00}), Version::V5, a).reason == Reason::ProtocolError);
  }
  SECTION("property not allowed on AUTH") {
    CHECK(auth(bytes({0xF0, 0x07, 0x18, 0x05, 0x11, 0, 0, 0, 1}), Version::V5, a).reason == Reason::MalformedPacket);
  }
  SECTION("authentication data without method") {
    CHECK(auth(bytes({0xF0, 0x06, 0x18, 0x04, 0x16, 0x00, 0x01, 'x'}), Version::V5, a).reason ==
          Reason::ProtocolError);
  }
  SECTION("trailing bytes") {
    CHECK(auth(bytes({0xF0, 0x03, 0x18, 0x00, 0x00}), Version::V5, a).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("reason_name covers every reason code", "[mqtt][codec]") {
  CHECK(std::strcmp(reason_name(Reason::Success), "Success") == 0);
  CHECK(std::strcmp(reason_name(Reason::MalformedPacket), "Malformed Packet") == 0);
  CHECK(std::strcmp(reason_name(Reason::PacketTooLarge), "Packet too large") == 0);
  CHECK(std::strcmp(reason_name(static_cast<Reason>(0x7F)), "Unknown reason code") == 0);
  int named = 0;
  for (int c = 0; c < 256; ++c) {
    if (std::strcmp(reason_name(static_cast<Reason>(c)), "Unknown reason code") != 0) ++named;
  }
  CHECK(named == 43);  // every enumerator of Reason
}

TEST_CASE("every golden decodes and re-encodes byte for byte", "[mqtt][codec]") {
  const auto all = goldens();
  for (const Golden& g : all) {
    CAPTURE(g.name);
    Frame f;
    REQUIRE(frame_whole(span(g.wire), f));
    const RoundTrip rt = round_trip(f, g.version);
    REQUIRE(rt.first.ok());
    CHECK(rt.problem == nullptr);
    CHECK(to_bytes(rt.encoded) == g.wire);
  }
}

TEST_CASE("goldens decoded under another version never break the round trip", "[mqtt][codec]") {
  const auto all = goldens();
  for (const Golden& g : all) {
    for (Version v : {Version::V31, Version::V311, Version::V5}) {
      CAPTURE(g.name, static_cast<int>(v));
      Frame f;
      REQUIRE(frame_whole(span(g.wire), f));
      const RoundTrip rt = round_trip(f, v);
      CHECK(rt.problem == nullptr);
    }
  }
}
