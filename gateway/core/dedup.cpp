#include "dedup.h"

#include <algorithm>
#include <cstring>

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

constexpr std::size_t kEntryBytes = 24;  // hash (16) and time (8) of one id in a record
constexpr std::size_t kMinSlots = 1024;
constexpr std::size_t kPrefetchAhead = 8;

void put_u64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  out.append(b, 8);
}

std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

DedupHash dedup_hash(std::string_view destination, std::string_view id) {
  return DedupHash{hash64(destination, id, 0x6a09e667f3bcc908ull), hash64(destination, id, 0xbb67ae8584caa73bull)};
}

DedupIndex::DedupIndex(Persistence& persistence, std::int64_t window_ms, std::size_t max_ids)
    : persistence_(persistence), window_ms_(window_ms), max_ids_(max_ids == 0 ? 1 : max_ids) {
  persistence_.add_contributor(this);
}

// ---------------------------------------------------------------- table ----

const DedupIndex::Slot* DedupIndex::find(const DedupHash& h) const {
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h.lo & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.seq == 0) return nullptr;
    if (s.lo == h.lo && s.hi == h.hi) return &s;
  }
}

DedupIndex::Slot* DedupIndex::find(const DedupHash& h) {
  return const_cast<Slot*>(static_cast<const DedupIndex*>(this)->find(h));
}

void DedupIndex::upsert(const DedupHash& h, std::int64_t at_ms, std::uint64_t seq) {
  if (Slot* s = find(h)) {
    s->at_ms = at_ms;
    s->seq = seq;
    return;
  }
  if ((used_ + 1) * 4 > slots_.size() * 3) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = h.lo & mask;
  while (slots_[i].seq != 0) i = (i + 1) & mask;
  slots_[i] = Slot{h.hi, h.lo, at_ms, seq};
  ++used_;
}

