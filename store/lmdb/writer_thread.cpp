#include "writer_thread.h"

#include <utility>

#include "lmdb_env.h"

namespace junction::store::detail {

WriterThread::WriterThread(LmdbEnv& env, const LmdbOptions& opts)
    : env_(env),
      periodic_sync_(opts.durability == Durability::Batch),
      sync_interval_(opts.sync_interval_ms),
      max_batch_ops_(opts.max_batch_ops),
      thread_([this] { run(); }) {}

WriterThread::~WriterThread() { stop(); }

void WriterThread::submit(Batch&& batch, std::uint64_t seq) {
  {
    std::lock_guard lk(mu_);
    if (!exited_) {
      // While stopping, the thread still drains the queue: a late batch goes
      // through it too, so its Closed result keeps its place in seq order.
      queue_.push_back(Pending{std::move(batch), seq, stopping_});
      wake_.notify_one();
      return;
    }
    completed_.push_back(CommitResult{seq, StoreError::Closed});
  }
  notify();
}

void WriterThread::take_completed(std::vector<CommitResult>& out) {
  std::lock_guard lk(mu_);
  if (out.empty()) {
    out.swap(completed_);
    return;
  }
  out.insert(out.end(), completed_.begin(), completed_.end());
  completed_.clear();
}

void WriterThread::set_notifier(std::function<void()> wake) {
  std::lock_guard nlk(notify_mu_);
  notifier_ = std::move(wake);
}

void WriterThread::notify() {
  std::lock_guard nlk(notify_mu_);
  if (notifier_) notifier_();
}

void WriterThread::flush() {
  std::unique_lock lk(mu_);
  if (exited_) return;  // stop() already committed and synced everything
  const std::uint64_t ticket = ++flush_requested_;
  wake_.notify_one();
  flushed_.wait(lk, [&] { return flush_done_ >= ticket || exited_; });
}

void WriterThread::stop() {
  std::call_once(join_once_, [this] {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  });
}

void WriterThread::commit_group(std::vector<Pending>& work, std::vector<CommitResult>& results) {
  std::vector<const Batch*> group;
  std::vector<bool> valid(work.size());
  group.reserve(work.size());
  for (std::size_t i = 0; i < work.size(); ++i) {
    // A batch with a bad key is failed alone instead of poisoning the group.
    valid[i] = !work[i].closed && env_.check(work[i].batch);
    if (valid[i]) group.push_back(&work[i].batch);
  }
  const StoreError shared = env_.commit(group);
  const bool split = shared != StoreError::Ok && group.size() > 1;
  for (std::size_t i = 0; i < work.size(); ++i) {
    const Pending& p = work[i];
    StoreError e;
    if (p.closed) {
      e = StoreError::Closed;
    } else if (!valid[i]) {
      e = StoreError::Io;
    } else if (split) {
      // The group failed (full map, oversized transaction, ...): retry each
      // batch in its own transaction so only the culprits fail.
      const Batch* one = &p.batch;
      e = env_.commit({&one, 1});
    } else {
      e = shared;
    }
    results.push_back(CommitResult{p.seq, e});
  }
}

void WriterThread::run() {
  using Clock = std::chrono::steady_clock;
  bool dirty = false;  // Batch mode: committed but not yet synced
  Clock::time_point sync_due{};
  std::vector<Pending> work;
  std::vector<CommitResult> results;

  for (;;) {
    std::uint64_t flush_target = 0;
    bool exit_now = false;
    {
      std::unique_lock lk(mu_);
      auto ready = [&] { return !queue_.empty() || stopping_ || flush_requested_ > flush_done_; };
      if (dirty) {
        wake_.wait_until(lk, sync_due, ready);
      } else {
        wake_.wait(lk, ready);
      }
      std::size_t ops = 0;
      while (!queue_.empty()) {
        const std::size_t n = queue_.front().batch.size();
        if (max_batch_ops_ != 0 && !work.empty() && ops + n > max_batch_ops_) break;
        ops += n;
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // A flush (or stop) is honoured only once the queue is drained: taking
      // the queue and the request in one critical section guarantees every
      // batch submitted before the flush() call is in `work` or already done.
      if (queue_.empty()) {
        if (flush_requested_ > flush_done_) flush_target = flush_requested_;
        exit_now = stopping_;
      }
    }

    if (!work.empty()) {
      commit_group(work, results);
      if (periodic_sync_ && !dirty) {
        dirty = true;
        sync_due = Clock::now() + sync_interval_;
      }
      {
        std::lock_guard lk(mu_);
        for (const CommitResult& r : results) completed_.push_back(r);
      }
      notify();
      work.clear();
      results.clear();
    }

    // Sync mode commits are already on disk; the extra sync on flush/stop
    // is cheap and keeps the contract identical in both modes.
    const bool due = dirty && Clock::now() >= sync_due;
    if (due || flush_target != 0 || exit_now) {
      env_.sync();
      dirty = false;
    }
    if (flush_target != 0) {
      std::lock_guard lk(mu_);
      flush_done_ = flush_target;
      flushed_.notify_all();
    }
    if (exit_now) break;
  }

  bool late = false;
  {
    // A submit that raced with the last drain above is still queued: nobody
    // will commit it any more, so report it Closed.
    std::lock_guard lk(mu_);
    exited_ = true;
    for (const Pending& p : queue_) completed_.push_back(CommitResult{p.seq, StoreError::Closed});
    late = !queue_.empty();
    queue_.clear();
    flushed_.notify_all();
  }
  if (late) notify();
}

}  // namespace junction::store::detail
