// Record formats. Messages, sessions and session entries are at version 1;
// queue entries at version 2 (the message inline; version 1 still decodes).
//
// Layout: one version byte, then the fields in declaration order. Integers are
// fixed-width little-endian; bools are one byte (0/1); strings are a u32
// length then the bytes; lists are a u32 count then the elements. A record is
// valid only if it is consumed exactly: any strict prefix of a valid record is
// therefore rejected, as is trailing junk. The decoder bounds-checks every read
// and checks a list's count against the bytes left before reserving, so a
// corrupt count cannot make it allocate.
//
// Changing a layout means a new version byte plus a decoder branch for the old
// one (fixtures in test/unit/store/records_test.cpp).
#include "records.h"

#include <cstring>

namespace junction::store {
namespace {

// Appends to a string: its own (encode*) or a batch's buffer (append_*).
class Writer {
 public:
  explicit Writer(std::size_t reserve = 0) : out_(own_) { own_.reserve(reserve); }
  Writer(std::string& out, std::size_t reserve) : out_(out) { out_.reserve(out_.size() + reserve); }
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { le(v, 2); }
  void u32(std::uint32_t v) { le(v, 4); }
  void u64(std::uint64_t v) { le(v, 8); }
  void i16(std::int16_t v) { le(static_cast<std::uint16_t>(v), 2); }
  void i64(std::int64_t v) { le(static_cast<std::uint64_t>(v), 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  std::string take() { return std::move(own_); }

 private:
  void le(std::uint64_t v, int n) {
    char b[8];
    for (int i = 0; i < n; ++i) {
      b[i] = static_cast<char>(v & 0xFF);
      v >>= 8;
    }
    out_.append(b, static_cast<std::size_t>(n));
  }
  std::string own_;
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t& v) {
    std::uint64_t x = 0;
    if (!le(x, 1)) return false;
    v = static_cast<std::uint8_t>(x);
    return true;
  }
  bool u16(std::uint16_t& v) {
    std::uint64_t x = 0;
    if (!le(x, 2)) return false;
    v = static_cast<std::uint16_t>(x);
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::uint64_t x = 0;
    if (!le(x, 4)) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool u64(std::uint64_t& v) { return le(v, 8); }
  bool i16(std::int16_t& v) {
    std::uint16_t x = 0;
    if (!u16(x)) return false;
    v = static_cast<std::int16_t>(x);
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t x = 0;
    if (!u64(x)) return false;
    v = static_cast<std::int64_t>(x);
    return true;
  }
  bool boolean(bool& v) {
    std::uint8_t x = 0;
    if (!u8(x) || x > 1) return false;
    v = x == 1;
    return true;
  }
  // A small enum-like byte: rejects values above `max`.
  bool bounded(std::uint8_t& v, std::uint8_t max) { return u8(v) && v <= max; }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || n > left()) return false;
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // Reads a list count; false if even `min_elem` bytes per element cannot fit.
  bool count(std::uint32_t& n, std::size_t min_elem) {
    return u32(n) && static_cast<std::uint64_t>(n) * min_elem <= left();
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::size_t left() const { return in_.size() - pos_; }
  bool le(std::uint64_t& v, std::size_t n) {
    if (left() < n) return false;
    v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

constexpr std::uint8_t kMaxQos = 2;
constexpr std::uint8_t kMaxEntryState = 2;
constexpr std::uint8_t kMaxRetainHandling = 2;
// Minimum encoded sizes, used to bound list counts before reserving.
constexpr std::size_t kMinPropertyBytes = 4 + 4;
constexpr std::size_t kMinSubscriptionBytes = 4 + 1 + 1 + 1 + 1 + 4;

bool read_version(Reader& r) {
  std::uint8_t v = 0;
  // Version 1 is the only one ever written; older data cannot exist yet.
  return r.u8(v) && v == 1;
}

bool read_subscription(Reader& r, StoredSubscription& s) {
  return r.str(s.filter) && r.bounded(s.qos, kMaxQos) && r.boolean(s.no_local) &&
         r.boolean(s.retain_as_published) && r.bounded(s.retain_handling, kMaxRetainHandling) &&
         r.u32(s.subscription_id);
}

// Bytes a message's fields take (the writer reserves them once).
std::size_t message_fields_size(const MessageView& m) {
  std::size_t n = 8 + 4 + m.topic.size() + 4 + m.payload.size() + 1 + 1 + 8 + 8 + 4 + m.origin_client.size() + 1 +
                  4 + m.content_type.size() + 4 + m.response_topic.size() + 4 + m.correlation_data.size() + 2 + 4;
  for (const auto& [k, v] : m.user_properties) n += 8 + k.size() + v.size();
  return n;
}

MessageView view_of(const StoredMessage& m) {
  MessageView v;
  v.id = m.id;
  v.topic = m.topic;
  v.payload = m.payload;
  v.qos = m.qos;
  v.retain = m.retain;
  v.created_ms = m.created_ms;
  v.expiry_ms = m.expiry_ms;
  v.origin_client = m.origin_client;
  v.origin_protocol = m.origin_protocol;
  v.content_type = m.content_type;
  v.response_topic = m.response_topic;
  v.correlation_data = m.correlation_data;
  v.payload_format = m.payload_format;
  for (const auto& [k, val] : m.user_properties) v.user_properties.emplace_back(k, val);
  return v;
}

void write_message_fields(Writer& w, const MessageView& m) {
  w.u64(m.id);
  w.str(m.topic);
  w.str(m.payload);
  w.u8(m.qos);
  w.boolean(m.retain);
  w.i64(m.created_ms);
  w.i64(m.expiry_ms);
  w.str(m.origin_client);
  w.u8(m.origin_protocol);
  w.str(m.content_type);
  w.str(m.response_topic);
  w.str(m.correlation_data);
  w.i16(m.payload_format);
  w.u32(static_cast<std::uint32_t>(m.user_properties.size()));
  for (const auto& [k, v] : m.user_properties) {
    w.str(k);
    w.str(v);
  }
}

bool read_message_fields(Reader& r, StoredMessage& m) {
  if (!r.u64(m.id) || !r.str(m.topic) || !r.str(m.payload) || !r.bounded(m.qos, kMaxQos) ||
      !r.boolean(m.retain) || !r.i64(m.created_ms) || !r.i64(m.expiry_ms) || !r.str(m.origin_client) ||
      !r.u8(m.origin_protocol) || !r.str(m.content_type) || !r.str(m.response_topic) ||
      !r.str(m.correlation_data) || !r.i16(m.payload_format))
    return false;
  if (m.payload_format < -1 || m.payload_format > 1) return false;
  std::uint32_t n = 0;
  if (!r.count(n, kMinPropertyBytes)) return false;
  m.user_properties.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::pair<std::string, std::string> p;
    if (!r.str(p.first) || !r.str(p.second)) return false;
    m.user_properties.push_back(std::move(p));
  }
  return true;
}

}  // namespace

void append_message(std::string& out, const MessageView& m) {
  Writer w(out, 1 + message_fields_size(m));
  w.u8(kRecordVersion);
  write_message_fields(w, m);
}

std::string encode_message(const MessageView& m) {
  std::string out;
  append_message(out, m);
  return out;
}

std::string encode(const StoredMessage& m) { return encode_message(view_of(m)); }

std::string encode(const StoredSession& s) {
  Writer w;
  w.u8(kRecordVersion);
  w.str(s.client_id);
  w.u32(s.expiry_interval_s);
  w.i64(s.disconnected_ms);
  w.u8(s.protocol_version);
  w.u16(s.next_packet_id);
  w.u32(static_cast<std::uint32_t>(s.subscriptions.size()));
  for (const auto& sub : s.subscriptions) {
    w.str(sub.filter);
    w.u8(sub.qos);
    w.boolean(sub.no_local);
    w.boolean(sub.retain_as_published);
    w.u8(sub.retain_handling);
    w.u32(sub.subscription_id);
  }
  return w.take();
}

namespace {
void write_entry_fields(Writer& w, const StoredEntry& e) {
  w.u64(e.msg_id);
  w.u8(e.qos);
  w.u8(e.state);
  w.u16(e.packet_id);
  w.boolean(e.retain);
  w.u32(static_cast<std::uint32_t>(e.subscription_ids.size()));
  for (std::uint32_t id : e.subscription_ids) w.u32(id);
}
}  // namespace

void append_entry_inline(std::string& out, const StoredEntry& e, const MessageView& m) {
  Writer w(out, 1 + 17 + 4 * e.subscription_ids.size() + message_fields_size(m));
  w.u8(2);
  write_entry_fields(w, e);
  write_message_fields(w, m);
}

std::string encode_entry_inline(const StoredEntry& e, const MessageView& m) {
  std::string out;
  append_entry_inline(out, e, m);
  return out;
}

void append_entry(std::string& out, const StoredEntry& e) {
  if (e.has_message) return append_entry_inline(out, e, view_of(e.message));
  Writer w(out, 18 + 4 * e.subscription_ids.size());
  w.u8(1);
  write_entry_fields(w, e);
}

std::string encode(const StoredEntry& e) {
  std::string out;
  append_entry(out, e);
  return out;
}

// Each decoder fills a local and assigns `out` only on success, so a failed
// decode leaves the caller's object untouched.
bool decode(std::string_view bytes, StoredMessage& out) {
  Reader r(bytes);
  StoredMessage m;
  if (!read_version(r) || !read_message_fields(r, m) || !r.done()) return false;
  out = std::move(m);
  return true;
}

bool decode(std::string_view bytes, StoredSession& out) {
  Reader r(bytes);
  StoredSession s;
  if (!read_version(r) || !r.str(s.client_id) || !r.u32(s.expiry_interval_s) ||
      !r.i64(s.disconnected_ms) || !r.u8(s.protocol_version) || !r.u16(s.next_packet_id))
    return false;
  std::uint32_t n = 0;
  if (!r.count(n, kMinSubscriptionBytes)) return false;
  s.subscriptions.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    StoredSubscription sub;
    if (!read_subscription(r, sub)) return false;
    s.subscriptions.push_back(std::move(sub));
  }
  if (!r.done()) return false;
  out = std::move(s);
  return true;
}

bool decode(std::string_view bytes, StoredEntry& out) {
  Reader r(bytes);
  StoredEntry e;
  std::uint8_t version = 0;
  if (!r.u8(version) || (version != 1 && version != 2)) return false;
  e.has_message = version == 2;
  if (!r.u64(e.msg_id) || !r.bounded(e.qos, kMaxQos) ||
      !r.bounded(e.state, kMaxEntryState) || !r.u16(e.packet_id) || !r.boolean(e.retain))
    return false;
  std::uint32_t n = 0;
  if (!r.count(n, 4)) return false;
  e.subscription_ids.resize(n);
  for (std::uint32_t i = 0; i < n; ++i)
    if (!r.u32(e.subscription_ids[i])) return false;
  if (e.has_message && !read_message_fields(r, e.message)) return false;
  if (!r.done()) return false;
  out = std::move(e);
  return true;
}

// Keys: client id, a NUL separator, then a fixed-width big-endian number. The
// NUL sorts below every byte a client id can hold (MQTT forbids U+0000 in
// strings), so one client's keys form a contiguous, numerically ordered range.
namespace {

RecordKey client_key(std::string_view client_id, std::uint64_t v, int width) {
  RecordKey k;
  char* p = k.prepare(client_id.size() + 1 + static_cast<std::size_t>(width));
  if (!client_id.empty()) std::memcpy(p, client_id.data(), client_id.size());
  p += client_id.size();
  *p++ = '\0';
  for (int i = width - 1; i >= 0; --i) *p++ = static_cast<char>((v >> (8 * i)) & 0xFF);
  return k;
}

bool split_client_key(std::string_view key, int width, std::string_view& client_id, std::uint64_t& v) {
  const std::size_t suffix = 1 + static_cast<std::size_t>(width);
  if (key.size() < suffix) return false;
  const std::size_t sep = key.size() - suffix;
  // The separator must be the first NUL: a client id never contains one.
  if (key.find('\0') != sep) return false;
  std::uint64_t x = 0;
  for (std::size_t i = sep + 1; i < key.size(); ++i) x = (x << 8) | static_cast<unsigned char>(key[i]);
  client_id = key.substr(0, sep);
  v = x;
  return true;
}

}  // namespace

RecordKey session_entry_key(std::string_view client_id, std::uint64_t seq) {
  return client_key(client_id, seq, 8);
}

bool split_session_entry_key(std::string_view key, std::string_view& client_id, std::uint64_t& seq) {
  return split_client_key(key, 8, client_id, seq);
}

RecordKey inbound_held_key(std::string_view client_id, std::uint16_t packet_id) {
  return client_key(client_id, packet_id, 2);
}

bool split_inbound_held_key(std::string_view key, std::string_view& client_id, std::uint16_t& packet_id) {
  std::uint64_t v = 0;
  if (!split_client_key(key, 2, client_id, v)) return false;
  packet_id = static_cast<std::uint16_t>(v);
  return true;
}

void append_queue_entry(std::string& out, std::uint32_t deliveries, const MessageView& m, std::int64_t not_before_ms) {
  if (not_before_ms != 0) {
    Writer w(out, 1 + 4 + 8 + message_fields_size(m));
    w.u8(kQueueEntryBackoffVersion);
    w.u32(deliveries);
    w.u64(static_cast<std::uint64_t>(not_before_ms));
    write_message_fields(w, m);
    return;
  }
  Writer w(out, 1 + 4 + message_fields_size(m));
  w.u8(kQueueEntryVersion);
  w.u32(deliveries);
  write_message_fields(w, m);
}

std::string encode_queue_entry(std::uint32_t deliveries, const MessageView& m) {
  std::string out;
  append_queue_entry(out, deliveries, m);
  return out;
}

std::string encode(const StoredQueueEntry& e) {
  std::string out;
  append_queue_entry(out, e.deliveries, view_of(e.message), e.not_before_ms);
  return out;
}

bool decode(std::string_view bytes, StoredQueueEntry& out) {
  Reader r(bytes);
  StoredQueueEntry e;
  std::uint8_t version = 0;
  if (!r.u8(version)) return false;
  if (version == 1) {  // a reference to a Messages record
    if (!r.u64(e.msg_id) || !r.u32(e.deliveries) || !r.done()) return false;
  } else if (version == 2) {
    if (!r.u32(e.deliveries) || !read_message_fields(r, e.message) || !r.done()) return false;
  } else if (version == 3) {
    std::uint64_t nb = 0;
    if (!r.u32(e.deliveries) || !r.u64(nb) || !read_message_fields(r, e.message) || !r.done()) return false;
    e.not_before_ms = static_cast<std::int64_t>(nb);
  } else {
    return false;
  }
  out = std::move(e);
  return true;
}

std::string encode(const StoredQueueMeta& m) {
  Writer w;
  w.u8(1);
  w.u64(m.count);
  w.u64(m.bytes);
  w.u64(m.next_seq);
  w.u64(m.max_msg_id);
  return w.take();
}

bool decode(std::string_view bytes, StoredQueueMeta& out) {
  Reader r(bytes);
  StoredQueueMeta m;
  std::uint8_t version = 0;
  if (!r.u8(version) || version != 1 || !r.u64(m.count) || !r.u64(m.bytes) || !r.u64(m.next_seq) ||
      !r.u64(m.max_msg_id) || !r.done())
    return false;
  out = m;
  return true;
}

std::string delayed_key(std::int64_t due_ms, std::uint64_t msg_id) {
  // Due times before the epoch do not occur (wall clock); clamp so that the
  // unsigned big-endian order stays the numeric one.
  return u64_key(static_cast<std::uint64_t>(due_ms < 0 ? 0 : due_ms)) + u64_key(msg_id);
}

bool split_delayed_key(std::string_view key, std::int64_t& due_ms, std::uint64_t& msg_id) {
  std::uint64_t due = 0;
  if (key.size() != 16 || !parse_u64_key(key.substr(0, 8), due) || !parse_u64_key(key.substr(8), msg_id)) return false;
  if (due > static_cast<std::uint64_t>(INT64_MAX)) return false;
  due_ms = static_cast<std::int64_t>(due);
  return true;
}

std::string encode(const StoredDelayedMeta& m) {
  Writer w;
  w.u8(1);
  w.u64(m.count);
  w.u64(m.max_msg_id);
  return w.take();
}

bool decode(std::string_view bytes, StoredDelayedMeta& out) {
  Reader r(bytes);
  StoredDelayedMeta m;
  std::uint8_t version = 0;
  if (!r.u8(version) || version != 1 || !r.u64(m.count) || !r.u64(m.max_msg_id) || !r.done()) return false;
  out = m;
  return true;
}

// Queue names never contain NUL (they come from topics / destinations), so
// the same NUL-separated layout as session keys keeps one queue contiguous.
RecordKey queue_entry_key(std::string_view queue, std::uint64_t seq) { return client_key(queue, seq, 8); }

bool split_queue_entry_key(std::string_view key, std::string_view& queue, std::uint64_t& seq) {
  return split_client_key(key, 8, queue, seq);
}

}  // namespace junction::store
