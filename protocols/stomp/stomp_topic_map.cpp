// STOMP <-> core names and headers; the rules are in stomp_topic_map.h.
#include "stomp_topic_map.h"

#include "base64.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "decimal.h"
#include "queue.h"
#include "topic.h"
#include "utf8.h"

namespace junction::stomp {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Sorted for binary search (a unit test checks the order).
constexpr std::array<std::string_view, 33> kReserved = {
    "accept-version", "ack",          "content-length", "content-type", "correlation-id",
    "correlation-id-encoding",        "delivery-count", "destination",  "expires",
    "heart-beat",     "host",         "id",             "login",        "message",
    "message-id",     "passcode",     "persistent",     "prefetch-count", "priority",
    "qos",            "receipt",      "receipt-id",     "redelivered",  "reply-to",
    "requeue",        "retain",       "retained",       "server",       "session",
    "subscription",   "timestamp",    "transaction",    "version",
};

// Text check shared by names and values: can `t` be written so that the
// parser of this version reads back exactly `t`?
bool encodable(std::string_view t, bool is_name, HeaderEscape e) {
  if (t.find('\0') != std::string_view::npos) return false;
  if (e == HeaderEscape::None) {
    if (t.find('\n') != std::string_view::npos) return false;
    if (is_name && t.find(':') != std::string_view::npos) return false;
  }
  // Before the LF that ends the line the parser strips one CR: only 1.2 can
  // say "\r".
  if (e != HeaderEscape::V12 && !t.empty() && t.back() == '\r') return false;
  return true;
}

void append_escaped(std::string_view t, HeaderEscape e, std::string& out) {
  if (e == HeaderEscape::None) {
    out.append(t);
    return;
  }
  std::size_t run = 0;  // copy unescaped runs in one append
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    const char* rep = nullptr;
    switch (c) {
      case '\n': rep = "\\n"; break;
      case ':': rep = "\\c"; break;
      case '\\': rep = "\\\\"; break;
      case '\r':
        if (e == HeaderEscape::V12) rep = "\\r";
        break;
      default: break;
    }
    if (rep == nullptr) continue;
    out.append(t.data() + run, i - run);
    out.append(rep, 2);
    run = i + 1;
  }
  out.append(t.data() + run, t.size() - run);
}

void append_u64(std::uint64_t v, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, std::size_t(r.ptr - buf));
}

}  // namespace

// ---- destinations ----------------------------------------------------------

const char* parse_destination(std::string_view dest, DestUse use, Destination& out) {
  if (starts_with(dest, kTopicPrefix)) {
    const std::string_view t = dest.substr(kTopicPrefix.size());
    if (t.empty()) return "empty topic name";
    if (!core::valid_utf8(t)) return "topic name is not valid UTF-8";
    // The core reads "$queue/..." as a queue: one spelling per destination.
    if (starts_with(t, kCoreQueuePrefix)) return "a queue is addressed as /queue/<name>";
    if (use == DestUse::Subscribe) {
      std::string_view group, filter;
      switch (core::split_shared(t, group, filter)) {
        case core::SharedParse::Invalid: return "invalid shared subscription";
        case core::SharedParse::Shared:
          if (starts_with(filter, kCoreQueuePrefix)) return "a queue is addressed as /queue/<name>";
          break;
        case core::SharedParse::NotShared:
          if (!core::valid_topic_filter(t)) return "invalid topic filter";
          break;
      }
    } else if (!core::valid_topic_name(t)) {
      return "invalid topic name (wildcards only in SUBSCRIBE)";
    }
    out = Destination{DestKind::Topic, t};
    return nullptr;
  }
  if (starts_with(dest, kQueuePrefix)) {
    const std::string_view n = dest.substr(kQueuePrefix.size());
    if (!core::QueueManager::valid_name(n) || !core::valid_utf8(n)) return "invalid queue name";
    out = Destination{DestKind::Queue, n};
    return nullptr;
  }
  if (starts_with(dest, kTempQueuePrefix)) {
    const std::string_view n = dest.substr(kTempQueuePrefix.size());
    if (!core::QueueManager::valid_name(n) || !core::valid_utf8(n)) return "invalid temporary queue name";
    out = Destination{DestKind::TempQueue, n};
    return nullptr;
  }
  return "unknown destination (expected /topic/, /queue/ or /temp-queue/)";
}

