// The v5 property table written out again, independently of the codec's own
// table, from OASIS MQTT 5.0 Table 2-4, with one sample value per property
// both as wire bytes and as a decoded value. Tests use it to check the codec's
// table exhaustively and to build packets that carry every allowed property.
#pragma once

#include "mqtt_testkit.h"

#include <array>
#include <vector>

namespace mqtt_testkit {

// Context bit: PacketType t is bit t; bit 0 is the Will Properties of CONNECT.
inline constexpr unsigned kWillContext = 0;

struct PropertyRow {
  std::uint8_t id;
  const char* name;
  std::vector<unsigned> contexts;  // PacketType values, or kWillContext
};

inline const std::vector<PropertyRow>& property_rows() {
  using P = PacketType;
  auto u = [](P t) { return static_cast<unsigned>(t); };
  static const std::vector<PropertyRow> rows = {
      {0x01, "Payload Format Indicator", {u(P::Publish), kWillContext}},
      {0x02, "Message Expiry Interval", {u(P::Publish), kWillContext}},
      {0x03, "Content Type", {u(P::Publish), kWillContext}},
      {0x08, "Response Topic", {u(P::Publish), kWillContext}},
      {0x09, "Correlation Data", {u(P::Publish), kWillContext}},
      {0x0B, "Subscription Identifier", {u(P::Publish), u(P::Subscribe)}},
      {0x11, "Session Expiry Interval", {u(P::Connect), u(P::Connack), u(P::Disconnect)}},
      {0x12, "Assigned Client Identifier", {u(P::Connack)}},
      {0x13, "Server Keep Alive", {u(P::Connack)}},
      {0x15, "Authentication Method", {u(P::Connect), u(P::Connack), u(P::Auth)}},
      {0x16, "Authentication Data", {u(P::Connect), u(P::Connack), u(P::Auth)}},
      {0x17, "Request Problem Information", {u(P::Connect)}},
      {0x18, "Will Delay Interval", {kWillContext}},
      {0x19, "Request Response Information", {u(P::Connect)}},
      {0x1A, "Response Information", {u(P::Connack)}},
      {0x1C, "Server Reference", {u(P::Connack), u(P::Disconnect)}},
      {0x1F, "Reason String",
       {u(P::Connack), u(P::Puback), u(P::Pubrec), u(P::Pubrel), u(P::Pubcomp), u(P::Suback), u(P::Unsuback),
        u(P::Disconnect), u(P::Auth)}},
      {0x21, "Receive Maximum", {u(P::Connect), u(P::Connack)}},
      {0x22, "Topic Alias Maximum", {u(P::Connect), u(P::Connack)}},
      {0x23, "Topic Alias", {u(P::Publish)}},
      {0x24, "Maximum QoS", {u(P::Connack)}},
      {0x25, "Retain Available", {u(P::Connack)}},
      {0x26, "User Property",
       {u(P::Connect), u(P::Connack), u(P::Publish), kWillContext, u(P::Puback), u(P::Pubrec), u(P::Pubrel),
        u(P::Pubcomp), u(P::Subscribe), u(P::Suback), u(P::Unsubscribe), u(P::Unsuback), u(P::Disconnect),
        u(P::Auth)}},
      {0x27, "Maximum Packet Size", {u(P::Connect), u(P::Connack)}},
      {0x28, "Wildcard Subscription Available", {u(P::Connack)}},
      {0x29, "Subscription Identifier Available", {u(P::Connack)}},
      {0x2A, "Shared Subscription Available", {u(P::Connack)}},
  };
  return rows;
}

inline bool property_allowed(std::uint8_t id, unsigned context) {
  for (const PropertyRow& r : property_rows()) {
    if (r.id != id) continue;
    for (unsigned c : r.contexts)
      if (c == context) return true;
  }
  return false;
}

// One property as it appears on the wire (identifier + value).
inline Bytes sample_wire(std::uint8_t id) {
  switch (id) {
    case 0x01: return bytes({0x01, 0x01});
    case 0x02: return bytes({0x02, 0x00, 0x00, 0x0E, 0x10});
    case 0x03: return bytes({0x03, 0x00, 0x04, 't', 'e', 'x', 't'});
    case 0x08: return bytes({0x08, 0x00, 0x03, 'r', '/', 't'});
    case 0x09: return bytes({0x09, 0x00, 0x03, 0x00, 0xFF, 0x10});  // binary: NUL and 0xFF are fine
    case 0x0B: return bytes({0x0B, 0x80, 0x01});                    // 128, a two-byte varint
    case 0x11: return bytes({0x11, 0x00, 0x00, 0x00, 0x3C});
    case 0x12: return bytes({0x12, 0x00, 0x02, 'i', 'd'});
    case 0x13: return bytes({0x13, 0x00, 0x1E});
    case 0x15: return bytes({0x15, 0x00, 0x05, 'P', 'L', 'A', 'I', 'N'});
    case 0x16: return bytes({0x16, 0x00, 0x02, 0x00, 0xFF});
    case 0x17: return bytes({0x17, 0x00});
    case 0x18: return bytes({0x18, 0x00, 0x00, 0x00, 0x05});
    case 0x19: return bytes({0x19, 0x01});
    case 0x1A: return bytes({0x1A, 0x00, 0x04, 'r', 'e', 's', 'p'});
    case 0x1C: return bytes({0x1C, 0x00, 0x04, 'h', 'o', 's', 't'});
    case 0x1F: return bytes({0x1F, 0x00, 0x02, 'o', 'k'});
    case 0x21: return bytes({0x21, 0x00, 0x0A});
    case 0x22: return bytes({0x22, 0x00, 0x05});
    case 0x23: return bytes({0x23, 0x00, 0x03});
    case 0x24: return bytes({0x24, 0x00});
    case 0x25: return bytes({0x25, 0x01});
    case 0x26: return bytes({0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b'});
    case 0x27: return bytes({0x27, 0x00, 0x00, 0x10, 0x00});
    case 0x28: return bytes({0x28, 0x01});
    case 0x29: return bytes({0x29, 0x00});
    case 0x2A: return bytes({0x2A, 0x01});
    default: return {};
  }
}

inline constexpr std::string_view kCorrelation{"\x00\xFF\x10", 3};
inline constexpr std::string_view kAuthData{"\x00\xFF", 2};

// The decoded form of sample_wire(id), added to `p`.
inline void set_sample(Properties& p, std::uint8_t id) {
  switch (id) {
    case 0x01: p.payload_format_indicator = 1; break;
    case 0x02: p.message_expiry_interval = 3600; break;
    case 0x03: p.content_type = "text"; break;
    case 0x08: p.response_topic = "r/t"; break;
    case 0x09: p.correlation_data = kCorrelation; break;
    case 0x0B: p.subscription_identifiers.push_back(128); break;
    case 0x11: p.session_expiry_interval = 60; break;
    case 0x12: p.assigned_client_identifier = "id"; break;
    case 0x13: p.server_keep_alive = 30; break;
    case 0x15: p.authentication_method = "PLAIN"; break;
    case 0x16: p.authentication_data = kAuthData; break;
    case 0x17: p.request_problem_information = 0; break;
    case 0x18: p.will_delay_interval = 5; break;
    case 0x19: p.request_response_information = 1; break;
    case 0x1A: p.response_information = "resp"; break;
    case 0x1C: p.server_reference = "host"; break;
    case 0x1F: p.reason_string = "ok"; break;
    case 0x21: p.receive_maximum = 10; break;
    case 0x22: p.topic_alias_maximum = 5; break;
    case 0x23: p.topic_alias = 3; break;
    case 0x24: p.maximum_qos = 0; break;
    case 0x25: p.retain_available = 1; break;
    case 0x26: p.user_properties.push_back({"a", "b"}); break;
    case 0x27: p.maximum_packet_size = 4096; break;
    case 0x28: p.wildcard_subscription_available = 1; break;
    case 0x29: p.subscription_identifier_available = 0; break;
    case 0x2A: p.shared_subscription_available = 1; break;
    default: break;
  }
}

// Every property allowed in `context`, with repeatable ones repeated
// (user properties three times, including an empty name and non-ASCII value;
// subscription identifiers twice on PUBLISH, with the largest legal value).
inline Properties full_properties(unsigned context) {
  Properties p;
  for (const PropertyRow& r : property_rows()) {
    if (property_allowed(r.id, context)) set_sample(p, r.id);
  }
  if (property_allowed(0x26, context)) {
    p.user_properties.push_back({"", "v\xC3\xA9"});
    p.user_properties.push_back({"a", "dup name is fine"});
  }
  if (context == static_cast<unsigned>(PacketType::Publish)) p.subscription_identifiers.push_back(268435455u);
  return p;
}

inline Properties full_properties(PacketType t) { return full_properties(static_cast<unsigned>(t)); }

// [varint length][properties...] for decode_properties().
inline Bytes property_block(const Bytes& props) {
  std::string len;
  encode_varint(static_cast<std::uint32_t>(props.size()), len);
  Bytes out(len.begin(), len.end());
  out.insert(out.end(), props.begin(), props.end());
  return out;
}

}  // namespace mqtt_testkit
