// junction::store — the persistence boundary.
//
// The core sees the store as an ordered key/value space split into tables and
// hands it one Batch per loop iteration (group commit). Implementations:
//   MemStore  (store/mem_store.h)       durability: memory, no disk
//   LmdbStore (store/lmdb/lmdb_store.h) durability: sync | batch
// Both pass the same conformance suite (test/unit/store).
//
// Invariants:
//  * Batches commit in submission order, each atomically (all ops or none).
//  * submit() never blocks on I/O; completion is reported through the notifier
//    (any thread) and collected with take_completed() on the loop thread.
//  * Records are opaque bytes here; their versioned format is store/records.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::store {

// Table ids are part of the on-disk format: append, never renumber.
enum class Table : std::uint8_t {
  Meta = 0,            // format version, id counters
  Messages = 1,        // msg id (u64 BE) -> StoredMessage; bodies stored once
  Retained = 2,        // msg id (u64 BE) -> empty; the message record holds the topic
  Sessions = 3,        // client id -> StoredSession
  SessionEntries = 4,  // client id \0 seq (u64 BE) -> StoredEntry (pending / in-flight)
  InboundHeld = 5,     // client id \0 packet id (u16 BE) -> empty: an exactly-once publish taken, its release awaited
  QueueEntries = 6,    // queue name \0 seq (u64 BE) -> StoredQueueEntry (ready or unacknowledged), message inline
  QueueMeta = 7,       // queue name -> StoredQueueMeta (counters, next seq)
  Count
};

const char* table_name(Table t);

// Meta key holding the on-disk format version; written by LmdbStore at first
// open. Reserved: the core must not write it.
inline constexpr std::string_view kMetaFormatKey = "format";

// Keys must be 1..kMaxKeySize bytes (LMDB's compiled-in limit). Both stores
// fail a batch holding any other key with StoreError::Io, so a key that works
// against MemStore in tests also works on disk.
inline constexpr std::size_t kMaxKeySize = 511;
inline bool valid_key(std::string_view k) { return !k.empty() && k.size() <= kMaxKeySize; }

struct Op {
  Table table;
  bool erase;  // true: delete key; false: put key=value
  std::string key;
  std::string value;
};

// Everything one loop iteration wants durable. Later ops on the same key win.
class Batch {
 public:
  void put(Table t, std::string_view key, std::string_view value);
  void erase(Table t, std::string_view key);
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }
  std::size_t bytes() const { return bytes_; }
  const std::vector<Op>& ops() const { return ops_; }
  void clear();

 private:
  std::vector<Op> ops_;
  std::size_t bytes_ = 0;
};

enum class StoreError : std::uint8_t {
  Ok = 0,
  Full,     // map or disk full and could not grow: refuse new durable work
  Io,       // other I/O failure
  Closed,   // store already shut down
};

const char* store_error_name(StoreError e);

struct CommitResult {
  std::uint64_t seq = 0;
  StoreError error = StoreError::Ok;
};

// How much room the store has, for admission limits (store.max_disk_bytes,
// store.min_free_disk_bytes). `known` is false for a store without a disk.
struct StoreSpace {
  bool known = false;
  std::uint64_t used_bytes = 0;       // pages holding records
  std::uint64_t reusable_bytes = 0;   // free pages inside the store's files (reused before the file grows)
  std::uint64_t free_disk_bytes = 0;  // free space of the filesystem, for an unprivileged writer
};

class Store {
 public:
  virtual ~Store() = default;

  // Loop thread, about once a second or after many written bytes: a few
  // syscalls and one read transaction.
  virtual StoreSpace space() { return {}; }

  // Start-up only (loop not running yet): visits every record of a table in
  // key order. Throws std::runtime_error on I/O failure.
  virtual void scan(Table t, const std::function<void(std::string_view key, std::string_view value)>& visit) = 0;

  // Background loading while the broker runs (loop thread, between
  // iterations): visits at most `limit` records with key >= `from`, in key
  // order, from one consistent snapshot; returns how many it visited (fewer
  // than `limit`: the table ends). Throws std::runtime_error on I/O failure.
  virtual std::size_t scan_from(Table t, std::string_view from, std::size_t limit,
                                const std::function<void(std::string_view key, std::string_view value)>& visit) = 0;
  // Reads one record of what is committed. False when absent.
  virtual bool get(Table t, std::string_view key, std::string& value) = 0;
  // The greatest key of a table (e.g. the highest message id). False when empty.
  virtual bool last_key(Table t, std::string& key) = 0;

  // Queues one batch for commit as a single transaction; `seq` increases by
  // one per call and is echoed back in the CommitResult.
  virtual void submit(Batch&& batch, std::uint64_t seq) = 0;

  // Loop thread: moves results of finished commits (in seq order) into `out`.
  virtual void take_completed(std::vector<CommitResult>& out) = 0;

  // Called (from any thread) whenever take_completed() has something new.
  virtual void set_notifier(std::function<void()> wake) = 0;

  // Blocks until every submitted batch is committed and synced (shutdown, tests).
  virtual void flush() = 0;

  // True when a completed commit has already been reported by submit() itself
  // (MemStore): the caller may collect immediately without waiting for a wake.
  virtual bool completes_inline() const { return false; }

  virtual const char* name() const = 0;
};

// Big-endian helpers for keys that must sort numerically.
std::string u64_key(std::uint64_t v);
std::uint64_t u64_from_key(std::string_view k);  // 0 unless k is 8 bytes
bool parse_u64_key(std::string_view k, std::uint64_t& out);  // false unless k is 8 bytes

}  // namespace junction::store
