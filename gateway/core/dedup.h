// junction::core::DedupIndex — duplicate detection for publishes carrying
// `x-dedup-id` (MQTT 5 user property, STOMP header): the first copy per
// destination within the window is taken, later ones are acknowledged and
// dropped.
//
// An id is remembered as a 128-bit hash of (destination, id): 16 bytes
// whatever the lengths, and an accidental collision among a million ids is
// about 1 in 10^26. Each is a record of the store's DedupIds table, written
// in the batch of the message it admitted, so the message and its id commit
// together: a producer that retries after a crash is answered "duplicate"
// exactly when the first copy was kept. Records are keyed by when they were
// taken (time, sequence), not by hash: the B-tree grows at its end and is
// trimmed at its start, as the ids come and go, instead of touching a random
// page per id. Memory: a hash map from hash to (time, sequence) plus a FIFO
// of the same, oldest first, so that eviction (past the window, or past
// max_ids) is O(1) per id.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>

#include "persistence.h"

namespace junction::core {

inline constexpr std::string_view kDedupProperty = "x-dedup-id";

struct DedupHash {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool operator==(const DedupHash&) const = default;
};
DedupHash dedup_hash(std::string_view destination, std::string_view id);

class DedupIndex {
 public:
  DedupIndex(Persistence& persistence, std::int64_t window_ms, std::size_t max_ids);

  // Start-up: every remembered id still inside the window (older ones are erased).
  void restore(std::int64_t now_ms);
  // Was this (destination, id) taken within the window? remember() it once
  // the message is taken (in the same batch: they commit together); not
  // before, or a refused publish would make its retry look like a duplicate.
  bool seen(const DedupHash& h, std::int64_t now_ms) const;
  void remember(const DedupHash& h, std::int64_t now_ms);
  // Forgets ids past the window (the tick).
  void expire(std::int64_t now_ms);

  std::size_t size() const { return ids_.size(); }
  std::uint64_t evicted_for_space() const { return evicted_for_space_; }

 private:
  struct HashOf {
    std::size_t operator()(const DedupHash& h) const { return static_cast<std::size_t>(h.lo); }
  };
  struct Entry {
    std::int64_t at_ms;
    std::uint64_t seq;     // its record's key, with at_ms
    std::uint64_t ticket;  // the batch that wrote it (0: restored)
  };
  struct Seen {
    DedupHash hash;
    std::int64_t at_ms;
    std::uint64_t seq;
  };
  void forget_oldest();  // the oldest live id (stale FIFO slots on the way go too)
  bool pop_oldest();     // one FIFO slot; false if it was stale

  Persistence& persistence_;
  std::int64_t window_ms_;
  std::size_t max_ids_;
  std::unordered_map<DedupHash, Entry, HashOf> ids_;
  std::deque<Seen> order_;  // oldest first (a slot whose id was taken again since is stale)
  std::uint64_t next_seq_ = 1;
  std::uint64_t evicted_for_space_ = 0;
};

}  // namespace junction::core
