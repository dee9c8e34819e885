// PUBLISH and its acknowledgements PUBACK, PUBREC, PUBREL, PUBCOMP
// (v5 3.3 - 3.7).
//
// Not checked here (they need connection state, or the direction): topic
// alias range against Topic Alias Maximum, a client sending Subscription
// Identifiers (3.3.4), DUP set on QoS 0 (a sender rule, [MQTT-3.3.1-2], that
// receivers in the field tolerate).
#include "mqtt_internal.h"

namespace junction::mqtt {

namespace {

using detail::malformed;
using detail::protocol_error;

bool is_pub_ack(PacketType t) {
  return t == PacketType::Puback || t == PacketType::Pubrec || t == PacketType::Pubrel || t == PacketType::Pubcomp;
}

}  // namespace

Status decode_publish(const Frame& f, Version v, Publish& out) {
  if (f.type != PacketType::Publish) return malformed("not a PUBLISH packet");
  out.dup = (f.flags & 0x08) != 0;
  out.qos = static_cast<std::uint8_t>((f.flags >> 1) & 0x03);
  out.retain = (f.flags & 0x01) != 0;
  if (out.qos == 3) return malformed("PUBLISH with QoS 3");  // [MQTT-3.3.1-4]

  detail::Reader r(f.body);
  if (Status st = detail::read_utf8(r, out.topic, "truncated PUBLISH topic", "PUBLISH topic is not UTF-8"); !st.ok())
    return st;
  if (detail::has_wildcard(out.topic))
    return Status::error(Reason::TopicNameInvalid, "wildcard in PUBLISH topic");  // [MQTT-3.3.2-2]

  out.packet_id = 0;
  if (out.qos > 0) {
    if (!r.u16(out.packet_id)) return malformed("truncated packet identifier");
    if (out.packet_id == 0) return malformed("packet identifier 0");  // [MQTT-2.2.1-3]
  }

  if (detail::is_v5(v)) {
    if (Status st = detail::read_properties(r, PacketType::Publish, false, out.properties); !st.ok()) return st;
    if (out.properties.topic_alias == 0)
      return Status::error(Reason::TopicAliasInvalid, "topic alias 0");  // [MQTT-3.3.2-8]
    // 3.3.2.3.4: a zero-length topic means "use the alias", so the alias
    // must be there.
    if (out.topic.empty() && !out.properties.topic_alias) return protocol_error("empty topic without topic alias");
  } else {
    detail::reset_properties(out.properties);
    if (out.topic.empty()) return malformed("empty PUBLISH topic");  // 3.1.1 [MQTT-4.7.3-1]
  }

  out.payload = r.rest();
  // 3.3.2.3.2: a receiver MAY check a payload that claims to be UTF-8
  // ("UTF-8 Encoded Character Data", so U+0000 is allowed there).
  if (out.properties.payload_format_indicator == 1 && !detail::utf8_well_formed(detail::as_chars(out.payload), true))
    return Status::error(Reason::PayloadFormatInvalid, "PUBLISH payload is not UTF-8");
  return {};
}

void encode_publish(Version v, const Publish& p, std::string& out) {
  const bool v5 = detail::is_v5(v);
  const std::size_t props = v5 ? properties_size(p.properties) : 0;
  std::size_t remaining = 2 + p.topic.size() + (p.qos > 0 ? 2 : 0) + p.payload.size();
  if (v5) remaining += varint_size(static_cast<std::uint32_t>(props)) + props;

  std::uint8_t flags = static_cast<std::uint8_t>((p.qos & 0x03) << 1);
  if (p.dup) flags |= 0x08;
  if (p.retain) flags |= 0x01;
  detail::begin_packet(out, detail::type_byte(PacketType::Publish, flags), remaining);
  detail::put_str(out, p.topic);
  if (p.qos > 0) detail::put_u16(out, p.packet_id);
  if (v5) detail::write_properties(p.properties, props, out);
  detail::put_raw(out, p.payload);
}

Status decode_ack(const Frame& f, Version v, Ack& out) {
  if (!is_pub_ack(f.type)) return malformed("not a PUBACK/PUBREC/PUBREL/PUBCOMP packet");
  out.type = f.type;
  out.reason = Reason::Success;
  detail::reset_properties(out.properties);
  detail::Reader r(f.body);
  if (!r.u16(out.packet_id)) return malformed("truncated packet identifier");
  if (out.packet_id == 0) return malformed("packet identifier 0");  // [MQTT-2.2.1-3]
  if (!detail::is_v5(v)) {
    if (!r.empty()) return malformed("v3 acknowledgement longer than 2 bytes");  // 3.1.1 3.4.1..3.7.1
    return {};
  }
  // v5 3.4.2.1: remaining length 2 means Success with no properties, 3 means
  // a reason code with no properties.
  if (r.empty()) return {};
  std::uint8_t code = 0;
  r.u8(code);
  if (!detail::reason_allowed(f.type, code)) return protocol_error("invalid reason code for acknowledgement");
  out.reason = static_cast<Reason>(code);
  if (r.empty()) return {};
  if (Status st = detail::read_properties(r, f.type, false, out.properties); !st.ok()) return st;
  if (!r.empty()) return malformed("trailing bytes after acknowledgement properties");
  return {};
}

void encode_ack(Version v, const Ack& a, std::string& out) {
  // [MQTT-3.6.1-1]: PUBREL carries flags 0b0010.
  const std::uint8_t first = detail::type_byte(a.type, a.type == PacketType::Pubrel ? 0x02 : 0x00);
  if (!detail::is_v5(v)) {
    detail::begin_packet(out, first, 2);
    detail::put_u16(out, a.packet_id);
    return;
  }
  const std::size_t props = properties_size(a.properties);
  if (props == 0 && a.reason == Reason::Success) {
    detail::begin_packet(out, first, 2);
    detail::put_u16(out, a.packet_id);
    return;
  }
  if (props == 0) {
    detail::begin_packet(out, first, 3);
    detail::put_u16(out, a.packet_id);
    detail::put_u8(out, static_cast<std::uint8_t>(a.reason));
    return;
  }
  detail::begin_packet(out, first, 3 + varint_size(static_cast<std::uint32_t>(props)) + props);
  detail::put_u16(out, a.packet_id);
  detail::put_u8(out, static_cast<std::uint8_t>(a.reason));
  detail::write_properties(a.properties, props, out);
}

}  // namespace junction::mqtt
