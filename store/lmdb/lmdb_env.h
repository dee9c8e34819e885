// junction::store::detail::LmdbEnv — one LMDB environment with a named
// database per Table: opening (and its checks), scans, group commits with map
// growth, sync. Knows nothing about threads except one lock (see below).
//
// Threading: commit(), sync() and every map resize run on the writer thread
// only. scan() may run on another thread; it holds map_mu_ shared for its read
// transaction because mdb_env_set_mapsize() needs no transaction active in the
// process (growth takes map_mu_ exclusively).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

#include "lmdb_options.h"
#include "store.h"

struct MDB_env;
struct MDB_txn;

namespace junction::store::detail {

class LmdbEnv {
 public:
  // Throws std::runtime_error (message names the path) if the directory cannot
  // be created, is locked by another process, is not a usable LMDB
  // environment, or holds a newer format than this build reads.
  explicit LmdbEnv(const LmdbOptions& opts);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  // Visits every record of `t` in key order. Throws std::runtime_error.
  // The visitor must not wait for the writer thread (e.g. call flush()).
  void scan(Table t, const std::function<void(std::string_view, std::string_view)>& visit);
  std::size_t scan_from(Table t, std::string_view from, std::size_t limit,
                        const std::function<void(std::string_view, std::string_view)>& visit);
  bool get(Table t, std::string_view key, std::string& value);
  bool last_key(Table t, std::string& key);
  StoreSpace space();

  // Applies `batches` in order in one write transaction, growing the map on
  // MDB_MAP_FULL. Either everything is applied (Ok) or nothing (Full / Io).
  StoreError commit(std::span<const Batch* const> batches);

  // False (and one log line) if the batch holds a key LMDB cannot store.
  bool check(const Batch& batch) const;

  // Forces data to disk (mdb_env_sync force=1).
  StoreError sync();

  std::uint64_t transactions_committed() const { return txns_.load(std::memory_order_relaxed); }
  std::size_t map_size() const { return map_size_.load(std::memory_order_relaxed); }
  const std::string& path() const { return path_; }

 private:
  struct ReadCursor;  // lmdb_env.cpp
  struct EnvCloser {
    void operator()(MDB_env* env) const;
  };
  struct LockFd {  // closes (and so unlocks) even when the constructor throws
    int fd = -1;
    ~LockFd();
  };
  static constexpr std::size_t kTables = static_cast<std::size_t>(Table::Count);

  void open_databases();  // throws
  int run_write(const std::function<int(MDB_txn*)>& body);
  bool grow();
  std::size_t disk_limit() const;
  StoreError classify(int rc);
  void log_error_once(int rc, const char* what);

  std::string path_;
  std::size_t max_map_size_;
  std::uint64_t min_free_disk_bytes_;
  std::size_t page_size_;
  LockFd lock_;  // flock'ed: one process per data directory
  std::unique_ptr<MDB_env, EnvCloser> env_;
  std::array<unsigned int, kTables> dbi_{};  // MDB_dbi
  std::shared_mutex map_mu_;
  std::atomic<std::size_t> map_size_{0};
  std::atomic<std::uint64_t> txns_{0};
  // Writer-thread state that keeps the log to one line per episode.
  bool full_logged_ = false;
  int last_logged_rc_ = 0;
};

}  // namespace junction::store::detail
