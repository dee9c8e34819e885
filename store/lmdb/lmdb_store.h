// junction::store::LmdbStore — durable Store on one LMDB environment.
//
//   LmdbStore store({.path = "./junction-data", .durability = Durability::Batch});
//
// The constructor opens (creating the directory if needed) and throws
// std::runtime_error with the path in the message if it cannot. Afterwards
// errors are values: each batch completes with Ok, Full (map/disk full, the
// batch applied nothing; smaller batches may still succeed) or Io.
//
// Threading: one writer thread (writer_thread.h) owns every write
// transaction. submit(), take_completed(), set_notifier() and flush() may be
// called from any thread. The notifier runs on the writer thread, once per
// group commit (after close(): on the thread calling submit()), and must only
// wake the loop (e.g. uv_async_send) or call take_completed(); once
// set_notifier() returns, the previous notifier is no longer running. scan() is for start-up (it may run while the writer
// is idle); its visitor must not call flush(). Destruction = close().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "lmdb_options.h"
#include "store.h"

namespace junction::store {

namespace detail {
class LmdbEnv;
class WriterThread;
}  // namespace detail

class LmdbStore final : public Store {
 public:
  using Options = LmdbOptions;

  explicit LmdbStore(const LmdbOptions& opts);
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  void scan(Table t, const std::function<void(std::string_view key, std::string_view value)>& visit) override;
  std::size_t scan_from(Table t, std::string_view from, std::size_t limit,
                        const std::function<void(std::string_view key, std::string_view value)>& visit) override;
  bool get(Table t, std::string_view key, std::string& value) override;
  bool last_key(Table t, std::string& key) override;
  StoreSpace space() override;
  void submit(Batch&& batch, std::uint64_t seq) override;
  void take_completed(std::vector<CommitResult>& out) override;
  void set_notifier(std::function<void()> wake) override;
  void flush() override;
  const char* name() const override { return "lmdb"; }

  // Commits everything queued, syncs and stops the writer thread; later
  // submits complete with StoreError::Closed. scan() still works. Idempotent.
  void close();

  // Write transactions committed so far (group commits: usually fewer than
  // batches). For tests and metrics.
  std::uint64_t transactions_committed() const;
  // Current LMDB map size in bytes (grows on demand).
  std::size_t map_size() const override;
  const LmdbOptions& options() const { return opts_; }

 private:
  LmdbOptions opts_;
  std::unique_ptr<detail::LmdbEnv> env_;
  std::unique_ptr<detail::WriterThread> writer_;  // destroyed before env_
};

}  // namespace junction::store