void DedupIndex::grow() {
  PageArray<Slot> old(std::max(kMinSlots, slots_.size() * 2));
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t k = 0; k < old.size(); ++k) {
    const Slot& s = old[k];
    if (s.seq == 0) continue;
    std::size_t i = s.lo & mask;
    while (slots_[i].seq != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void DedupIndex::erase_slot(std::size_t i) {
  // Backward shift: later slots of the same probe run move up, so that no
  // lookup stops early at the hole.
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; slots_[j].seq != 0; j = (j + 1) & mask) {
    const std::size_t home = slots_[j].lo & mask;
    // May slot j move to the hole? Only if its home is not in (hole, j].
    const bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (home_between) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole] = Slot{};
  --used_;
}

const DedupIndex::Seen* DedupIndex::entry(std::uint64_t seq) const {
  auto it = std::lower_bound(order_.begin(), order_.end(), seq,
                             [](const Seen& s, std::uint64_t v) { return s.seq < v; });
  return it != order_.end() && it->seq == seq ? &*it : nullptr;
}

// ------------------------------------------------------------- the index ----

void DedupIndex::add(const DedupHash& h, std::int64_t at_ms, std::uint64_t seq, std::uint64_t ticket) {
  upsert(h, at_ms, seq);  // taken again: its old FIFO slot goes stale
  order_.push_back(Seen{h, at_ms, seq, ticket});
  while (used_ > max_ids_) {
    forget_oldest();
    ++evicted_for_space_;
  }
}

void DedupIndex::restore(std::int64_t now_ms) {
  std::size_t bad = 0, expired = 0;
  // Key order is the order they were taken: the FIFO is rebuilt as it was.
  persistence_.store().scan(store::Table::DedupIds, [&](std::string_view key, std::string_view value) {
    std::uint64_t first = 0;
    if (!store::parse_u64_key(key, first) || first == 0 || value.empty() || value.size() % kEntryBytes != 0) {
      persistence_.erase(store::Table::DedupIds, key);
      ++bad;
      return;
    }
    const std::size_t n = value.size() / kEntryBytes;
    bool any = false;
    for (std::size_t k = 0; k < n; ++k) {
      const char* p = value.data() + k * kEntryBytes;
      const DedupHash h{get_u64(p), get_u64(p + 8)};
      const auto at = static_cast<std::int64_t>(get_u64(p + 16));
      if (now_ms - at >= window_ms_) {
        ++expired;
        continue;
      }
      add(h, at, first + k, 0);
      any = true;
    }
    next_seq_ = std::max(next_seq_, first + n);
    if (any) {
      records_.push_back(Record{first, first + n - 1});
    } else {
      persistence_.erase(store::Table::DedupIds, key);
    }
  });
  if (bad != 0) log::error("store: %zu unreadable duplicate-detection record(s) dropped", bad);
  (void)expired;
}

bool DedupIndex::seen(const DedupHash& h, std::int64_t now_ms) const {
  const Slot* s = find(h);
  if (s == nullptr || now_ms - s->at_ms >= window_ms_) return false;
  if (persistence_.any_failed()) {
    // A copy whose commit failed was answered negatively: a retry is new.
    const Seen* e = entry(s->seq);
    if (e != nullptr && e->ticket != 0 && persistence_.failed(e->ticket)) return false;
  }
  return true;
}

void DedupIndex::remember(const DedupHash& h, std::int64_t now_ms) {
  const std::uint64_t seq = next_seq_++;
  if (pending_.empty()) {
    pending_first_ = seq;
    pending_since_ms_ = now_ms;
  }
  last_ms_ = now_ms;
  put_u64(pending_, h.hi);
  put_u64(pending_, h.lo);
  put_u64(pending_, static_cast<std::uint64_t>(now_ms));
  add(h, now_ms, seq, persistence_.ticket());
}

void DedupIndex::before_flush() {
  if (pending_.empty() && unrecorded_.empty()) return;
  const bool ride = persistence_.awaited_ops() != 0;
  if (!ride && !write_due_ && pending_.size() < kMaxPendingIds * kEntryBytes &&
      last_ms_ - pending_since_ms_ < kIdleCommitMs)
    return;
  write_due_ = false;
  for (std::uint64_t first : unrecorded_) persistence_.erase_not_awaited(store::Table::DedupIds, store::u64_key(first));
  unrecorded_.clear();
  if (pending_.empty()) return;
  // The message's own records (if it was stored) are in this batch and make
  // its answer wait; the ids alone need not: lost in a crash before this
  // commit, they were not answered-for either way (a producer that got no
  // PUBACK retries, and a first copy that was not stored is not kept).
  persistence_.put_not_awaited(store::Table::DedupIds, store::u64_key(pending_first_), pending_);
  records_.push_back(Record{pending_first_, pending_first_ + pending_.size() / kEntryBytes - 1});
  pending_.clear();
}

void DedupIndex::expire(std::int64_t now_ms) {
  write_due_ = true;
  while (!order_.empty() && now_ms - order_.front().at_ms >= window_ms_) pop_oldest();
}

void DedupIndex::forget_oldest() {
  while (!order_.empty() && !pop_oldest()) {
  }
}

bool DedupIndex::pop_oldest() {
  const Seen s = order_.front();
  order_.pop_front();
  // Eviction goes in FIFO order: ask for the slot of an id a few places on
  // now, so that its lookup, when its turn comes, does not wait on memory.
  if (order_.size() > kPrefetchAhead)
    __builtin_prefetch(&slots_[order_[kPrefetchAhead].hash.lo & (slots_.size() - 1)], 1);
  // Past the last id of the oldest record: the record goes (not yet written
  // ones are still in pending_, whose record is made at the flush).
  while (!records_.empty() && records_.front().last_seq <= s.seq) {
    unrecorded_.push_back(records_.front().first_seq);
    records_.pop_front();
  }
  Slot* slot = find(s.hash);
  if (slot == nullptr || slot->seq != s.seq) return false;  // stale: the id was taken again since
  erase_slot(static_cast<std::size_t>(slot - slots_.data()));
  return true;
}

std::size_t DedupIndex::memory_bytes() const {
  return slots_.mapped_bytes() + order_.size() * sizeof(Seen) + records_.size() * sizeof(Record);
}

}  // namespace junction::core