std::string temp_queue_name(std::string_view owner, std::string_view name) {
  std::string q;
  q.reserve(kTempQueueCorePrefix.size() + owner.size() + 1 + name.size());
  q.append(kTempQueueCorePrefix).append(owner).append(1, '.').append(name);
  if (!core::QueueManager::valid_name(q)) q.clear();
  return q;
}

std::string core_queue_name(const Destination& d, std::string_view owner) {
  if (d.kind == DestKind::TempQueue) return temp_queue_name(owner, d.name);
  return std::string(d.name);
}

namespace {

// "tmp.<owner>." prefix test without building the string.
bool is_own_temp_queue(std::string_view queue, std::string_view owner) {
  if (owner.empty() || !starts_with(queue, kTempQueueCorePrefix)) return false;
  queue.remove_prefix(kTempQueueCorePrefix.size());
  return queue.size() > owner.size() + 1 && starts_with(queue, owner) && queue[owner.size()] == '.';
}

}  // namespace

bool is_foreign_temp_queue(std::string_view queue, std::string_view owner) {
  return starts_with(queue, kTempQueueCorePrefix) && !is_own_temp_queue(queue, owner);
}

void append_destination(std::string_view core_topic, std::string_view owner, std::string& out) {
  if (!starts_with(core_topic, kCoreQueuePrefix)) {
    out.append(kTopicPrefix).append(core_topic);
    return;
  }
  const std::string_view q = core_topic.substr(kCoreQueuePrefix.size());
  if (is_own_temp_queue(q, owner)) {
    out.append(kTempQueuePrefix).append(q.substr(kTempQueueCorePrefix.size() + owner.size() + 1));
    return;
  }
  out.append(kQueuePrefix).append(q);
}

std::string publish_topic(const Destination& d, std::string_view owner) {
  if (d.kind == DestKind::Topic) return std::string(d.name);
  std::string q = core_queue_name(d, owner);
  if (q.empty()) return q;
  return std::string(kCoreQueuePrefix) + q;
}

// ---- escaping --------------------------------------------------------------

HeaderEscape header_escape(Version v) {
  switch (v) {
    case Version::V1_0: return HeaderEscape::None;
    case Version::V1_1: return HeaderEscape::V11;
    case Version::V1_2: return HeaderEscape::V12;
  }
  return HeaderEscape::V12;
}

bool append_header(std::string_view name, std::string_view value, HeaderEscape e, std::string& out) {
  if (name.empty() || !encodable(name, true, e) || !encodable(value, false, e)) return false;
  append_escaped(name, e, out);
  out.push_back(':');
  append_escaped(value, e, out);
  out.push_back('\n');
  return true;
}

// ---- header mapping --------------------------------------------------------

bool is_reserved_header(std::string_view name) {
  return std::binary_search(kReserved.begin(), kReserved.end(), name);
}

void append_user_header_name(std::string_view property, std::string& out) {
  if (property.empty() || is_reserved_header(property) || starts_with(property, kUserPrefix)) out.append(kUserPrefix);
  out.append(property);
}

std::string_view user_property_name(std::string_view header) {
  return starts_with(header, kUserPrefix) ? header.substr(kUserPrefix.size()) : header;
}

bool printable_utf8(std::string_view bytes) { return core::valid_utf8(bytes, core::Utf8Rule::Printable); }


