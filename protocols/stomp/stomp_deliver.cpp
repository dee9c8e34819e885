// Outgoing MESSAGE frames. The headers that depend only on the message
// (topic destination, mapped properties, qos, content-length) are encoded
// once per message and wire format and cached in Message::encoded:
//   headers_slot(false): 1.1 / 1.2         headers_slot(true): 1.0 (no escaping)
// The first byte of a cached string is a marker: 'r' when some header text
// holds a CR, which only 1.2 can escape, so 1.1 encodes such a message
// itself. Per delivery only the first lines (subscription, destination of
// queue deliveries, message-id, ack, redelivered, retained) are written.
#include <charconv>

#include "log.h"
#include "stomp_connection.h"

namespace junction::stomp {

namespace {

void append_u64(std::uint64_t v, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, std::size_t(r.ptr - buf));
}

bool has_cr(std::string_view s) { return s.find('\r') != std::string_view::npos; }

// Does any header text of `m` contain CR? (Correlation data with a CR is
// not printable, so it travels as base64.)
bool headers_have_cr(const core::Message& m) {
  if (has_cr(m.topic) || has_cr(m.props().content_type) || has_cr(m.props().response_topic)) return true;
  for (const auto& up : m.props().user_properties)
    if (has_cr(up.name) || has_cr(up.value)) return true;
  return false;
}

}  // namespace

std::string_view StompConnection::shared_headers(const core::Message& m) {
  if (headers_depend_on_owner(m, owner())) {
    // Its reply-to is one of our temp queues, which we call /temp-queue/<n>.
    hdr_scratch_.clear();
    append_message_headers(m, header_escape(version_), owner(), hdr_scratch_);
    return hdr_scratch_;
  }
  const bool raw = version_ == Version::V1_0;
  std::string& cached = m.encoded[proto().headers_slot(raw)];
  if (cached.empty()) {
    std::size_t dropped = 0;
    cached.push_back(!raw && headers_have_cr(m) ? 'r' : '-');
    append_message_headers(m, raw ? HeaderEscape::None : HeaderEscape::V12, {}, cached, &dropped);
    if (dropped) {
      log::debug("stomp: message %llu: %zu headers cannot be written in STOMP %s", (unsigned long long)m.id, dropped,
                 raw ? "1.0" : "1.2");
    }
  }
  if (version_ == Version::V1_1 && cached[0] == 'r') {
    hdr_scratch_.clear();
    append_message_headers(m, HeaderEscape::V11, {}, hdr_scratch_);
    return hdr_scratch_;
  }
  return std::string_view(cached).substr(1);
}

void StompConnection::write_message(const Subscription& s, const core::Message& m, std::uint64_t key,
                                    std::uint32_t deliveries, bool retained) {
  std::string& h = msg_scratch_;
  h.clear();
  h.append("MESSAGE\n");
  h.append(s.head);
  // The ack id "<num>-<n>" (see stomp_handle_ack.cpp), as message-id and, in 1.2, as ack.
  char id[48];
  auto r = std::to_chars(id, id + 20, s.num);
  *r.ptr++ = '-';
  r = std::to_chars(r.ptr, id + sizeof id, key);
  const std::string_view ack_id(id, std::size_t(r.ptr - id));
  h.append("message-id:").append(ack_id).push_back('\n');
  if (s.ack != AckKind::Auto && version_ == Version::V1_2) h.append("ack:").append(ack_id).push_back('\n');
  if (deliveries > 1) {
    h.append("redelivered:true\ndelivery-count:");
    append_u64(deliveries, h);
    h.push_back('\n');
  }
  if (retained) h.append("retained:true\n");
  const std::string_view shared = shared_headers(m);
  emit(h);
  emit(shared);
  emit(m.payload);
  emit(std::string_view("\0", 1));
}

core::DeliverResult StompConnection::deliver(const core::Delivery& d) {
  // One MESSAGE per STOMP subscription whose filter matched: the core merged
  // overlapping filters into one delivery with each slot's id.
  for (std::uint32_t id : d.subscription_ids) {
    if (id == 0 || id > slots_.size()) continue;
    const TopicSlot& slot = slots_[id - 1];
    for (const Subscription* s : slot.subs) write_message(*s, d.msg, d.msg.id, 1, d.retain);
  }
  return core::DeliverResult::Sent;
}

}  // namespace junction::stomp
