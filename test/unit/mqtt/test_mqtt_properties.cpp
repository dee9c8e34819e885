// MQTT 5 properties [MQTT-2.2.2]: the allowed-per-packet table checked
// exhaustively against Table 2-4, value ranges, duplicates, truncation.
//
// Reason codes (the codec's documented policy): unknown identifier or one not
// allowed on the packet -> Malformed Packet; duplicate or out-of-range value
// -> Protocol Error.
#include <catch2/catch.hpp>

#include "mqtt_property_samples.h"

#include <deque>

using namespace mqtt_testkit;

namespace {

// Decoded properties are views into the block, so blocks are kept alive for
// the whole run (a few kilobytes).
Status decode_block(const Bytes& props, unsigned context, Properties& out, std::size_t* rest = nullptr) {
  static std::deque<Bytes> keep;
  const Bytes& block = keep.emplace_back(property_block(props));
  ByteSpan cursor = span(block);
  const bool will = context == kWillContext;
  const PacketType t = will ? PacketType::Connect : static_cast<PacketType>(context);
  Status st = decode_properties(cursor, t, will, out);
  if (rest != nullptr) *rest = cursor.size();
  return st;
}

Status decode_block(const Bytes& props, PacketType t, Properties& out) {
  return decode_block(props, static_cast<unsigned>(t), out);
}

const char* context_name(unsigned c) {
  static const char* names[] = {"Will", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
                                "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP",
                                "DISCONNECT", "AUTH"};
  return names[c];
}

}  // namespace

TEST_CASE("every property is accepted exactly where Table 2-4 allows it", "[mqtt][codec]") {
  const unsigned context = GENERATE(range(0u, 16u));
  for (const PropertyRow& row : property_rows()) {
    CAPTURE(context_name(context), row.name);
    Bytes wire = sample_wire(row.id);
    // Authentication Data needs its method next to it; both share one row set.
    if (row.id == 0x16) wire = cat({sample_wire(0x15), wire});
    Properties got;
    const Status st = decode_block(wire, context, got);
    if (property_allowed(row.id, context)) {
      REQUIRE(st.ok());
      Properties want;
      if (row.id == 0x16) set_sample(want, 0x15);
      set_sample(want, row.id);
      const char* d = diff(got, want);
      CHECK(d == nullptr);
    } else {
      CHECK_FALSE(st.ok());
      CHECK(st.reason == Reason::MalformedPacket);
    }
  }
}

TEST_CASE("unknown property identifiers are malformed", "[mqtt][codec]") {
  const int id = GENERATE(0x00, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x14, 0x1B, 0x1D, 0x1E,
                          0x20, 0x2B, 0x2C, 0x7F);
  CAPTURE(id);
  Properties p;
  const Status st = decode_block(bytes({id, 0x00}), PacketType::Publish, p);
  CHECK(st.reason == Reason::MalformedPacket);
}

TEST_CASE("property identifiers are varints", "[mqtt][codec]") {
  Properties p;
  SECTION("two-byte identifier 128 is unknown") {
    CHECK(decode_block(bytes({0x80, 0x01, 0x00}), PacketType::Publish, p).reason == Reason::MalformedPacket);
  }
  SECTION("non-minimal encoding of a known identifier is malformed") {
    CHECK(decode_block(bytes({0x81, 0x00, 0x01}), PacketType::Publish, p).reason == Reason::MalformedPacket);
  }
}

TEST_CASE("non-repeatable properties may not repeat", "[mqtt][codec]") {
  for (const PropertyRow& row : property_rows()) {
    if (row.id == 0x26 || row.id == 0x0B) continue;
    const unsigned context = row.contexts.front();
    CAPTURE(row.name, context_name(context));
    Bytes wire = cat({sample_wire(row.id), sample_wire(row.id)});
    if (row.id == 0x16) wire = cat({sample_wire(0x15), wire});
    Properties p;
    const Status st = decode_block(wire, context, p);
    CHECK(st.reason == Reason::ProtocolError);
  }
}

