// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (v5 3.8 - 3.11).
//
// Topic filter syntax (wildcard placement, empty filters, $share) is not
// judged here: in v5 a bad filter is answered per topic in SUBACK (0x8F), not
// by closing the connection, so it belongs to the front-end.
#include "mqtt_internal.h"

namespace junction::mqtt {

namespace {

using detail::malformed;
using detail::protocol_error;

constexpr std::uint8_t kOptNoLocal = 0x04;
constexpr std::uint8_t kOptRetainAsPublished = 0x08;

Status read_packet_id(detail::Reader& r, std::uint16_t& id) {
  if (!r.u16(id)) return malformed("truncated packet identifier");
  if (id == 0) return malformed("packet identifier 0");  // [MQTT-2.2.1-3]
  return {};
}

}  // namespace

Status decode_subscribe(const Frame& f, Version v, Subscribe& out) {
  if (f.type != PacketType::Subscribe) return malformed("not a SUBSCRIBE packet");
  out.topics.clear();
  detail::Reader r(f.body);
  if (Status st = read_packet_id(r, out.packet_id); !st.ok()) return st;
  const bool v5 = detail::is_v5(v);
  if (v5) {
    if (Status st = detail::read_properties(r, PacketType::Subscribe, false, out.properties); !st.ok()) return st;
  } else {
    detail::reset_properties(out.properties);
  }

  while (!r.empty()) {
    SubscribeTopic t;
    if (Status st = detail::read_utf8(r, t.filter, "truncated topic filter", "topic filter is not UTF-8"); !st.ok())
      return st;
    std::uint8_t opts = 0;
    if (!r.u8(opts)) return malformed("missing subscription options");
    t.qos = opts & 0x03;
    if (v5) {
      // [MQTT-3.8.3-5]: bits 6-7 reserved; 3.8.3.1: QoS 3 and Retain
      // Handling 3 are Protocol Errors.
      if ((opts & 0xC0) != 0) return malformed("reserved subscription option bits set");
      if (t.qos == 3) return protocol_error("subscription QoS 3");
      t.no_local = (opts & kOptNoLocal) != 0;
      t.retain_as_published = (opts & kOptRetainAsPublished) != 0;
      t.retain_handling = static_cast<std::uint8_t>((opts >> 4) & 0x03);
      if (t.retain_handling == 3) return protocol_error("retain handling 3");
    } else {
      // 3.1.1 [MQTT-3-8.3-4]: upper six bits reserved, QoS 3 malformed.
      if ((opts & 0xFC) != 0) return malformed("reserved subscription option bits set");
      if (t.qos == 3) return malformed("subscription QoS 3");
    }
    out.topics.push_back(t);
  }
  // [MQTT-3.8.3-2] (3.1.1: 3.8.3-3)
  if (out.topics.empty()) return protocol_error("SUBSCRIBE without topic filters");
  return {};
}

Status decode_suback(const Frame& f, Version v, SubAck& out) {
  if (f.type != PacketType::Suback && f.type != PacketType::Unsuback) return malformed("not a SUBACK/UNSUBACK packet");
  out.type = f.type;
  out.codes.clear();
  detail::Reader r(f.body);
  if (Status st = read_packet_id(r, out.packet_id); !st.ok()) return st;
  if (detail::is_v5(v)) {
    if (Status st = detail::read_properties(r, f.type, false, out.properties); !st.ok()) return st;
    // 3.9.3 / 3.11.3: one reason code per filter of the request, so at least one.
    if (r.empty()) return protocol_error("acknowledgement without reason codes");
    const ByteSpan codes = r.rest();
    for (std::uint8_t c : codes) {
      if (!detail::reason_allowed(f.type, c)) return protocol_error("invalid reason code in SUBACK/UNSUBACK");
    }
    out.codes.assign(codes.begin(), codes.end());
    return {};
  }
  detail::reset_properties(out.properties);
  if (f.type == PacketType::Unsuback) {
    if (!r.empty()) return malformed("v3 UNSUBACK longer than 2 bytes");  // 3.1.1 3.11.1
    return {};
  }
  if (r.empty()) return protocol_error("SUBACK without return codes");
  const ByteSpan codes = r.rest();
  for (std::uint8_t c : codes) {
    // 3.1.1 [MQTT-3.9.3-2]: other values are reserved.
    if (c > 2 && c != 0x80) return protocol_error("invalid SUBACK return code");
  }
  out.codes.assign(codes.begin(), codes.end());
  return {};
}

Status decode_unsubscribe(const Frame& f, Version v, Unsubscribe& out) {
  if (f.type != PacketType::Unsubscribe) return malformed("not an UNSUBSCRIBE packet");
  out.filters.clear();
  detail::Reader r(f.body);
  if (Status st = read_packet_id(r, out.packet_id); !st.ok()) return st;
  if (detail::is_v5(v)) {
    if (Status st = detail::read_properties(r, PacketType::Unsubscribe, false, out.properties); !st.ok()) return st;
  } else {
    detail::reset_properties(out.properties);
  }
  while (!r.empty()) {
    std::string_view filter;
    if (Status st = detail::read_utf8(r, filter, "truncated topic filter", "topic filter is not UTF-8"); !st.ok())
      return st;
    out.filters.push_back(filter);
  }
  // [MQTT-3.10.3-2]
  if (out.filters.empty()) return protocol_error("UNSUBSCRIBE without topic filters");
  return {};
}

void encode_subscribe(Version v, const Subscribe& s, std::string& out) {
  const bool v5 = detail::is_v5(v);
  const std::size_t props = v5 ? properties_size(s.properties) : 0;
  std::size_t remaining = 2 + (v5 ? varint_size(static_cast<std::uint32_t>(props)) + props : 0);
  for (const SubscribeTopic& t : s.topics) remaining += 2 + t.filter.size() + 1;

  detail::begin_packet(out, detail::type_byte(PacketType::Subscribe, 0x02), remaining);  // [MQTT-3.8.1-1]
  detail::put_u16(out, s.packet_id);
  if (v5) detail::write_properties(s.properties, props, out);
  for (const SubscribeTopic& t : s.topics) {
    detail::put_str(out, t.filter);
    auto opts = static_cast<std::uint8_t>(t.qos & 0x03);
    if (v5) {
      if (t.no_local) opts |= kOptNoLocal;
      if (t.retain_as_published) opts |= kOptRetainAsPublished;
      opts |= static_cast<std::uint8_t>((t.retain_handling & 0x03) << 4);
    }
    detail::put_u8(out, opts);
  }
}

void encode_suback(Version v, const SubAck& s, std::string& out) {
  const bool v5 = detail::is_v5(v);
  const PacketType type = s.type == PacketType::Unsuback ? PacketType::Unsuback : PacketType::Suback;
  // 3.1.1 UNSUBACK carries only the packet identifier.
  const bool with_codes = v5 || type == PacketType::Suback;
  const std::size_t props = v5 ? properties_size(s.properties) : 0;
  const std::size_t remaining = 2 + (v5 ? varint_size(static_cast<std::uint32_t>(props)) + props : 0) +
                                (with_codes ? s.codes.size() : 0);
  detail::begin_packet(out, detail::type_byte(type), remaining);
  detail::put_u16(out, s.packet_id);
  if (v5) detail::write_properties(s.properties, props, out);
  if (with_codes) out.append(reinterpret_cast<const char*>(s.codes.data()), s.codes.size());
}

void encode_unsubscribe(Version v, const Unsubscribe& u, std::string& out) {
  const bool v5 = detail::is_v5(v);
  const std::size_t props = v5 ? properties_size(u.properties) : 0;
  std::size_t remaining = 2 + (v5 ? varint_size(static_cast<std::uint32_t>(props)) + props : 0);
  for (std::string_view f : u.filters) remaining += 2 + f.size();

  detail::begin_packet(out, detail::type_byte(PacketType::Unsubscribe, 0x02), remaining);  // [MQTT-3.10.1-1]
  detail::put_u16(out, u.packet_id);
  if (v5) detail::write_properties(u.properties, props, out);
  for (std::string_view f : u.filters) detail::put_str(out, f);
}

}  // namespace junction::mqtt
