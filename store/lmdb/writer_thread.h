// junction::store::detail::WriterThread — the one thread that writes LMDB.
//
// submit() only queues (never blocks on I/O). The thread takes everything
// queued (up to max_batch_ops), commits it as ONE write transaction (group
// commit: one fsync for many batches in Sync mode), appends one CommitResult
// per batch in seq order and calls the notifier once per group. If a group
// fails, its batches are retried one transaction each, so one bad or huge
// batch fails alone. In Batch durability it also syncs every sync_interval.
//
// Threading: every public method may be called from any thread. mu_ guards
// the queue, the completed list and the flush/stop state; notify_mu_ is held
// while the notifier runs (so set_notifier() returning means the old one is
// done and never called again). The notifier must not call set_notifier(),
// flush() or stop(); take_completed() is fine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "lmdb_options.h"
#include "store.h"

namespace junction::store::detail {

class LmdbEnv;

class WriterThread {
 public:
  WriterThread(LmdbEnv& env, const LmdbOptions& opts);
  ~WriterThread();  // stop()
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  void submit(Batch&& batch, std::uint64_t seq);
  void take_completed(std::vector<CommitResult>& out);
  void set_notifier(std::function<void()> wake);
  // Returns once every batch submitted before the call is committed and synced.
  void flush();
  // Commits what is queued, syncs, ends the thread. Later submits complete
  // with StoreError::Closed. Idempotent.
  void stop();

 private:
  struct Pending {
    Batch batch;
    std::uint64_t seq;
    bool closed;  // submitted while stopping: report Closed, in order
  };

  void run();
  void commit_group(std::vector<Pending>& work, std::vector<CommitResult>& results);
  void notify();

  LmdbEnv& env_;
  const bool periodic_sync_;
  const std::chrono::milliseconds sync_interval_;
  const std::size_t max_batch_ops_;

  std::mutex mu_;
  std::condition_variable wake_;     // the writer waits on it
  std::condition_variable flushed_;  // flush() waits on it
  std::deque<Pending> queue_;
  std::vector<CommitResult> completed_;
  std::uint64_t flush_requested_ = 0;
  std::uint64_t flush_done_ = 0;
  bool stopping_ = false;
  bool exited_ = false;

  std::mutex notify_mu_;
  std::function<void()> notifier_;

  std::once_flag join_once_;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace junction::store::detail
