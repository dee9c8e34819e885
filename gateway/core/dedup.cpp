#include "dedup.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "log.h"
#include "records.h"

namespace junction::core {

namespace {

// splitmix64's finalizer: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

std::uint64_t feed(std::uint64_t h, std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix(h ^ w);
  }
  std::uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  return mix(h ^ w ^ (std::uint64_t(s.size() - i) << 56));
}

// The lengths go in first, so ("ab", "c") and ("a", "bc") differ.
std::uint64_t hash64(std::string_view a, std::string_view b, std::uint64_t seed) {
  std::uint64_t h = mix(seed ^ (std::uint64_t(a.size()) << 32) ^ std::uint64_t(b.size()));
  return feed(feed(h, a), b);
}

std::string key_of(std::int64_t at_ms, std::uint64_t seq) {
  return store::u64_key(static_cast<std::uint64_t>(at_ms < 0 ? 0 : at_ms)) + store::u64_key(seq);
}

std::string value_of(const DedupHash& h) { return store::u64_key(h.hi) + store::u64_key(h.lo); }

}  // namespace

DedupHash dedup_hash(std::string_view destination, std::string_view id) {
  return DedupHash{hash64(destination, id, 0x6a09e667f3bcc908ull), hash64(destination, id, 0xbb67ae8584caa73bull)};
}

DedupIndex::DedupIndex(Persistence& persistence, std::int64_t window_ms, std::size_t max_ids)
    : persistence_(persistence), window_ms_(window_ms), max_ids_(max_ids == 0 ? 1 : max_ids) {}

void DedupIndex::restore(std::int64_t now_ms) {
  std::size_t bad = 0;
  // Key order is the order they were taken: the FIFO is rebuilt as it was.
  persistence_.store().scan(store::Table::DedupIds, [&](std::string_view key, std::string_view value) {
    std::uint64_t at = 0, seq = 0;
    DedupHash h;
    if (key.size() != 16 || value.size() != 16 || !store::parse_u64_key(key.substr(0, 8), at) ||
        !store::parse_u64_key(key.substr(8), seq) || !store::parse_u64_key(value.substr(0, 8), h.hi) ||
        !store::parse_u64_key(value.substr(8), h.lo)) {
      persistence_.erase(store::Table::DedupIds, key);
      ++bad;
      return;
    }
    next_seq_ = std::max(next_seq_, seq + 1);
    if (now_ms - static_cast<std::int64_t>(at) >= window_ms_) {
      persistence_.erase(store::Table::DedupIds, key);
      return;
    }
    ids_[h] = Entry{static_cast<std::int64_t>(at), seq, 0};  // a later record of the same id wins
    order_.push_back(Seen{h, static_cast<std::int64_t>(at), seq});
  });
  if (bad != 0) log::error("store: %zu unreadable duplicate-detection record(s) dropped", bad);
  while (ids_.size() > max_ids_) forget_oldest();
}

bool DedupIndex::seen(const DedupHash& h, std::int64_t now_ms) const {
  auto it = ids_.find(h);
  if (it == ids_.end()) return false;
  // A copy whose commit failed was answered negatively: a retry is new.
  if (it->second.ticket != 0 && persistence_.failed(it->second.ticket)) return false;
  return now_ms - it->second.at_ms < window_ms_;
}

void DedupIndex::remember(const DedupHash& h, std::int64_t now_ms) {
  if (ids_.empty() && order_.empty()) ids_.reserve(std::min<std::size_t>(max_ids_, 1u << 16));
  const std::uint64_t seq = next_seq_++;
  // Taken again (past the window, or its first batch failed): the old FIFO slot goes stale.
  ids_[h] = Entry{now_ms, seq, persistence_.ticket()};
  order_.push_back(Seen{h, now_ms, seq});
  // The message's own records (if it was stored) are in this batch and make
  // its answer wait; the id alone need not: lost in a crash before this
  // commit, it was not yet answered-for either way (the producer that got no
  // PUBACK retries, and the first copy was not stored).
  persistence_.put_not_awaited(store::Table::DedupIds, key_of(now_ms, seq), value_of(h));
  while (ids_.size() > max_ids_) {
    forget_oldest();
    ++evicted_for_space_;
  }
}

void DedupIndex::expire(std::int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().at_ms >= window_ms_) pop_oldest();
}

void DedupIndex::forget_oldest() {
  while (!order_.empty() && !pop_oldest()) {
  }
}

bool DedupIndex::pop_oldest() {
  const Seen s = order_.front();
  order_.pop_front();
  persistence_.erase_not_awaited(store::Table::DedupIds, key_of(s.at_ms, s.seq));
  auto it = ids_.find(s.hash);
  if (it == ids_.end() || it->second.seq != s.seq) return false;  // stale: the id was taken again since
  ids_.erase(it);
  return true;
}

}  // namespace junction::core
