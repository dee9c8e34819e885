// Framing: the push parser, heartbeats, body frames, content assembly.
#include "amqp_codec.h"
#include "amqp_wire.h"

namespace junction::amqp {

const char* error_name(Error e) {
  switch (e) {
    case Error::None: return "ok";
    case Error::ProtocolHeader: return "server refused the protocol version";
    case Error::BadFrameType: return "bad frame type";
    case Error::FrameTooLarge: return "frame larger than frame-max";
    case Error::BadFrameEnd: return "bad frame-end octet";
    case Error::BadHeartbeat: return "bad heartbeat frame";
    case Error::Truncated: return "truncated payload";
    case Error::TrailingBytes: return "trailing bytes in payload";
    case Error::UnknownMethod: return "unknown method";
    case Error::BadFieldType: return "bad field value type";
    case Error::TooDeep: return "field table nested too deep";
    case Error::StringTooLong: return "short string over 255 octets";
    case Error::BadPropertyFlags: return "bad property flags";
    case Error::UnexpectedFrame: return "unexpected content frame";
    case Error::BodyTooLarge: return "content body too large";
  }
  return "?";
}

ParseResult FrameParser::next(ByteSpan in, Frame& out, Error& err) const {
  err = Error::None;
  if (in.empty()) return ParseResult::NeedMore;
  if (in[0] == 'A') {
    // Only a protocol header starts with 'A' (0x41 is no frame type); wait for
    // all of it so the error is the same however the bytes arrive.
    const std::size_t n = std::min<std::size_t>(in.size(), 4);
    if (std::string_view(reinterpret_cast<const char*>(in.data()), n) != std::string_view("AMQP", n)) {
      err = Error::BadFrameType;
      return ParseResult::Error;
    }
    if (in.size() < kProtocolHeader.size()) return ParseResult::NeedMore;
    err = Error::ProtocolHeader;
    return ParseResult::Error;
  }
  const std::uint8_t type = in[0];
  if (type != 1 && type != 2 && type != 3 && type != 8) {
    err = Error::BadFrameType;
    return ParseResult::Error;
  }
  if (in.size() < 7) return ParseResult::NeedMore;
  const std::uint16_t channel = static_cast<std::uint16_t>((in[1] << 8) | in[2]);
  const std::uint32_t size = (std::uint32_t(in[3]) << 24) | (std::uint32_t(in[4]) << 16) | (std::uint32_t(in[5]) << 8) | in[6];
  if (std::uint64_t(size) + kFrameOverhead > max_) {
    err = Error::FrameTooLarge;
    return ParseResult::Error;
  }
  if (type == 8 && (size != 0 || channel != 0)) {
    err = Error::BadHeartbeat;
    return ParseResult::Error;
  }
  const std::size_t total = std::size_t(size) + kFrameOverhead;
  if (in.size() < total) return ParseResult::NeedMore;
  if (in[total - 1] != kFrameEnd) {
    err = Error::BadFrameEnd;
    return ParseResult::Error;
  }
  out.type = static_cast<FrameType>(type);
  out.channel = channel;
  out.payload = in.subspan(7, size);
  out.total_size = total;
  return ParseResult::Frame;
}

void encode_heartbeat(std::string& out) {
  const std::size_t start = detail::begin_frame(out, FrameType::Heartbeat, 0);
  detail::end_frame(out, start);
}

void encode_body(std::uint16_t channel, std::string_view body, std::uint32_t frame_max, std::string& out) {
  const std::size_t chunk = frame_max > kFrameOverhead ? frame_max - kFrameOverhead : 1;
  for (std::size_t off = 0; off < body.size(); off += chunk) {
    const std::size_t start = detail::begin_frame(out, FrameType::Body, channel);
    out.append(body.substr(off, chunk));
    detail::end_frame(out, start);
  }
}

ContentAssembler::Step ContentAssembler::feed(const Frame& f, Error& err) {
  err = Error::None;
  if (state_ == State::Header) {
    if (f.type != FrameType::Header) {
      err = Error::UnexpectedFrame;
      return Step::Error;
    }
    err = decode_content_header(f.payload, header_);
    if (err != Error::None) return Step::Error;
    if (header_.body_size > max_body_) {
      err = Error::BodyTooLarge;
      return Step::Error;
    }
    if (header_.body_size == 0) {
      state_ = State::Idle;
      return Step::Complete;
    }
    state_ = State::Body;
    return Step::NeedMore;
  }
  if (state_ != State::Body || f.type != FrameType::Body ||
      body_.size() + f.payload.size() > header_.body_size) {
    err = Error::UnexpectedFrame;
    return Step::Error;
  }
  body_.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
  if (body_.size() < header_.body_size) return Step::NeedMore;
  state_ = State::Idle;
  return Step::Complete;
}

}  // namespace junction::amqp
