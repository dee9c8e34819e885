// Shared pieces of the store interface: Batch, names, numeric keys.
#include "store.h"

namespace junction::store {

const char* table_name(Table t) {
  // These strings name LMDB databases on disk: never rename one.
  switch (t) {
    case Table::Meta: return "meta";
    case Table::Messages: return "messages";
    case Table::Retained: return "retained";
    case Table::Sessions: return "sessions";
    case Table::SessionEntries: return "session_entries";
    case Table::InboundHeld: return "incoming_qos2";  // the LMDB database's name in existing stores
    case Table::QueueEntries: return "queue_entries";
    case Table::QueueMeta: return "queue_meta";
    case Table::Delayed: return "delayed";
    case Table::DedupIds: return "dedup_ids";
    case Table::Count: break;
  }
  return "unknown";
}

const char* store_error_name(StoreError e) {
  switch (e) {
    case StoreError::Ok: return "ok";
    case StoreError::Full: return "full";
    case StoreError::Io: return "io";
    case StoreError::Closed: return "closed";
  }
  return "unknown";
}

void Batch::put(Table t, std::string_view key, std::string_view value) {
  const std::size_t off = buf_.size();
  buf_.append(key);
  buf_.append(value);
  slots_.push_back(Slot{off, static_cast<std::uint32_t>(key.size()), static_cast<std::uint32_t>(value.size()), t, false});
}

void Batch::erase(Table t, std::string_view key) {
  const std::size_t off = buf_.size();
  buf_.append(key);
  slots_.push_back(Slot{off, static_cast<std::uint32_t>(key.size()), 0, t, true});
}

void Batch::reserve(std::size_t ops, std::size_t bytes) {
  slots_.reserve(ops);
  buf_.reserve(bytes);
}

void Batch::clear() {
  buf_.clear();
  slots_.clear();
}

char* RecordKey::prepare(std::size_t n) {
  size_ = n;
  if (n <= sizeof(inline_)) return inline_;
  heap_.resize(n);
  return heap_.data();
}

std::string u64_key(std::uint64_t v) {
  // Big-endian so that LMDB's bytewise order is numeric order.
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i) {
    k[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return k;
}

bool parse_u64_key(std::string_view k, std::uint64_t& out) {
  if (k.size() != 8) return false;
  std::uint64_t v = 0;
  for (char c : k) v = (v << 8) | static_cast<unsigned char>(c);
  out = v;
  return true;
}

std::uint64_t u64_from_key(std::string_view k) {
  std::uint64_t v = 0;
  return parse_u64_key(k, v) ? v : 0;
}

}  // namespace junction::store
