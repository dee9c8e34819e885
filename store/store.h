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
#include <cstring>
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
  Delayed = 8,         // due ms (u64 BE) ++ msg id (u64 BE) -> StoredMessage (the message to route when due)
  DedupIds = 9,        // taken ms (u64 BE) ++ seq (u64 BE) -> 128-bit hash of (destination, x-dedup-id)
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

// One operation of a Batch, as views into the batch's buffer (valid while
// the batch lives and is not appended to).
struct Op {
  Table table;
  bool erase;  // true: delete key; false: put key=value
  std::string_view key;
  std::string_view value;
};

// A record key built without a heap allocation for the usual sizes (client
// ids and queue names up to about 100 bytes); longer ones spill to the heap.
class RecordKey {
 public:
  RecordKey() = default;
  RecordKey(const RecordKey& o) { assign(o.view()); }
  RecordKey& operator=(const RecordKey& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  // Room for `n` bytes; returns where to write them.
  char* prepare(std::size_t n);
  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }
  std::string str() const { return std::string(view()); }
  std::size_t size() const { return size_; }
  friend bool operator==(const RecordKey& a, const RecordKey& b) { return a.view() == b.view(); }
  friend bool operator<(const RecordKey& a, const RecordKey& b) { return a.view() < b.view(); }

 private:
  void assign(std::string_view v) { std::memcpy(prepare(v.size()), v.data(), v.size()); }
  const char* data() const { return size_ <= sizeof(inline_) ? inline_ : heap_.data(); }
  char inline_[112];
  std::size_t size_ = 0;
  std::string heap_;
};

// Everything one loop iteration wants durable. Later ops on the same key win.
// Keys and values are copied into one buffer (no allocation per operation:
// a busy iteration adds thousands).
class Batch {
 public:
  void put(Table t, std::string_view key, std::string_view value);
  // A put whose value `write(std::string& out)` appends to `out` itself, so
  // a record is encoded straight into the batch instead of into a temporary.
  template <class Write>
  void put_with(Table t, std::string_view key, Write&& write) {
    const std::size_t off = buf_.size();
    buf_.append(key);
    write(buf_);
    slots_.push_back(Slot{off, static_cast<std::uint32_t>(key.size()),
                          static_cast<std::uint32_t>(buf_.size() - off - key.size()), t, false});
  }
  void erase(Table t, std::string_view key);
  bool empty() const { return slots_.empty(); }
  std::size_t size() const { return slots_.size(); }
  std::size_t bytes() const { return buf_.size(); }
  // Reserves room for a batch like one seen before (fewer regrowths).
  void reserve(std::size_t ops, std::size_t bytes);
  void clear();

  class Ops;
  Ops ops() const;

 private:
  struct Slot {
    std::size_t off;  // key at buf_[off], value right after it
    std::uint32_t key_len;
    std::uint32_t value_len;
    Table table;
    bool erase;
  };
  Op op(const Slot& s) const {
    const std::string_view all(buf_);
    return Op{s.table, s.erase, all.substr(s.off, s.key_len), all.substr(s.off + s.key_len, s.value_len)};
  }
  std::string buf_;
  std::vector<Slot> slots_;
};

// The ops of a batch in order, as Op values (range-for: `for (const Op& op : b.ops())`).
class Batch::Ops {
 public:
  class iterator {
   public:
    iterator(const Batch* b, std::size_t i) : b_(b), i_(i) {}
    Op operator*() const { return b_->op(b_->slots_[i_]); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    const Batch* b_;
    std::size_t i_;
  };
  explicit Ops(const Batch* b) : b_(b) {}
  iterator begin() const { return {b_, 0}; }
  iterator end() const { return {b_, b_->slots_.size()}; }
  std::size_t size() const { return b_->slots_.size(); }
  Op operator[](std::size_t i) const { return b_->op(b_->slots_[i]); }

 private:
  const Batch* b_;
};

inline Batch::Ops Batch::ops() const { return Ops(this); }

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
  // Bytes of the store's memory map (LMDB), 0 where there is none.
  virtual std::size_t map_size() const { return 0; }

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
