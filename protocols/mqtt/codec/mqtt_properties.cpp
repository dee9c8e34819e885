// MQTT 5 properties (v5 2.2.2): decoding with the per-packet table of
// allowed identifiers, and encoding.
//
// Error policy (one rule for every packet, so the front-end can rely on it):
//  - unknown identifier, identifier not allowed on this packet, truncated
//    value, bad UTF-8, block longer than the packet: Malformed Packet.
//    v5 2.2.2.2 says "A Control Packet which contains an Identifier which is
//    not valid for its packet type ... is a Malformed Packet".
//  - a property that repeats although only User Property (and Subscription
//    Identifier on PUBLISH) may repeat, or a value outside its range
//    (Receive Maximum 0, Maximum Packet Size 0, Subscription Identifier 0,
//    a 0/1 byte with another value, Maximum QoS > 1): Protocol Error, as the
//    property descriptions in 3.x say.
//  - Topic Alias 0 is checked by decode_publish (Topic Alias Invalid).
#include "mqtt_internal.h"

#include <array>

namespace junction::mqtt {

namespace {

enum class Kind : std::uint8_t { None, Byte, Two, Four, Varint, Utf8, Binary, Pair };

// Bit t is PacketType t; bit 0 (no packet has type 0) stands for the Will
// Properties of CONNECT (v5 3.1.3.2).
constexpr std::uint16_t kWill = 1u;
constexpr std::uint16_t bit(PacketType t) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(t)); }
constexpr std::uint16_t kPubAcks =
    bit(PacketType::Puback) | bit(PacketType::Pubrec) | bit(PacketType::Pubrel) | bit(PacketType::Pubcomp);
constexpr std::uint16_t kAllButPing = static_cast<std::uint16_t>(
    kWill | bit(PacketType::Connect) | bit(PacketType::Connack) | bit(PacketType::Publish) | kPubAcks |
    bit(PacketType::Subscribe) | bit(PacketType::Suback) | bit(PacketType::Unsubscribe) | bit(PacketType::Unsuback) |
    bit(PacketType::Disconnect) | bit(PacketType::Auth));

struct PropInfo {
  Kind kind = Kind::None;
  std::uint16_t allowed = 0;
};

// v5 Table 2-4 (Properties).
constexpr std::array<PropInfo, 0x2B> make_table() {
  std::array<PropInfo, 0x2B> t{};
  const auto pub_will = static_cast<std::uint16_t>(bit(PacketType::Publish) | kWill);
  const auto connack = bit(PacketType::Connack);
  const auto conn_both = static_cast<std::uint16_t>(bit(PacketType::Connect) | connack);
  t[0x01] = {Kind::Byte, pub_will};    // Payload Format Indicator
  t[0x02] = {Kind::Four, pub_will};    // Message Expiry Interval
  t[0x03] = {Kind::Utf8, pub_will};    // Content Type
  t[0x08] = {Kind::Utf8, pub_will};    // Response Topic
  t[0x09] = {Kind::Binary, pub_will};  // Correlation Data
  t[0x0B] = {Kind::Varint, static_cast<std::uint16_t>(bit(PacketType::Publish) | bit(PacketType::Subscribe))};
  t[0x11] = {Kind::Four, static_cast<std::uint16_t>(conn_both | bit(PacketType::Disconnect))};  // Session Expiry
  t[0x12] = {Kind::Utf8, connack};                                                               // Assigned Client Id
  t[0x13] = {Kind::Two, connack};                                                                // Server Keep Alive
  t[0x15] = {Kind::Utf8, static_cast<std::uint16_t>(conn_both | bit(PacketType::Auth))};         // Auth Method
  t[0x16] = {Kind::Binary, static_cast<std::uint16_t>(conn_both | bit(PacketType::Auth))};       // Auth Data
  t[0x17] = {Kind::Byte, bit(PacketType::Connect)};  // Request Problem Information
  t[0x18] = {Kind::Four, kWill};                     // Will Delay Interval
  t[0x19] = {Kind::Byte, bit(PacketType::Connect)};  // Request Response Information
  t[0x1A] = {Kind::Utf8, connack};                   // Response Information
  t[0x1C] = {Kind::Utf8, static_cast<std::uint16_t>(connack | bit(PacketType::Disconnect))};  // Server Reference
  t[0x1F] = {Kind::Utf8, static_cast<std::uint16_t>(connack | kPubAcks | bit(PacketType::Suback) |
                                                     bit(PacketType::Unsuback) | bit(PacketType::Disconnect) |
                                                     bit(PacketType::Auth))};  // Reason String
  t[0x21] = {Kind::Two, conn_both};                                           // Receive Maximum
  t[0x22] = {Kind::Two, conn_both};                                           // Topic Alias Maximum
  t[0x23] = {Kind::Two, bit(PacketType::Publish)};                            // Topic Alias
  t[0x24] = {Kind::Byte, connack};                                            // Maximum QoS
  t[0x25] = {Kind::Byte, connack};                                            // Retain Available
  t[0x26] = {Kind::Pair, kAllButPing};                                        // User Property
  t[0x27] = {Kind::Four, conn_both};                                          // Maximum Packet Size
  t[0x28] = {Kind::Byte, connack};  // Wildcard Subscription Available
  t[0x29] = {Kind::Byte, connack};  // Subscription Identifier Available
  t[0x2A] = {Kind::Byte, connack};  // Shared Subscription Available
  return t;
}

