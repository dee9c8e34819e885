// CONNECT and CONNACK (v5 3.1, 3.2; 3.1.1 3.1, 3.2).
//
// decode_connect is the only decoder without a version argument: the protocol
// name and level in the packet choose it. Which connects to *accept* (client
// id length in 3.1, empty ids, auth) is the front-end's decision; this file
// only rejects what the spec calls malformed or a protocol error.
#include "mqtt_internal.h"

namespace junction::mqtt {

namespace {

constexpr std::uint8_t kFlagReserved = 0x01;
constexpr std::uint8_t kFlagCleanStart = 0x02;
constexpr std::uint8_t kFlagWill = 0x04;
constexpr std::uint8_t kFlagWillRetain = 0x20;
constexpr std::uint8_t kFlagPassword = 0x40;
constexpr std::uint8_t kFlagUsername = 0x80;

std::string_view protocol_name_for(Version v) { return v == Version::V31 ? "MQIsdp" : "MQTT"; }

using detail::malformed;
using detail::protocol_error;

}  // namespace

Status decode_connect(const Frame& f, Connect& out) {
  if (f.type != PacketType::Connect) return malformed("not a CONNECT packet");
  detail::Reader r(f.body);

  std::string_view name;
  std::uint8_t level = 0;
  if (!r.raw_string(name) || !r.u8(level)) return malformed("truncated CONNECT variable header");
  // [MQTT-3.1.2-1], [MQTT-3.1.2-2] (3.1.1: 3.1.2-1, 3.1.2-2): answer with
  // "unacceptable protocol version" / 0x84 rather than just closing.
  Version v;
  if (name == "MQTT" && level == 4) {
    v = Version::V311;
  } else if (name == "MQTT" && level == 5) {
    v = Version::V5;
  } else if (name == "MQIsdp" && level == 3) {
    v = Version::V31;
  } else {
    return Status::error(Reason::UnsupportedProtocolVersion, "unsupported protocol name or level");
  }
  out.version = v;
  out.protocol_name = name;

  std::uint8_t flags = 0;
  if (!r.u8(flags) || !r.u16(out.keep_alive)) return malformed("truncated CONNECT variable header");
  if ((flags & kFlagReserved) != 0) return malformed("CONNECT reserved flag set");  // [MQTT-3.1.2-3]
  const bool will = (flags & kFlagWill) != 0;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
  const bool will_retain = (flags & kFlagWillRetain) != 0;
  // [MQTT-3.1.2-11], [MQTT-3.1.2-13] (3.1.1: 3.1.2-13, 3.1.2-15)
  if (!will && (will_qos != 0 || will_retain)) return malformed("will QoS/retain without will flag");
  if (will_qos == 3) return malformed("will QoS 3");  // [MQTT-3.1.2-12] (3.1.1: 3.1.2-14)
  const bool has_password = (flags & kFlagPassword) != 0;
  const bool has_username = (flags & kFlagUsername) != 0;
  // 3.1.1 [MQTT-3.1.2-22]; v5 3.1.2.9 allows a password alone.
  if (v != Version::V5 && has_password && !has_username) return malformed("password without user name");
  out.clean_start = (flags & kFlagCleanStart) != 0;

  if (detail::is_v5(v)) {
    if (Status st = detail::read_properties(r, PacketType::Connect, false, out.properties); !st.ok()) return st;
  } else {
    detail::reset_properties(out.properties);
  }

  // [MQTT-3.1.3-1]: client id, will properties, will topic, will payload,
  // user name, password, in this order.
  if (Status st = detail::read_utf8(r, out.client_id, "truncated client identifier", "client identifier is not UTF-8");
      !st.ok())
    return st;

  if (will) {
    Will& w = out.will ? *out.will : out.will.emplace();
    w.qos = will_qos;
    w.retain = will_retain;
    if (detail::is_v5(v)) {
      if (Status st = detail::read_properties(r, PacketType::Connect, true, w.properties); !st.ok()) return st;
    } else {
      detail::reset_properties(w.properties);
    }
    if (Status st = detail::read_utf8(r, w.topic, "truncated will topic", "will topic is not UTF-8"); !st.ok())
      return st;
    // The will is published under this name, so it obeys topic name rules
    // (v5 4.7.1, [MQTT-4.7.3-1]); v5 CONNACK has 0x90 for exactly this.
    if (w.topic.empty() || detail::has_wildcard(w.topic))
      return Status::error(Reason::TopicNameInvalid, "invalid will topic");
    if (!r.binary(w.payload)) return malformed("truncated will payload");
    // v5 3.1.3.2.3: the Server MAY check a will marked as UTF-8 (CONNACK 0x99).
    if (w.properties.payload_format_indicator == 1 && !detail::utf8_well_formed(detail::as_chars(w.payload), true))
      return Status::error(Reason::PayloadFormatInvalid, "will payload is not UTF-8");
  } else {
    out.will.reset();
  }

  if (has_username) {
    std::string_view u;
    if (Status st = detail::read_utf8(r, u, "truncated user name", "user name is not UTF-8"); !st.ok()) return st;
    out.username = u;
  } else {
    out.username.reset();
  }
  if (has_password) {
    ByteSpan p;
    if (!r.binary(p)) return malformed("truncated password");
    out.password = p;
  } else {
    out.password.reset();
  }
  if (!r.empty()) return malformed("trailing bytes after CONNECT payload");
  return {};
}

Status decode_connack(const Frame& f, Version v, Connack& out) {
  if (f.type != PacketType::Connack) return malformed("not a CONNACK packet");
  detail::Reader r(f.body);
  std::uint8_t flags = 0;
  if (!r.u8(flags) || !r.u8(out.code)) return malformed("truncated CONNACK");
  if (v == Version::V31) {
    // 3.1 has no session present flag; the byte is unused there.
    out.session_present = false;
  } else {
    if ((flags & 0xFE) != 0) return malformed("CONNACK reserved flags set");  // [MQTT-3.2.2-1]
    out.session_present = (flags & 0x01) != 0;
  }
  if (detail::is_v5(v)) {
    if (!detail::reason_allowed(PacketType::Connack, out.code)) return protocol_error("invalid CONNACK reason code");
    if (Status st = detail::read_properties(r, PacketType::Connack, false, out.properties); !st.ok()) return st;
  } else {
    if (out.code > 5) return protocol_error("invalid CONNACK return code");  // 3.1.1 Table 3.1
    detail::reset_properties(out.properties);
  }
  // [MQTT-3.2.2-6] (3.1.1: 3.2.2-4)
  if (out.session_present && out.code != 0) return protocol_error("session present with an error code");
  if (!r.empty()) return malformed("trailing bytes after CONNACK");
  return {};
}

void encode_connect(const Connect& c, std::string& out) {
  const bool v5 = detail::is_v5(c.version);
  const std::string_view name = protocol_name_for(c.version);

  std::uint8_t flags = 0;
  if (c.clean_start) flags |= kFlagCleanStart;
  if (c.will) {
    flags |= kFlagWill;
    flags |= static_cast<std::uint8_t>((c.will->qos & 0x03) << 3);
    if (c.will->retain) flags |= kFlagWillRetain;
  }
  if (c.password) flags |= kFlagPassword;
  if (c.username) flags |= kFlagUsername;

  const std::size_t props = v5 ? properties_size(c.properties) : 0;
  const std::size_t will_props = (v5 && c.will) ? properties_size(c.will->properties) : 0;
  std::size_t remaining = 2 + name.size() + 1 + 1 + 2 + 2 + c.client_id.size();
  if (v5) remaining += varint_size(static_cast<std::uint32_t>(props)) + props;
  if (c.will) {
    remaining += 2 + c.will->topic.size() + 2 + c.will->payload.size();
    if (v5) remaining += varint_size(static_cast<std::uint32_t>(will_props)) + will_props;
  }
  if (c.username) remaining += 2 + c.username->size();
  if (c.password) remaining += 2 + c.password->size();

  detail::begin_packet(out, detail::type_byte(PacketType::Connect), remaining);
  detail::put_str(out, name);
  detail::put_u8(out, static_cast<std::uint8_t>(c.version));
  detail::put_u8(out, flags);
  detail::put_u16(out, c.keep_alive);
  if (v5) detail::write_properties(c.properties, props, out);
  detail::put_str(out, c.client_id);
  if (c.will) {
    if (v5) detail::write_properties(c.will->properties, will_props, out);
    detail::put_str(out, c.will->topic);
    detail::put_bin(out, c.will->payload);
  }
  if (c.username) detail::put_str(out, *c.username);
  if (c.password) detail::put_bin(out, *c.password);
}

void encode_connack(Version v, const Connack& c, std::string& out) {
  const bool v5 = detail::is_v5(v);
  const std::size_t props = v5 ? properties_size(c.properties) : 0;
  // v5 3.2.2.3: the property length is not optional on CONNACK.
  const std::size_t remaining = 2 + (v5 ? varint_size(static_cast<std::uint32_t>(props)) + props : 0);
  detail::begin_packet(out, detail::type_byte(PacketType::Connack), remaining);
  detail::put_u8(out, (c.session_present && v != Version::V31) ? 0x01 : 0x00);
  detail::put_u8(out, c.code);
  if (v5) detail::write_properties(c.properties, props, out);
}

}  // namespace junction::mqtt
