#include "persistence.h"

#include <algorithm>
#include <chrono>

#include "log.h"

namespace junction::core {

Persistence::Persistence(store::Store& store) : store_(store) {}

namespace {
std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void Persistence::record_latency(double seconds) {
  std::size_t i = 0;
  while (i + 1 < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
  // Past the last bound: counted only in count (the +Inf bucket).
  if (seconds <= kLatencyBounds[i]) ++commit_stats_.buckets[i];
  ++commit_stats_.count;
  commit_stats_.latency_sum_s += seconds;
}

bool Persistence::failed(std::uint64_t ticket) const {
  return std::find(failed_.begin(), failed_.end(), ticket) != failed_.end();
}

void Persistence::wait(CommitWaiter* w) {
  if (w->waiting_) return;
  w->waiting_ = true;
  waiters_.push_back(w);
}

void Persistence::cancel(CommitWaiter* w) {
  if (!w->waiting_) return;
  w->waiting_ = false;
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), w), waiters_.end());
}

void Persistence::persist_ref(const Message& m) {
  if (m.persist_refs++ == 0 && !m.persisted) write_message(m);
}

void Persistence::persist_unref(const Message& m) {
  if (m.persist_refs == 0) return;
  if (--m.persist_refs == 0 && m.persisted) {
    batch_.erase(store::Table::Messages, store::u64_key(m.id));
    m.persisted = false;
  }
}

void Persistence::write_message(const Message& m) {
  batch_.put_with(store::Table::Messages, store::u64_key(m.id),
                  [&](std::string& out) { store::append_message(out, view_of(m)); });
  m.persisted = true;
}

void Persistence::flush() {
  for (BatchContributor* c : contributors_) c->before_flush();
  deferred_ = 0;
  not_awaited_ = 0;
  const std::uint64_t seq = current_seq_++;
  if (batch_.empty()) {
    // Nothing to write: this iteration's answers only wait for earlier commits.
    if (inflight_.empty()) {
      advance(seq, true);
    } else {
      empty_after_.push_back(seq);
    }
    return;
  }
  inflight_.push_back(seq);
  inflight_start_ns_.push_back(steady_ns());
  commit_stats_.ops_sum += batch_.size();
  store::Batch b;
  std::swap(b, batch_);
  // The next iteration is likely alike: one allocation up front instead of
  // regrowing from nothing (capped so one huge batch is not repeated).
  batch_.reserve(std::min<std::size_t>(b.size(), 16384), std::min<std::size_t>(b.bytes(), 1u << 20));
  store_.submit(std::move(b), seq);
  if (store_.completes_inline()) on_completed();
}

void Persistence::on_completed() {
  std::vector<store::CommitResult> done;
  store_.take_completed(done);
  for (const auto& r : done) {
    if (!inflight_.empty() && inflight_.front() == r.seq) {
      inflight_.pop_front();
      record_latency(double(steady_ns() - inflight_start_ns_.front()) * 1e-9);
      inflight_start_ns_.pop_front();
    }
    ++commits_;
    const bool ok = r.error == store::StoreError::Ok;
    if (!ok) ++commit_stats_.failed;
    if (!ok) {
      if (!degraded_) {
        log::error("store commit failed (%s): refusing new durable work until space is available",
                   store::store_error_name(r.error));
      }
      degraded_ = r.error == store::StoreError::Full;
    } else if (degraded_) {
      degraded_ = false;
      log::notice("store accepts writes again");
    }
    advance(r.seq, ok);
    // Empty iterations queued behind this commit are now complete too.
    while (!empty_after_.empty() && (inflight_.empty() || empty_after_.front() < inflight_.front())) {
      advance(empty_after_.front(), true);
      empty_after_.pop_front();
    }
  }
}

void Persistence::advance(std::uint64_t seq, bool ok) {
  if (!ok) {
    failed_.push_back(seq);
    if (failed_.size() > 64) failed_.pop_front();
  }
  if (seq > committed_seq_) committed_seq_ = seq;
  notify();
}

void Persistence::notify() {
  if (waiters_.empty()) return;
  // Waiters re-register themselves if they still have unanswered work.
  notify_scratch_.swap(waiters_);
  waiters_.clear();
  for (CommitWaiter* w : notify_scratch_) w->waiting_ = false;
  for (CommitWaiter* w : notify_scratch_) w->on_commit();
  notify_scratch_.clear();
}

store::MessageView view_of(const Message& m) {
  store::MessageView v;
  v.id = m.id;
  v.topic = m.topic;
  v.payload = m.payload;
  v.qos = m.qos;
  v.retain = m.retain;
  v.created_ms = m.created_ms;
  v.expiry_ms = m.expiry_ms;
  v.origin_client = m.origin_client;
  v.origin_protocol = m.origin_protocol.value;
  if (!m.props().empty()) {
    const MessageProperties& p = m.props();
    v.content_type = p.content_type;
    v.response_topic = p.response_topic;
    v.correlation_data = p.correlation_data;
    v.payload_format = p.payload_format;
    for (const auto& up : p.user_properties) v.user_properties.emplace_back(up.name, up.value);
  }
  return v;
}

MessageRef from_record(const store::StoredMessage& r) {
  MessageRef ref = MessageRef::make();
  Message& m = *ref;
  m.id = r.id;
  m.topic = r.topic;
  m.payload = r.payload;
  m.qos = r.qos;
  m.retain = r.retain;
  m.created_ms = r.created_ms;
  m.expiry_ms = r.expiry_ms;
  m.origin_client = r.origin_client;
  m.origin_protocol = ProtocolId{r.origin_protocol};
  if (!r.content_type.empty() || !r.response_topic.empty() || !r.correlation_data.empty() || r.payload_format >= 0 ||
      !r.user_properties.empty()) {
    MessageProperties& p = m.mutable_props();
    p.content_type = r.content_type;
    p.response_topic = r.response_topic;
    p.correlation_data = r.correlation_data;
    p.payload_format = r.payload_format;
    for (const auto& [k, v] : r.user_properties) p.user_properties.push_back(UserProperty{k, v});
  }
  m.persisted = true;
  return ref;
}

}  // namespace junction::core