constexpr std::array<PropInfo, 0x2B> kTable = make_table();

Status bad(const char* w) { return detail::malformed(w); }
Status proto(const char* w) { return detail::protocol_error(w); }

// Stores a one-byte property that may only be 0 or 1.
Status set_bool_byte(std::optional<std::uint8_t>& slot, std::uint8_t v, const char* what) {
  if (v > 1) return proto(what);
  slot = v;
  return {};
}

}  // namespace

namespace detail {

void reset_properties(Properties& p) {
  auto ids = std::move(p.subscription_identifiers);
  auto users = std::move(p.user_properties);
  ids.clear();
  users.clear();
  p = Properties{};
  p.subscription_identifiers = std::move(ids);
  p.user_properties = std::move(users);
}

}  // namespace detail

Status decode_properties(ByteSpan& cursor, PacketType allowed_for, bool is_will, Properties& out) {
  detail::reset_properties(out);
  detail::Reader outer(cursor);
  std::uint32_t len = 0;
  if (!outer.varint(len)) return bad("invalid property length");
  ByteSpan block;
  if (!outer.bytes(len, block)) return bad("property length exceeds packet");
  cursor = outer.rest();

  const std::uint16_t need = is_will ? kWill : bit(allowed_for);
  // Subscription Identifier repeats only on server-sent PUBLISH (3.3.2.3.8);
  // on SUBSCRIBE it is a Protocol Error to include it twice (3.8.2.1.2).
  const bool ids_repeat = !is_will && allowed_for == PacketType::Publish;
  std::uint64_t seen = 0;

  detail::Reader r(block);
  while (!r.empty()) {
    std::uint32_t id = 0;
    if (!r.varint(id)) return bad("invalid property identifier");
    if (id >= kTable.size() || kTable[id].kind == Kind::None) return bad("unknown property identifier");
    const PropInfo& info = kTable[id];
    if ((info.allowed & need) == 0) return bad("property not allowed on this packet");
    const std::uint64_t mask = std::uint64_t{1} << id;
    if ((seen & mask) != 0 && id != 0x26 && !(id == 0x0B && ids_repeat)) return proto("duplicate property");
    seen |= mask;

    std::uint8_t b = 0;
    std::uint16_t u16 = 0;
    std::uint32_t u32 = 0;
    std::string_view s;
    ByteSpan bin;
    switch (info.kind) {
      case Kind::Byte:
        if (!r.u8(b)) return bad("truncated property");
        break;
      case Kind::Two:
        if (!r.u16(u16)) return bad("truncated property");
        break;
      case Kind::Four:
        if (!r.u32(u32)) return bad("truncated property");
        break;
      case Kind::Varint:
        if (!r.varint(u32)) return bad("invalid property varint");
        break;
      case Kind::Utf8:
        if (Status st = detail::read_utf8(r, s, "truncated property", "property string is not valid UTF-8"); !st.ok())
          return st;
        break;
      case Kind::Binary:
        if (!r.binary(bin)) return bad("truncated property");
        break;
      case Kind::Pair: {
        UserProperty up;
        if (Status st = detail::read_utf8(r, up.name, "truncated user property", "user property is not valid UTF-8");
            !st.ok())
          return st;
        if (Status st = detail::read_utf8(r, up.value, "truncated user property", "user property is not valid UTF-8");
            !st.ok())
          return st;
        out.user_properties.push_back(up);
        continue;
      }
      case Kind::None:
        return bad("unknown property identifier");
    }

    Status st;
    switch (id) {
      case 0x01: st = set_bool_byte(out.payload_format_indicator, b, "payload format indicator not 0 or 1"); break;
      case 0x02: out.message_expiry_interval = u32; break;
      case 0x03: out.content_type = s; break;
      case 0x08:
        // [MQTT-3.3.2-14]: a response topic is a topic name, never a filter.
        if (detail::has_wildcard(s)) return proto("response topic contains a wildcard");
        out.response_topic = s;
        break;
      case 0x09: out.correlation_data = detail::as_chars(bin); break;
      case 0x0B:
        if (u32 == 0) return proto("subscription identifier 0");  // 3.3.2.3.8, 3.8.2.1.2
        out.subscription_identifiers.push_back(u32);
        break;
      case 0x11: out.session_expiry_interval = u32; break;
      case 0x12: out.assigned_client_identifier = s; break;
      case 0x13: out.server_keep_alive = u16; break;
      case 0x15: out.authentication_method = s; break;
      case 0x16: out.authentication_data = detail::as_chars(bin); break;
      case 0x17: st = set_bool_byte(out.request_problem_information, b, "request problem information not 0 or 1"); break;
      case 0x18: out.will_delay_interval = u32; break;
      case 0x19:
        st = set_bool_byte(out.request_response_information, b, "request response information not 0 or 1");
        break;
      case 0x1A: out.response_information = s; break;
      case 0x1C: out.server_reference = s; break;
      case 0x1F: out.reason_string = s; break;
      case 0x21:
        if (u16 == 0) return proto("receive maximum 0");  // 3.1.2.11.3, 3.2.2.3.3
        out.receive_maximum = u16;
        break;
      case 0x22: out.topic_alias_maximum = u16; break;
      case 0x23: out.topic_alias = u16; break;
      case 0x24:
        if (b > 1) return proto("maximum QoS not 0 or 1");  // 3.2.2.3.4
        out.maximum_qos = b;
        break;
      case 0x25: st = set_bool_byte(out.retain_available, b, "retain available not 0 or 1"); break;
      case 0x27:
        if (u32 == 0) return proto("maximum packet size 0");  // 3.1.2.11.4, 3.2.2.3.6
        out.maximum_packet_size = u32;
        break;
      case 0x28: st = set_bool_byte(out.wildcard_subscription_available, b, "wildcard available not 0 or 1"); break;
      case 0x29:
        st = set_bool_byte(out.subscription_identifier_available, b, "subscription ids available not 0 or 1");
        break;
      case 0x2A: st = set_bool_byte(out.shared_subscription_available, b, "shared available not 0 or 1"); break;
      default: return bad("unknown property identifier");
    }
    if (!st.ok()) return st;
  }
  // 3.1.2.11.10 (and likewise CONNACK/AUTH): data without a method is meaningless.
  if (out.authentication_data && !out.authentication_method) return proto("authentication data without method");
  return {};
}

