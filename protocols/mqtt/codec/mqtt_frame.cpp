// Fixed header framing (v5 2.1) and Variable Byte Integers (v5 1.5.5).
//
// The parser is a pure function of the bytes it is shown: it keeps no state
// between calls, so the caller can feed any prefix of its buffer and call again
// when more bytes arrive. Everything that can be judged from the fixed header
// (type, flags, length, size limit) is judged before the body is needed, so a
// peer cannot make us wait for (or buffer) a packet we will refuse anyway.
#include "mqtt_internal.h"

namespace junction::mqtt {

namespace detail {

VarintStatus decode_varint(const std::uint8_t* p, std::size_t n, std::uint32_t& value, std::size_t& used) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i >= n) return VarintStatus::NeedMore;
    const std::uint8_t b = p[i];
    v |= std::uint32_t{static_cast<std::uint8_t>(b & 0x7F)} << (7 * i);
    if ((b & 0x80) == 0) {
      // A zero final byte after a continuation is a non-minimal encoding,
      // which [MQTT-1.5.5-1] forbids; accepting it would let two encodings of
      // one packet differ in size.
      if (i > 0 && b == 0) return VarintStatus::Malformed;
      value = v;
      used = i + 1;
      return VarintStatus::Ok;
    }
  }
  return VarintStatus::Malformed;  // a fifth byte would be needed
}

}  // namespace detail

std::size_t varint_size(std::uint32_t v) {
  if (v < 128u) return 1;
  if (v < 16384u) return 2;
  if (v < 2097152u) return 3;
  return 4;
}

// Precondition: v <= 268435455 (the largest value four bytes can carry).
void encode_varint(std::uint32_t v, std::string& out) {
  do {
    auto b = static_cast<std::uint8_t>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v != 0);
}

namespace {

// [MQTT-2.1.3-1] (v5 Table 2-2, v3.1.1 Table 2.2): flags are fixed for every
// type but PUBLISH; for PUBLISH only QoS 3 is forbidden [MQTT-3.3.1-4].
// MQTT 3.1 sent PUBREL, SUBSCRIBE and UNSUBSCRIBE at QoS 1 and set DUP when
// it resent them: its clients get that bit too.
bool flags_valid(std::uint8_t type, std::uint8_t flags, Version version) {
  switch (static_cast<PacketType>(type)) {
    case PacketType::Publish:
      return ((flags >> 1) & 0x03) != 3;
    case PacketType::Pubrel:
    case PacketType::Subscribe:
    case PacketType::Unsubscribe:
      return flags == 0x02 || (version == Version::V31 && flags == 0x0A);
    default:
      return flags == 0;
  }
}

}  // namespace

FrameResult MqttFrameParser::next(ByteSpan buf, Frame& out, Status& status, std::size_t* needed) const {
  if (needed != nullptr) *needed = 0;
  status = Status{};
  if (buf.empty()) return FrameResult::NeedMore;

  const std::uint8_t type = buf[0] >> 4;
  const std::uint8_t flags = buf[0] & 0x0F;
  if (type == 0) {
    status = detail::malformed("reserved packet type 0");
    return FrameResult::Error;
  }
  if (!flags_valid(type, flags, version_)) {
    status = detail::malformed(type == static_cast<std::uint8_t>(PacketType::Publish) ? "PUBLISH with QoS 3"
                                                                                    : "invalid fixed header flags");
    return FrameResult::Error;
  }

  std::uint32_t remaining = 0;
  std::size_t used = 0;
  switch (detail::decode_varint(buf.data() + 1, buf.size() - 1, remaining, used)) {
    case detail::VarintStatus::NeedMore:
      return FrameResult::NeedMore;
    case detail::VarintStatus::Malformed:
      status = detail::malformed("invalid remaining length");
      return FrameResult::Error;
    case detail::VarintStatus::Ok:
      break;
  }

  // 64-bit so the sum cannot wrap whatever the limit is.
  const std::uint64_t total = 1u + used + std::uint64_t{remaining};
  if (total > max_packet_size_) {
    status = Status::error(Reason::PacketTooLarge, "packet exceeds maximum packet size");
    return FrameResult::Error;
  }
  // v5 3.12.1, 3.13.1: PINGREQ/PINGRESP have no variable header
  // or payload; refusing here saves every caller a check.
  if ((type == static_cast<std::uint8_t>(PacketType::Pingreq) ||
       type == static_cast<std::uint8_t>(PacketType::Pingresp)) &&
      remaining != 0) {
    status = detail::malformed("PINGREQ/PINGRESP with a body");
    return FrameResult::Error;
  }
  if (buf.size() < total) {
    if (needed != nullptr) *needed = static_cast<std::size_t>(total);
    return FrameResult::NeedMore;
  }
  out.type = static_cast<PacketType>(type);
  out.flags = flags;
  out.body = buf.subspan(1 + used, remaining);
  out.total_size = static_cast<std::size_t>(total);
  return FrameResult::Frame;
}

}  // namespace junction::mqtt