TEST_CASE("repeatable properties keep every value in order", "[mqtt][codec]") {
  Properties p;
  SECTION("user properties, including duplicate names") {
    const Bytes wire = bytes({0x26, 0x00, 0x01, 'a', 0x00, 0x01, '1', 0x26, 0x00, 0x01, 'b', 0x00, 0x00, 0x26, 0x00,
                              0x01, 'a', 0x00, 0x01, '2'});
    REQUIRE(decode_block(wire, PacketType::Subscribe, p).ok());
    REQUIRE(p.user_properties.size() == 3);
    CHECK(p.user_properties[0].name == "a");
    CHECK(p.user_properties[0].value == "1");
    CHECK(p.user_properties[1].name == "b");
    CHECK(p.user_properties[1].value.empty());
    CHECK(p.user_properties[2].value == "2");
  }
  SECTION("subscription identifiers on PUBLISH (3.3.2.3.8)") {
    const Bytes wire = bytes({0x0B, 0x05, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F, 0x0B, 0x01});
    REQUIRE(decode_block(wire, PacketType::Publish, p).ok());
    CHECK(p.subscription_identifiers == std::vector<std::uint32_t>{5, 268435455u, 1});
  }
  SECTION("but only once on SUBSCRIBE (3.8.2.1.2)") {
    CHECK(decode_block(bytes({0x0B, 0x05, 0x0B, 0x06}), PacketType::Subscribe, p).reason == Reason::ProtocolError);
  }
}

TEST_CASE("property values out of range", "[mqtt][codec]") {
  Properties p;
  SECTION("subscription identifier 0 on SUBSCRIBE") {
    CHECK(decode_block(bytes({0x0B, 0x00}), PacketType::Subscribe, p).reason == Reason::ProtocolError);
  }
  SECTION("subscription identifier 0 on PUBLISH") {
    CHECK(decode_block(bytes({0x0B, 0x00}), PacketType::Publish, p).reason == Reason::ProtocolError);
  }
  SECTION("receive maximum 0 on CONNECT") {
    CHECK(decode_block(bytes({0x21, 0x00, 0x00}), PacketType::Connect, p).reason == Reason::ProtocolError);
  }
  SECTION("receive maximum 0 on CONNACK") {
    CHECK(decode_block(bytes({0x21, 0x00, 0x00}), PacketType::Connack, p).reason == Reason::ProtocolError);
  }
  SECTION("maximum packet size 0") {
    CHECK(decode_block(bytes({0x27, 0, 0, 0, 0}), PacketType::Connect, p).reason == Reason::ProtocolError);
    CHECK(decode_block(bytes({0x27, 0, 0, 0, 0}), PacketType::Connack, p).reason == Reason::ProtocolError);
  }
  SECTION("payload format indicator 2") {
    CHECK(decode_block(bytes({0x01, 0x02}), PacketType::Publish, p).reason == Reason::ProtocolError);
    CHECK(decode_block(bytes({0x01, 0x02}), kWillContext, p).reason == Reason::ProtocolError);
  }
  SECTION("request problem information 2") {
    CHECK(decode_block(bytes({0x17, 0x02}), PacketType::Connect, p).reason == Reason::ProtocolError);
  }
  SECTION("request response information 2") {
    CHECK(decode_block(bytes({0x19, 0x02}), PacketType::Connect, p).reason == Reason::ProtocolError);
  }
  SECTION("maximum QoS 2") {
    CHECK(decode_block(bytes({0x24, 0x02}), PacketType::Connack, p).reason == Reason::ProtocolError);
  }
  SECTION("retain / wildcard / subscription id / shared available must be 0 or 1") {
    for (int id : {0x25, 0x28, 0x29, 0x2A}) {
      CAPTURE(id);
      CHECK(decode_block(bytes({id, 0x02}), PacketType::Connack, p).reason == Reason::ProtocolError);
      CHECK(decode_block(bytes({id, 0x00}), PacketType::Connack, p).ok());
    }
  }
  SECTION("response topic with a wildcard [MQTT-3.3.2-14]") {
    CHECK(decode_block(bytes({0x08, 0x00, 0x03, 'a', '/', '#'}), PacketType::Publish, p).reason ==
          Reason::ProtocolError);
    CHECK(decode_block(bytes({0x08, 0x00, 0x03, 'a', '/', '+'}), kWillContext, p).reason == Reason::ProtocolError);
  }
  SECTION("authentication data without authentication method") {
    CHECK(decode_block(sample_wire(0x16), PacketType::Connect, p).reason == Reason::ProtocolError);
    CHECK(decode_block(sample_wire(0x16), PacketType::Auth, p).reason == Reason::ProtocolError);
  }
  SECTION("edge values that are legal") {
    REQUIRE(decode_block(bytes({0x21, 0xFF, 0xFF, 0x27, 0xFF, 0xFF, 0xFF, 0xFF, 0x11, 0xFF, 0xFF, 0xFF, 0xFF}),
                         PacketType::Connect, p)
                .ok());
    CHECK(p.receive_maximum == 65535);
    CHECK(p.maximum_packet_size == 0xFFFFFFFFu);
    CHECK(p.session_expiry_interval == 0xFFFFFFFFu);
    REQUIRE(decode_block(bytes({0x22, 0x00, 0x00}), PacketType::Connect, p).ok());  // alias maximum 0: no aliases
    CHECK(p.topic_alias_maximum == 0);
  }
}