// ---- encoding ----------------------------------------------------------------

namespace {

// Walks the present properties in identifier order; Sizer and Writer below
// share it so the size computed up front always matches what is written.
template <class V>
void visit(const Properties& p, V& v) {
  if (p.payload_format_indicator) v.byte(0x01, *p.payload_format_indicator);
  if (p.message_expiry_interval) v.four(0x02, *p.message_expiry_interval);
  if (p.content_type) v.str(0x03, *p.content_type);
  if (p.response_topic) v.str(0x08, *p.response_topic);
  if (p.correlation_data) v.str(0x09, *p.correlation_data);
  for (std::uint32_t id : p.subscription_identifiers) v.varint(0x0B, id);
  if (p.session_expiry_interval) v.four(0x11, *p.session_expiry_interval);
  if (p.assigned_client_identifier) v.str(0x12, *p.assigned_client_identifier);
  if (p.server_keep_alive) v.two(0x13, *p.server_keep_alive);
  if (p.authentication_method) v.str(0x15, *p.authentication_method);
  if (p.authentication_data) v.str(0x16, *p.authentication_data);
  if (p.request_problem_information) v.byte(0x17, *p.request_problem_information);
  if (p.will_delay_interval) v.four(0x18, *p.will_delay_interval);
  if (p.request_response_information) v.byte(0x19, *p.request_response_information);
  if (p.response_information) v.str(0x1A, *p.response_information);
  if (p.server_reference) v.str(0x1C, *p.server_reference);
  if (p.reason_string) v.str(0x1F, *p.reason_string);
  if (p.receive_maximum) v.two(0x21, *p.receive_maximum);
  if (p.topic_alias_maximum) v.two(0x22, *p.topic_alias_maximum);
  if (p.topic_alias) v.two(0x23, *p.topic_alias);
  if (p.maximum_qos) v.byte(0x24, *p.maximum_qos);
  if (p.retain_available) v.byte(0x25, *p.retain_available);
  for (const UserProperty& up : p.user_properties) v.pair(0x26, up);
  if (p.maximum_packet_size) v.four(0x27, *p.maximum_packet_size);
  if (p.wildcard_subscription_available) v.byte(0x28, *p.wildcard_subscription_available);
  if (p.subscription_identifier_available) v.byte(0x29, *p.subscription_identifier_available);
  if (p.shared_subscription_available) v.byte(0x2A, *p.shared_subscription_available);
}

// All identifiers are below 128, so each takes one byte.
struct Sizer {
  std::size_t n = 0;
  void byte(std::uint8_t, std::uint8_t) { n += 2; }
  void two(std::uint8_t, std::uint16_t) { n += 3; }
  void four(std::uint8_t, std::uint32_t) { n += 5; }
  void varint(std::uint8_t, std::uint32_t v) { n += 1 + varint_size(v); }
  void str(std::uint8_t, std::string_view s) { n += 3 + s.size(); }
  void pair(std::uint8_t, const UserProperty& up) { n += 5 + up.name.size() + up.value.size(); }
};

struct Writer {
  std::string& out;
  void byte(std::uint8_t id, std::uint8_t v) {
    detail::put_u8(out, id);
    detail::put_u8(out, v);
  }
  void two(std::uint8_t id, std::uint16_t v) {
    detail::put_u8(out, id);
    detail::put_u16(out, v);
  }
  void four(std::uint8_t id, std::uint32_t v) {
    detail::put_u8(out, id);
    detail::put_u32(out, v);
  }
  void varint(std::uint8_t id, std::uint32_t v) {
    detail::put_u8(out, id);
    encode_varint(v, out);
  }
  void str(std::uint8_t id, std::string_view s) {
    detail::put_u8(out, id);
    detail::put_str(out, s);
  }
  void pair(std::uint8_t id, const UserProperty& up) {
    detail::put_u8(out, id);
    detail::put_str(out, up.name);
    detail::put_str(out, up.value);
  }
};

}  // namespace

std::size_t properties_size(const Properties& p) {
  Sizer s;
  visit(p, s);
  return s.n;
}

namespace detail {

void write_properties(const Properties& p, std::size_t size, std::string& out) {
  encode_varint(static_cast<std::uint32_t>(size), out);
  Writer w{out};
  visit(p, w);
}

}  // namespace detail

void encode_properties(const Properties& p, std::string& out) {
  const std::size_t n = properties_size(p);
  out.reserve(out.size() + varint_size(static_cast<std::uint32_t>(n)) + n);
  detail::write_properties(p, n, out);
}

}  // namespace junction::mqtt
