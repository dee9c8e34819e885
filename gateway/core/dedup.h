// junction::core::DedupIndex — duplicate detection for publishes carrying
// `x-dedup-id` (MQTT 5 user property, STOMP header): the first copy per
// destination within the window is taken, later ones are acknowledged and
// dropped.
//
// An id is remembered as a 128-bit hash of (destination, id): 16 bytes
// whatever the lengths, and an accidental collision among a million ids is
// about 1 in 10^26. Memory: an open-addressing table of (hash, time,
// sequence) (32 bytes a slot, at most three quarters full: one cache miss to
// find that an id is new) and a FIFO of the ids in the order they were taken
// (hash, time, sequence, batch: 40 bytes), so that eviction (past the
// window, or past max_ids) is O(1) per id, with no allocation per id.
//
// On disk, the ids taken in one batch are one record of the DedupIds table
// (key: the first one's sequence; value: hash and time of each), written in
// that batch, so a message and its id commit together: a producer that
// retries after a crash is answered "duplicate" exactly when the first copy
// was kept. One record per batch, not per id, keeps the writer's cost per
// commit; a record is erased when the FIFO has passed its last id.
// Ids of messages that are not stored themselves (topic messages to online
// subscribers only) have no commit to ride with: they wait for one, or for
// kIdleCommitMs of traffic, or the tick, instead of making a commit (and a
// wake-up of the writer thread) of their own in every loop iteration.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "page_array.h"
#include "persistence.h"

namespace junction::core {

inline constexpr std::string_view kDedupProperty = "x-dedup-id";

struct DedupHash {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool operator==(const DedupHash&) const = default;
};
DedupHash dedup_hash(std::string_view destination, std::string_view id);

class DedupIndex final : public BatchContributor {
 public:
  DedupIndex(Persistence& persistence, std::int64_t window_ms, std::size_t max_ids);

  // Start-up: every remembered id still inside the window.
  void restore(std::int64_t now_ms);
  // Was this (destination, id) taken within the window? remember() it once
  // the message is taken (in the same batch: they commit together); not
  // before, or a refused publish would make its retry look like a duplicate.
  bool seen(const DedupHash& h, std::int64_t now_ms) const;
  void remember(const DedupHash& h, std::int64_t now_ms);
  // Forgets ids past the window (the tick; it also has what is pending
  // written with the next batch).
  void expire(std::int64_t now_ms);
  // Shutdown: the next batch writes every pending id.
  void write_pending() { write_due_ = true; }

  std::size_t size() const { return used_; }
  std::uint64_t evicted_for_space() const { return evicted_for_space_; }
  // Bytes of memory the index holds (table and FIFO), for the figures.
  std::size_t memory_bytes() const;

  // BatchContributor: the ids taken since the last record, as one record,
  // when the batch commits anything else (or they have waited long enough).
  void before_flush() override;
  // Ids with no commit to ride with wait at most this long under traffic
  // (and until the next tick when idle).
  static constexpr std::int64_t kIdleCommitMs = 10;
  static constexpr std::size_t kMaxPendingIds = 8192;

 private:
  struct Slot {
    std::uint64_t hi = 0, lo = 0;
    std::int64_t at_ms = 0;
    std::uint64_t seq = 0;  // 0: empty
  };
  struct Seen {
    DedupHash hash;
    std::int64_t at_ms;
    std::uint64_t seq;
    std::uint64_t ticket;  // the batch that wrote it (0: restored)
  };
  struct Record {
    std::uint64_t first_seq, last_seq;  // the ids one DedupIds record holds
  };

  // The table.
  Slot* find(const DedupHash& h);
  const Slot* find(const DedupHash& h) const;
  void upsert(const DedupHash& h, std::int64_t at_ms, std::uint64_t seq);
  void erase_slot(std::size_t i);
  void grow();
  const Seen* entry(std::uint64_t seq) const;  // the FIFO entry of a sequence (binary search)

  void add(const DedupHash& h, std::int64_t at_ms, std::uint64_t seq, std::uint64_t ticket);
  void forget_oldest();  // the oldest live id (stale FIFO slots on the way go too)
  bool pop_oldest();     // one FIFO slot; false if it was stale

  Persistence& persistence_;
  std::int64_t window_ms_;
  std::size_t max_ids_;
  PageArray<Slot> slots_;
  std::size_t used_ = 0;  // slots in use: ids remembered
  std::deque<Seen> order_;     // oldest first, sequences increasing (a slot whose id was taken again is stale)
  std::deque<Record> records_;  // on disk, oldest first
  std::string pending_;         // ids not yet in a record, encoded for one
  std::uint64_t pending_first_ = 0;
  std::int64_t pending_since_ms_ = 0;  // when the first of them was taken
  std::int64_t last_ms_ = 0;           // the latest time remember() was told
  bool write_due_ = false;             // the tick: write what is pending now
  std::vector<std::uint64_t> unrecorded_;  // records the FIFO has passed, erased with the next write
  std::uint64_t next_seq_ = 1;
  std::uint64_t evicted_for_space_ = 0;
};

}  // namespace junction::core
