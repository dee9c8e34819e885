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

std::string key_of(const DedupHash& h) { return store::u64_key(h.hi) + store::u64_key(h.lo); }

}  // namespace

DedupHash dedup_hash(std::string_view destination, std::string_view id) {
  return DedupHash{hash64(destination, id, 0x6a09e667f3bcc908ull), hash64(destination, id, 0xbb67ae8584caa73bull)};
}

DedupIndex::DedupIndex(Persistence& persistence, std::int64_t window_ms, std::size_t max_ids)
    : persistence_(persistence), window_ms_(window_ms), max_ids_(max_ids == 0 ? 1 : max_ids) {}

void DedupIndex::restore(std::int64_t now_ms) {
  std::vector<Seen> all;
  std::size_t bad = 0;
  persistence_.store().scan(store::Table::DedupIds, [&](std::string_view key, std::string_view value) {
    std::uint64_t at = 0;
    DedupHash h;
    if (key.size() != 16 || !store::parse_u64_key(key.substr(0, 8), h.hi) ||
        !store::parse_u64_key(key.substr(8), h.lo) || !store::parse_u64_key(value, at)) {
      persistence_.erase(store::Table::DedupIds, key);
      ++bad;
      return;
    }
    all.push_back(Seen{h, static_cast<std::int64_t>(at), 0});
  });
  if (bad != 0) log::error("store: %zu unreadable duplicate-detection record(s) dropped", bad);
  std::sort(all.begin(), all.end(), [](const Seen& a, const Seen& b) { return a.at_ms < b.at_ms; });
  for (const Seen& s : all) {
    if (now_ms - s.at_ms >= window_ms_) {
      persistence_.erase(store::Table::DedupIds, key_of(s.hash));
      continue;
    }
    ids_.emplace(s.hash, Entry{s.at_ms, 0});
    order_.push_back(s);
  }
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
  const std::uint64_t ticket = persistence_.ticket();
  auto [it, fresh] = ids_.try_emplace(h, Entry{now_ms, ticket});
  if (!fresh) it->second = Entry{now_ms, ticket};  // past the window (or failed): taken again; the old FIFO slot goes stale
  order_.push_back(Seen{h, now_ms, ticket});
  persistence_.put(store::Table::DedupIds, key_of(h), store::u64_key(static_cast<std::uint64_t>(now_ms)));
  while (ids_.size() > max_ids_) {
    forget_oldest();
    ++evicted_for_space_;
  }
}

void DedupIndex::expire(std::int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().at_ms >= window_ms_) forget_oldest();
  // Stale FIFO slots (ids taken again) are dropped as they reach the front.
}

void DedupIndex::forget_oldest() {
  while (!order_.empty()) {
    const Seen s = order_.front();
    order_.pop_front();
    auto it = ids_.find(s.hash);
    if (it == ids_.end() || it->second.at_ms != s.at_ms || it->second.ticket != s.ticket) continue;  // stale
    ids_.erase(it);
    persistence_.erase(store::Table::DedupIds, key_of(s.hash));
    return;
  }
}

}  // namespace junction::core
