// junction::core::Persistence — the group-commit pipeline between the core
// and the Store.
//
// Every state change that must survive a crash appends ops to the current
// Batch. flush() (end of each loop iteration) submits it with a sequence
// number; commits complete in order. Work that promises durability (PUBACK,
// PUBREC, SUBACK of a persistent session, STOMP RECEIPT) takes a ticket() when
// it happens and is answered once committed(ticket). Tickets are also taken
// for work that wrote nothing, so that answers keep their arrival order
// [MQTT-4.6.0-2]; an iteration with an empty batch completes without a store
// round trip as soon as everything before it has.
//
// Message bodies: persist_ref()/persist_unref() count durable references
// (retained entries, session entries); the Messages record is written with
// the first and erased with the last.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "message.h"
#include "records.h"
#include "store.h"

namespace junction::core {

// Something waiting for commits (a connection with acks to send).
class CommitWaiter {
 public:
  virtual ~CommitWaiter() = default;
  virtual void on_commit() = 0;
  bool waiting_ = false;  // managed by Persistence
};

// Adds its own ops to every batch just before it is submitted (per-batch
// summaries, e.g. a queue's counters, written once however many messages
// changed them).
class BatchContributor {
 public:
  virtual ~BatchContributor() = default;
  virtual void before_flush() = 0;
};

class Persistence {
 public:
  explicit Persistence(store::Store& store);

  void add_contributor(BatchContributor* c) { contributors_.push_back(c); }
  store::Store& store() { return store_; }

  std::uint64_t ticket() const { return current_seq_; }
  bool committed(std::uint64_t ticket) const { return ticket <= committed_seq_; }
  // True if the batch of `ticket` failed (store full / I/O): the answer must be negative.
  bool failed(std::uint64_t ticket) const;
  // Any failed batch among the recent ones (failed() can then say yes).
  bool any_failed() const { return !failed_.empty(); }
  // The store refuses new durable work (last commit failed with Full).
  bool degraded() const { return degraded_; }

  // Registers a waiter to be called once after the next commit progress.
  void wait(CommitWaiter* w);
  void cancel(CommitWaiter* w);

  // Ops for the current batch.
  void put(store::Table t, std::string_view key, std::string_view value) { batch_.put(t, key, value); }
  template <class Write>
  void put_with(store::Table t, std::string_view key, Write&& write) {
    batch_.put_with(t, key, std::forward<Write>(write));
  }
  void erase(store::Table t, std::string_view key) { batch_.erase(t, key); }
  // An op no answer needs to wait for (it is not counted by pending_ops()):
  // bookkeeping whose loss in a crash breaks no promise made to a client,
  // such as a dedup id of a message that itself was not stored.
  void put_not_awaited(store::Table t, std::string_view key, std::string_view value) {
    batch_.put(t, key, value);
    ++not_awaited_;
  }
  void erase_not_awaited(store::Table t, std::string_view key) {
    batch_.erase(t, key);
    ++not_awaited_;
  }
  void persist_ref(const Message& m);
  void persist_unref(const Message& m);
  void write_message(const Message& m);

  // Ops in the next batch, counting those a contributor writes only at the
  // flush (note_deferred): front-ends compare it before and after handling a
  // packet to know whether its answer waits for the commit.
  std::size_t pending_ops() const { return batch_.size() + deferred_ - not_awaited_; }
  void note_deferred() { ++deferred_; }
  // Ops in the next batch that answers wait for: it will commit anyway.
  std::size_t awaited_ops() const { return batch_.size() - not_awaited_; }
  std::size_t pending_bytes() const { return batch_.bytes(); }
  // True when nothing submitted is still waiting for the store.
  bool all_committed() const { return committed_seq_ + 1 == current_seq_; }

  void flush();
  void on_completed();
  bool idle() const { return inflight_.empty() && batch_.empty(); }

  std::uint64_t commits() const { return commits_; }

  // Group commits as the operator sees them (Prometheus): time from submit
  // to completion, and ops per batch. One clock read per batch, not per message.
  static constexpr std::array<double, 12> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                            0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  struct CommitStats {
    std::array<std::uint64_t, kLatencyBounds.size()> buckets{};  // not cumulative: [i] counts (bound[i-1], bound[i]]
    std::uint64_t count = 0;
    double latency_sum_s = 0;
    std::uint64_t ops_sum = 0;
    std::uint64_t failed = 0;
  };
  const CommitStats& commit_stats() const { return commit_stats_; }

 private:
  void advance(std::uint64_t seq, bool ok);
  void notify();
  void record_latency(double seconds);

  store::Store& store_;
  std::uint64_t current_seq_ = 1;
  std::uint64_t committed_seq_ = 0;
  std::deque<std::uint64_t> inflight_;        // submitted, not completed (in order)
  std::deque<std::int64_t> inflight_start_ns_;  // ... when each was submitted (steady clock)
  CommitStats commit_stats_;
  std::deque<std::uint64_t> empty_after_;     // empty iterations waiting behind inflight
  std::deque<std::uint64_t> failed_;          // recent failed seqs
  std::vector<CommitWaiter*> waiters_;
  std::vector<CommitWaiter*> notify_scratch_;
  std::vector<BatchContributor*> contributors_;
  std::size_t deferred_ = 0;
  std::size_t not_awaited_ = 0;
  bool degraded_ = false;
  std::uint64_t commits_ = 0;
  store::Batch batch_;
};

// Conversions between core messages and store records: the message's
// fields as views for the encoders (no copies), and a message from a record.
store::MessageView view_of(const Message& m);
MessageRef from_record(const store::StoredMessage& r);

}  // namespace junction::core