TEST_CASE("truncated and oversized property blocks are malformed", "[mqtt][codec]") {
  Properties p;
  auto raw = [&](const Bytes& block, PacketType t) {
    ByteSpan cursor = span(block);
    return decode_properties(cursor, t, false, p);
  };
  SECTION("empty input: no property length at all") { CHECK(raw(Bytes{}, PacketType::Publish).reason == Reason::MalformedPacket); }
  SECTION("property length larger than what follows") {
    CHECK(raw(bytes({0x05, 0x01, 0x01}), PacketType::Publish).reason == Reason::MalformedPacket);
  }
  SECTION("property length is a bad varint") {
    CHECK(raw(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x7F}), PacketType::Publish).reason == Reason::MalformedPacket);
    CHECK(raw(bytes({0x80}), PacketType::Publish).reason == Reason::MalformedPacket);
  }
  SECTION("four-byte value cut by the block end") {
    CHECK(raw(bytes({0x03, 0x02, 0x00, 0x00, 0x00, 0x00}), PacketType::Publish).reason == Reason::MalformedPacket);
  }
  SECTION("two-byte value cut") { CHECK(raw(bytes({0x02, 0x23, 0x00}), PacketType::Publish).reason == Reason::MalformedPacket); }
  SECTION("byte value missing") { CHECK(raw(bytes({0x01, 0x01}), PacketType::Publish).reason == Reason::MalformedPacket); }
  SECTION("string longer than the block") {
    CHECK(raw(bytes({0x04, 0x03, 0x00, 0x05, 'a', 'b'}), PacketType::Publish).reason == Reason::MalformedPacket);
  }
  SECTION("user property value missing") {
    CHECK(raw(bytes({0x04, 0x26, 0x00, 0x01, 'a'}), PacketType::Publish).reason == Reason::MalformedPacket);
  }
  SECTION("subscription identifier varint cut") {
    CHECK(raw(bytes({0x02, 0x0B, 0x80}), PacketType::Publish).reason == Reason::MalformedPacket);
  }
  SECTION("subscription identifier varint too long") {
    CHECK(raw(bytes({0x06, 0x0B, 0x80, 0x80, 0x80, 0x80, 0x01}), PacketType::Publish).reason ==
          Reason::MalformedPacket);
  }
}

