// Method frames and content headers.
#include <type_traits>

#include "amqp_codec.h"
#include "amqp_wire.h"

namespace junction::amqp {

namespace {

template <std::size_t I = 0>
bool emplace_by_id(std::uint32_t id, Method& out) {
  if constexpr (I == std::variant_size_v<Method>) {
    return false;
  } else {
    using M = std::variant_alternative_t<I, Method>;
    if ((std::uint32_t(M::kClass) << 16 | M::kMethod) == id) {
      out.emplace<I>();
      return true;
    }
    return emplace_by_id<I + 1>(id, out);
  }
}

// Property flag bits, most significant first (§4.2.6.1; basic class properties).
enum : std::uint16_t {
  kContentType = 1u << 15, kContentEncoding = 1u << 14, kHeaders = 1u << 13, kDeliveryMode = 1u << 12,
  kPriority = 1u << 11, kCorrelationId = 1u << 10, kReplyTo = 1u << 9, kExpiration = 1u << 8,
  kMessageId = 1u << 7, kTimestamp = 1u << 6, kType = 1u << 5, kUserId = 1u << 4, kAppId = 1u << 3,
  kClusterId = 1u << 2,
};

}  // namespace

const char* method_name(const Method& m) {
  return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::kName; }, m);
}

bool has_content(const Method& m) {
  return std::holds_alternative<BasicPublish>(m) || std::holds_alternative<BasicReturn>(m) ||
         std::holds_alternative<BasicDeliver>(m);
}

Error decode_method(ByteSpan payload, Method& out) {
  detail::Reader r(payload);
  std::uint16_t cls = 0, mth = 0;
  r.u16(cls);
  r.u16(mth);
  if (!r.ok()) return r.error();
  if (!emplace_by_id((std::uint32_t(cls) << 16) | mth, out)) return Error::UnknownMethod;
  std::visit([&](auto& m) {
    detail::DecodeVisitor v{r};
    m.visit(v);
  }, out);
  if (!r.ok()) return r.error();
  if (!r.at_end()) return Error::TrailingBytes;
  return Error::None;
}

Error encode_method(std::uint16_t channel, const Method& m, std::string& out) {
  const std::size_t mark = out.size();
  const std::size_t start = detail::begin_frame(out, FrameType::Method, channel);
  detail::Writer w(out);
  std::visit([&](const auto& x) {
    using M = std::decay_t<decltype(x)>;
    w.u16(M::kClass);
    w.u16(M::kMethod);
    detail::EncodeVisitor v{w};
    const_cast<M&>(x).visit(v);  // visit() only reads through EncodeVisitor
  }, m);
  if (w.error() != Error::None) {
    out.resize(mark);
    return w.error();
  }
  detail::end_frame(out, start);
  return Error::None;
}

Error decode_content_header(ByteSpan payload, ContentHeader& out) {
  detail::Reader r(payload);
  std::uint16_t weight = 0, flags = 0;
  out = ContentHeader{};
  r.u16(out.class_id);
  r.u16(weight);
  r.u64(out.body_size);
  r.u16(flags);
  if (!r.ok()) return r.error();
  // Bit 0 would announce a second flags word; the basic class has 14 properties, so bits 0..1 must be clear.
  if (flags & 0x3) return Error::BadPropertyFlags;
  BasicProperties& p = out.properties;
  auto str = [&](std::uint16_t bit, std::optional<std::string>& f) {
    if (flags & bit) r.shortstr(f.emplace());
  };
  str(kContentType, p.content_type);
  str(kContentEncoding, p.content_encoding);
  if (flags & kHeaders) r.table(p.headers.emplace());
  if (flags & kDeliveryMode) r.u8(p.delivery_mode.emplace());
  if (flags & kPriority) r.u8(p.priority.emplace());
  str(kCorrelationId, p.correlation_id);
  str(kReplyTo, p.reply_to);
  str(kExpiration, p.expiration);
  str(kMessageId, p.message_id);
  if (flags & kTimestamp) r.u64(p.timestamp.emplace());
  str(kType, p.type);
  str(kUserId, p.user_id);
  str(kAppId, p.app_id);
  str(kClusterId, p.cluster_id);
  if (!r.ok()) return r.error();
  if (!r.at_end()) return Error::TrailingBytes;
  return Error::None;
}

Error encode_content_header(std::uint16_t channel, const ContentHeader& h, std::string& out) {
  const BasicProperties& p = h.properties;
  std::uint16_t flags = 0;
  if (p.content_type) flags |= kContentType;
  if (p.content_encoding) flags |= kContentEncoding;
  if (p.headers) flags |= kHeaders;
  if (p.delivery_mode) flags |= kDeliveryMode;
  if (p.priority) flags |= kPriority;
  if (p.correlation_id) flags |= kCorrelationId;
  if (p.reply_to) flags |= kReplyTo;
  if (p.expiration) flags |= kExpiration;
  if (p.message_id) flags |= kMessageId;
  if (p.timestamp) flags |= kTimestamp;
  if (p.type) flags |= kType;
  if (p.user_id) flags |= kUserId;
  if (p.app_id) flags |= kAppId;
  if (p.cluster_id) flags |= kClusterId;

  const std::size_t mark = out.size();
  const std::size_t start = detail::begin_frame(out, FrameType::Header, channel);
  detail::Writer w(out);
  w.u16(h.class_id);
  w.u16(0);  // weight
  w.u64(h.body_size);
  w.u16(flags);
  auto str = [&](const std::optional<std::string>& f) { if (f) w.shortstr(*f); };
  str(p.content_type);
  str(p.content_encoding);
  if (p.headers) w.table(*p.headers);
  if (p.delivery_mode) w.u8(*p.delivery_mode);
  if (p.priority) w.u8(*p.priority);
  str(p.correlation_id);
  str(p.reply_to);
  str(p.expiration);
  str(p.message_id);
  if (p.timestamp) w.u64(*p.timestamp);
  str(p.type);
  str(p.user_id);
  str(p.app_id);
  str(p.cluster_id);
  if (w.error() != Error::None) {
    out.resize(mark);
    return w.error();
  }
  detail::end_frame(out, start);
  return Error::None;
}

}  // namespace junction::amqp
