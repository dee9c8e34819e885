// PINGREQ/PINGRESP, DISCONNECT and AUTH (v5 3.12, 3.13, 3.14, 3.15).
//
// PINGREQ/PINGRESP have no decoder: the frame parser already refuses a body.
// AUTH only exists in v5; under v3 the type is "reserved" (3.1.1 Table 2.1),
// and decode_auth reports Protocol Error so the front-end closes.
#include "mqtt_internal.h"

namespace junction::mqtt {

namespace {

using detail::malformed;
using detail::protocol_error;

}  // namespace

void encode_pingreq(std::string& out) {
  detail::begin_packet(out, detail::type_byte(PacketType::Pingreq), 0);
}

void encode_pingresp(std::string& out) {
  detail::begin_packet(out, detail::type_byte(PacketType::Pingresp), 0);
}

Status decode_disconnect(const Frame& f, Version v, Disconnect& out) {
  if (f.type != PacketType::Disconnect) return malformed("not a DISCONNECT packet");
  out.reason = Reason::Success;
  detail::reset_properties(out.properties);
  detail::Reader r(f.body);
  if (!detail::is_v5(v)) {
    if (!r.empty()) return malformed("v3 DISCONNECT with a body");  // 3.1.1 3.14.2, 3.14.3
    return {};
  }
  // 3.14.2.1: remaining length 0 means Normal disconnection; 3.14.2.2.1: with
  // fewer than 2 bytes the property length is taken as 0.
  if (r.empty()) return {};
  std::uint8_t code = 0;
  r.u8(code);
  if (!detail::reason_allowed(PacketType::Disconnect, code)) return protocol_error("invalid DISCONNECT reason code");
  out.reason = static_cast<Reason>(code);
  if (r.empty()) return {};
  if (Status st = detail::read_properties(r, PacketType::Disconnect, false, out.properties); !st.ok()) return st;
  if (!r.empty()) return malformed("trailing bytes after DISCONNECT properties");
  return {};
}

void encode_disconnect(Version v, const Disconnect& d, std::string& out) {
  const std::uint8_t first = detail::type_byte(PacketType::Disconnect);
  if (!detail::is_v5(v)) {
    detail::begin_packet(out, first, 0);
    return;
  }
  const std::size_t props = properties_size(d.properties);
  if (props == 0) {
    if (d.reason == Reason::Success) {
      detail::begin_packet(out, first, 0);
    } else {
      detail::begin_packet(out, first, 1);
      detail::put_u8(out, static_cast<std::uint8_t>(d.reason));
    }
    return;
  }
  detail::begin_packet(out, first, 1 + varint_size(static_cast<std::uint32_t>(props)) + props);
  detail::put_u8(out, static_cast<std::uint8_t>(d.reason));
  detail::write_properties(d.properties, props, out);
}

Status decode_auth(const Frame& f, Version v, Auth& out) {
  if (f.type != PacketType::Auth) return malformed("not an AUTH packet");
  out.reason = Reason::Success;
  detail::reset_properties(out.properties);
  if (!detail::is_v5(v)) return protocol_error("AUTH is not part of MQTT 3");
  detail::Reader r(f.body);
  // 3.15.2.1: only the whole variable header may be omitted (remaining
  // length 0); unlike DISCONNECT there is no "less than 2" rule, so a lone
  // reason code lacks its property length.
  if (r.empty()) return {};
  std::uint8_t code = 0;
  r.u8(code);
  if (!detail::reason_allowed(PacketType::Auth, code)) return protocol_error("invalid AUTH reason code");
  out.reason = static_cast<Reason>(code);
  if (r.empty()) return malformed("AUTH without property length");
  if (Status st = detail::read_properties(r, PacketType::Auth, false, out.properties); !st.ok()) return st;
  if (!r.empty()) return malformed("trailing bytes after AUTH properties");
  return {};
}

void encode_auth(const Auth& a, std::string& out) {
  const std::uint8_t first = detail::type_byte(PacketType::Auth);
  const std::size_t props = properties_size(a.properties);
  if (props == 0 && a.reason == Reason::Success) {
    detail::begin_packet(out, first, 0);
    return;
  }
  detail::begin_packet(out, first, 1 + varint_size(static_cast<std::uint32_t>(props)) + props);
  detail::put_u8(out, static_cast<std::uint8_t>(a.reason));
  detail::write_properties(a.properties, props, out);
}

}  // namespace junction::mqtt
