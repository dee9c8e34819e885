// Internal helpers shared by the codec's .cpp files; not part of the public
// header. Invariants:
//  - Reader never dereferences past `end`; every read reports truncation by
//    returning false without moving the cursor (callers bail out).
//  - The put_* writers only append; callers reserve the exact size first so
//    each encode_* grows the output string at most once.
//
// Reason code policy of the decoders (the same for every version; v3
// front-ends just close):
//  - MalformedPacket: the bytes do not parse: truncation, trailing bytes,
//    bad varint, bad UTF-8, reserved bits set, QoS 3 where v3.1.1 calls it
//    malformed, packet identifier 0, unknown property or one not allowed on
//    the packet (v5 2.2.2.2), v3 empty topic.
//  - ProtocolError: well-formed but forbidden: duplicate property, property
//    value out of range, reason/return code the packet does not define, no
//    topic filters, v5 empty topic without alias, AUTH under v3.
//  - TopicNameInvalid / TopicAliasInvalid / PayloadFormatInvalid /
//    UnsupportedProtocolVersion where the spec names those codes.
// On error the output struct is partly filled and must not be used.
#pragma once

#include "mqtt_codec.h"

namespace junction::mqtt::detail {

// Result of decoding a Variable Byte Integer from a possibly short buffer.
enum class VarintStatus : std::uint8_t { Ok, NeedMore, Malformed };

// v5 1.5.5: at most 4 bytes, and the minimum number of bytes
// [MQTT-1.5.5-1]; a longer or non-minimal encoding is malformed.
VarintStatus decode_varint(const std::uint8_t* p, std::size_t n, std::uint32_t& value, std::size_t& used);

// RFC 3629 well-formedness (no overlongs, no surrogates, <= U+10FFFF). The
// MQTT string rule [MQTT-1.5.4-2] additionally forbids U+0000; payloads with
// Payload Format Indicator 1 are "UTF-8 Encoded Character Data" and may hold it.
bool utf8_well_formed(std::string_view s, bool allow_nul);

inline std::string_view as_chars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class Reader {
 public:
  explicit Reader(ByteSpan s) : p_(s.data()), end_(s.data() + s.size()) {}

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }
  ByteSpan rest() const { return {p_, left()}; }
  void advance(std::size_t n) { p_ += n; }

  bool u8(std::uint8_t& v) {
    if (left() < 1) return false;
    v = *p_++;
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (left() < 2) return false;
    v = static_cast<std::uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (left() < 4) return false;
    v = (std::uint32_t{p_[0]} << 24) | (std::uint32_t{p_[1]} << 16) | (std::uint32_t{p_[2]} << 8) | p_[3];
    p_ += 4;
    return true;
  }
  // A truncated varint inside a complete frame is malformed, not NeedMore.
  bool varint(std::uint32_t& v) {
    std::size_t used = 0;
    if (decode_varint(p_, left(), v, used) != VarintStatus::Ok) return false;
    p_ += used;
    return true;
  }
  bool bytes(std::size_t n, ByteSpan& out) {
    if (left() < n) return false;
    out = ByteSpan{p_, n};
    p_ += n;
    return true;
  }
  // Binary Data (v5 1.5.6): two-byte length, then bytes.
  bool binary(ByteSpan& out) {
    std::uint16_t n = 0;
    return u16(n) && bytes(n, out);
  }
  // UTF-8 Encoded String (v5 1.5.4), without validation (see read_utf8()).
  bool raw_string(std::string_view& out) {
    ByteSpan b;
    if (!binary(b)) return false;
    out = as_chars(b);
    return true;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// Reads a length-prefixed string and validates it per [MQTT-1.5.4-1], [MQTT-1.5.4-2].
// Both truncation and bad UTF-8 are Malformed Packet.
inline Status read_utf8(Reader& r, std::string_view& out, const char* what_truncated, const char* what_bad) {
  if (!r.raw_string(out)) return Status::error(Reason::MalformedPacket, what_truncated);
  if (!valid_utf8(out)) return Status::error(Reason::MalformedPacket, what_bad);
  return {};
}

inline Status malformed(const char* w) { return Status::error(Reason::MalformedPacket, w); }
inline Status protocol_error(const char* w) { return Status::error(Reason::ProtocolError, w); }

// Clears `p` but keeps the vectors' capacity, so a reused struct decodes
// without allocating (Properties::clear() would free them).
void reset_properties(Properties& p);

// Properties are only validated/decoded for v5; for v3 the struct is reset.
inline bool is_v5(Version v) { return v == Version::V5; }

// True if `code` is a reason code the v5 spec lists for packet type `t`
// (for SUBACK/UNSUBACK: per-topic codes).
bool reason_allowed(PacketType t, std::uint8_t code);

// Topic names carry no wildcards (v5 4.7.1, [MQTT-3.3.2-2]).
// A plain loop: find_first_of calls memchr on the set once per byte.
inline bool has_wildcard(std::string_view s) {
  for (const char c : s) {
    if (c == '+' || c == '#') return true;
  }
  return false;
}

// decode_properties() on the reader's remaining bytes, advancing the reader.
inline Status read_properties(Reader& r, PacketType t, bool is_will, Properties& out) {
  ByteSpan cursor = r.rest();
  Status st = decode_properties(cursor, t, is_will, out);
  if (st.ok()) r.advance(r.left() - cursor.size());
  return st;
}

// ---- writers ----------------------------------------------------------------

inline void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
inline void put_u16(std::string& out, std::uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
  out.append(b, 2);
}
inline void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF),
                     static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
  out.append(b, 4);
}
// Strings and binary data longer than 65535 bytes cannot be represented;
// callers must not pass them (the length is truncated to 16 bits).
inline void put_str(std::string& out, std::string_view s) {
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s.data(), s.size());
}
inline void put_bin(std::string& out, ByteSpan b) { put_str(out, as_chars(b)); }
inline void put_raw(std::string& out, ByteSpan b) { out.append(reinterpret_cast<const char*>(b.data()), b.size()); }

// Writes the fixed header and reserves room for the whole packet at once.
inline void begin_packet(std::string& out, std::uint8_t first_byte, std::size_t remaining) {
  out.reserve(out.size() + 1 + varint_size(static_cast<std::uint32_t>(remaining)) + remaining);
  put_u8(out, first_byte);
  encode_varint(static_cast<std::uint32_t>(remaining), out);
}

inline std::uint8_t type_byte(PacketType t, std::uint8_t flags = 0) {
  return static_cast<std::uint8_t>((static_cast<std::uint8_t>(t) << 4) | flags);
}

// Appends the properties block given its size from properties_size(), so
// encoders that already summed the packet size do not walk the set twice.
void write_properties(const Properties& p, std::size_t size, std::string& out);

// Size of a properties block including its varint length prefix.
inline std::size_t properties_block_size(const Properties& p) {
  const std::size_t n = properties_size(p);
  return varint_size(static_cast<std::uint32_t>(n)) + n;
}

}  // namespace junction::mqtt::detail