TEST_CASE("string properties must be valid UTF-8, binary ones need not", "[mqtt][codec]") {
  Properties p;
  SECTION("content type with a surrogate") {
    CHECK(decode_block(bytes({0x03, 0x00, 0x03, 0xED, 0xA0, 0x80}), PacketType::Publish, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("reason string with U+0000") {
    CHECK(decode_block(bytes({0x1F, 0x00, 0x01, 0x00}), PacketType::Puback, p).reason == Reason::MalformedPacket);
  }
  SECTION("user property name with bad UTF-8") {
    CHECK(decode_block(bytes({0x26, 0x00, 0x01, 0xFF, 0x00, 0x00}), PacketType::Connect, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("user property value with bad UTF-8") {
    CHECK(decode_block(bytes({0x26, 0x00, 0x00, 0x00, 0x01, 0xC0}), PacketType::Connect, p).reason ==
          Reason::MalformedPacket);
  }
  SECTION("correlation data and authentication data carry any bytes") {
    REQUIRE(decode_block(bytes({0x09, 0x00, 0x02, 0x00, 0xFF}), PacketType::Publish, p).ok());
    CHECK(p.correlation_data == std::string_view("\x00\xFF", 2));
  }
}

TEST_CASE("decode_properties advances the cursor past the block only", "[mqtt][codec]") {
  const Bytes block = bytes({0x02, 0x01, 0x01, 'p', 'a', 'y'});
  ByteSpan cursor = span(block);
  Properties p;
  REQUIRE(decode_properties(cursor, PacketType::Publish, false, p).ok());
  CHECK(cursor.size() == 3);
  CHECK(cursor.data() == block.data() + 3);
  CHECK(p.payload_format_indicator == 1);

  const Bytes empty = bytes({0x00, 'x'});
  cursor = span(empty);
  REQUIRE(decode_properties(cursor, PacketType::Puback, false, p).ok());
  CHECK(cursor.size() == 1);
  CHECK_FALSE(p.payload_format_indicator);  // reset by the second decode
}

TEST_CASE("properties decode in any order", "[mqtt][codec]") {
  // Reverse identifier order; the encoder writes ascending order.
  Bytes wire;
  std::vector<std::uint8_t> ids;
  for (const PropertyRow& r : property_rows())
    if (property_allowed(r.id, static_cast<unsigned>(PacketType::Connack))) ids.push_back(r.id);
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) wire = cat({wire, sample_wire(*it)});
  Properties got;
  REQUIRE(decode_block(wire, PacketType::Connack, got).ok());
  Properties want;
  for (std::uint8_t id : ids) set_sample(want, id);
  CHECK(diff(got, want) == nullptr);
}

TEST_CASE("decoding reuses vector capacity and drops old values", "[mqtt][codec]") {
  Properties p;
  p.user_properties.reserve(16);
  p.user_properties.push_back({"old", "value"});
  p.subscription_identifiers.reserve(8);
  p.subscription_identifiers.push_back(99);
  p.reason_string = "stale";
  const auto* users_before = p.user_properties.data();
  const auto* ids_before = p.subscription_identifiers.data();

  REQUIRE(decode_block(bytes({0x26, 0x00, 0x01, 'n', 0x00, 0x01, 'v', 0x0B, 0x02}), PacketType::Publish, p).ok());
  REQUIRE(p.user_properties.size() == 1);
  CHECK(p.user_properties[0].name == "n");
  CHECK(p.subscription_identifiers == std::vector<std::uint32_t>{2});
  CHECK_FALSE(p.reason_string);
  CHECK(p.user_properties.data() == users_before);
  CHECK(p.subscription_identifiers.data() == ids_before);
}

TEST_CASE("properties encode to their exact size and decode back", "[mqtt][codec]") {
  const unsigned context = GENERATE(range(0u, 16u));
  CAPTURE(context_name(context));
  const Properties in = full_properties(context);
  std::string wire;
  encode_properties(in, wire);
  std::string len;
  encode_varint(static_cast<std::uint32_t>(properties_size(in)), len);
  CHECK(wire.size() == len.size() + properties_size(in));

  ByteSpan cursor = span(wire);
  Properties out;
  const bool will = context == kWillContext;
  const auto t = will ? PacketType::Connect : static_cast<PacketType>(context);
  const Status st = decode_properties(cursor, t, will, out);
  REQUIRE(st.ok());
  CHECK(cursor.empty());
  CHECK(diff(in, out) == nullptr);
}

TEST_CASE("encoding of individual properties matches the spec layout", "[mqtt][codec]") {
  for (const PropertyRow& row : property_rows()) {
    CAPTURE(row.name);
    Properties p;
    set_sample(p, row.id);
    std::string wire;
    encode_properties(p, wire);
    CHECK(to_bytes(wire) == property_block(sample_wire(row.id)));
  }
  SECTION("no properties is a single zero length byte") {
    std::string wire;
    encode_properties(Properties{}, wire);
    CHECK(wire == std::string(1, '\0'));
    CHECK(properties_size(Properties{}) == 0);
  }
}