const char* apply_send_headers(std::span<const Header> headers, std::string_view owner, core::Message& m) {
  const std::string_view* correlation = nullptr;
  const std::string_view* encoding = nullptr;
  bool seen_type = false, seen_reply = false, seen_expires = false, seen_qos = false, seen_retain = false;
  m.qos = 1;
  for (const Header& h : headers) {
    if (!is_reserved_header(h.name)) {
      const std::string_view name = user_property_name(h.name);
      if (!core::valid_utf8(name) || !core::valid_utf8(h.value)) return "header is not valid UTF-8";
      m.mutable_props().user_properties.push_back(core::UserProperty{std::string(name), std::string(h.value)});
      continue;
    }
    // STOMP's own headers: the first occurrence counts (1.2 "Repeated Header Entries").
    if (h.name == "content-type") {
      if (std::exchange(seen_type, true)) continue;
      if (!core::valid_utf8(h.value)) return "content-type is not valid UTF-8";
      m.mutable_props().content_type.assign(h.value);
    } else if (h.name == "correlation-id") {
      if (!correlation) correlation = &h.value;
    } else if (h.name == "correlation-id-encoding") {
      if (!encoding) encoding = &h.value;
    } else if (h.name == "reply-to") {
      if (std::exchange(seen_reply, true)) continue;
      Destination d;
      if (parse_destination(h.value, DestUse::ReplyTo, d) != nullptr) return "invalid reply-to destination";
      m.mutable_props().response_topic = publish_topic(d, owner);
      if (m.props().response_topic.empty()) return "invalid reply-to destination";
    } else if (h.name == "expires") {
      if (std::exchange(seen_expires, true)) continue;
      std::uint64_t v = 0;
      if (!core::parse_decimal(h.value, 18, v)) return "expires is not a time in milliseconds since the epoch";
      m.expiry_ms = std::int64_t(v);
    } else if (h.name == "qos") {
      if (std::exchange(seen_qos, true)) continue;
      if (h.value.size() != 1 || h.value[0] < '0' || h.value[0] > '2') return "qos must be 0, 1 or 2";
      m.qos = std::uint8_t(h.value[0] - '0');
    } else if (h.name == "retain") {
      if (std::exchange(seen_retain, true)) continue;
      if (h.value == "true") {
        m.retain = true;
      } else if (h.value != "false") {
        return "retain must be true or false";
      }
    }
    // Every other reserved name (framing, routing, server-side headers) is not message data.
  }
  if (correlation) {
    if (encoding && *encoding == "base64") {
      if (!core::base64_decode(*correlation, m.mutable_props().correlation_data)) return "correlation-id is not valid base64";
    } else if (encoding) {
      return "unsupported correlation-id-encoding (only base64)";
    } else {
      m.mutable_props().correlation_data.assign(*correlation);
    }
  }
  return nullptr;
}

void append_message_headers(const core::Message& m, HeaderEscape e, std::string_view owner, std::string& out,
                            std::size_t* dropped) {
  auto put = [&](std::string_view name, std::string_view value) {
    if (!append_header(name, value, e, out) && dropped) ++*dropped;
  };
  std::string tmp;  // only built once per message and wire format (the cache)
  if (!starts_with(m.topic, kCoreQueuePrefix)) {
    tmp.append(kTopicPrefix).append(m.topic);
    put("destination", tmp);
  }
  if (!m.props().content_type.empty()) put("content-type", m.props().content_type);
  if (!m.props().correlation_data.empty()) {
    if (printable_utf8(m.props().correlation_data)) {
      put("correlation-id", m.props().correlation_data);
    } else {
      tmp.clear();
      core::base64_encode(m.props().correlation_data, tmp);
      put("correlation-id", tmp);
      put("correlation-id-encoding", "base64");
    }
  }
  if (!m.props().response_topic.empty()) {
    tmp.clear();
    append_destination(m.props().response_topic, owner, tmp);
    put("reply-to", tmp);
  }
  if (m.expiry_ms > 0) {
    tmp.clear();
    append_u64(std::uint64_t(m.expiry_ms), tmp);
    put("expires", tmp);
  }
  const char qos[1] = {char('0' + (m.qos > 2 ? 2 : m.qos))};
  put("qos", std::string_view(qos, 1));
  for (const core::UserProperty& up : m.props().user_properties) {
    tmp.clear();
    append_user_header_name(up.name, tmp);
    put(tmp, up.value);
  }
  tmp.clear();
  append_u64(m.payload.size(), tmp);
  put("content-length", tmp);
  out.push_back('\n');
}

bool headers_depend_on_owner(const core::Message& m, std::string_view owner) {
  const std::string_view rt = m.props().response_topic;
  return starts_with(rt, kCoreQueuePrefix) && is_own_temp_queue(rt.substr(kCoreQueuePrefix.size()), owner);
}

}  // namespace junction::stomp
