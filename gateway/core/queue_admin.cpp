// QueueManager's operator side (the admin API): list, peek, purge, move,
// remove. Nothing here runs per message; each call may read the queue's
// disk range, bounded by what it was asked for.
#include <algorithm>

#include "log.h"
#include "queue.h"
#include "records.h"
#include "store.h"

namespace junction::core {

namespace {
constexpr std::string_view kDlqPrefix = "DLQ.";
}  // namespace

std::vector<Queue*> QueueManager::list() const {
  std::vector<Queue*> out;
  out.reserve(queues_.size());
  for (const auto& [name, q] : queues_) out.push_back(q.get());
  std::sort(out.begin(), out.end(), [](const Queue* a, const Queue* b) { return a->name_ < b->name_; });
  return out;
}

std::string QueueManager::dead_letter_name(const Queue& q) {
  if (q.name_.substr(0, kDlqPrefix.size()) == kDlqPrefix) return {};
  if (q.policy_.dead_letter == "none") return {};
  return q.policy_.dead_letter.empty() ? std::string(kDlqPrefix) + q.name_ : q.policy_.dead_letter;
}

std::int64_t QueueManager::oldest_created_ms(Queue& q) {
  std::int64_t oldest = 0;
  auto consider = [&](const QueuedMessage& qm) {
    if (qm.msg && qm.msg->created_ms != 0 && (oldest == 0 || qm.msg->created_ms < oldest)) oldest = qm.msg->created_ms;
  };
  if (!q.ready_.empty()) {
    consider(q.ready_.front());
  } else {
    for (const QueuedMessage& qm : peek(q, 1)) consider(qm);
  }
  for (const auto& [due, qm] : q.backoff_) consider(qm);
  return oldest;
}

std::vector<QueuedMessage> QueueManager::peek(Queue& q, std::size_t limit) {
  std::vector<QueuedMessage> out;
  for (std::size_t i = 0; i < q.ready_.size() && out.size() < limit; ++i) out.push_back(q.ready_[i]);
  settle(q);
  if (out.size() < limit && q.disk_count_ != 0) {
    // Read, not taken: the disk range and the counters stay as they are.
    const std::uint64_t stop = q.spilled_.empty() ? UINT64_MAX : q.spilled_.front().qm.seq;
    bool beyond = false;
    try {
      persistence_.store().scan_from(
          store::Table::QueueEntries, store::queue_entry_key(q.name_, q.disk_next_seq_),
          std::min<std::uint64_t>(limit - out.size(), q.disk_count_), [&](std::string_view k, std::string_view v) {
            std::string_view name;
            std::uint64_t seq = 0;
            if (beyond || !store::split_queue_entry_key(k, name, seq) || name != q.name_ || seq >= stop) {
              beyond = true;
              return;
            }
            store::StoredQueueEntry rec;
            if (!store::decode(v, rec) || rec.msg_id != 0) return;
            QueuedMessage qm;
            qm.msg = from_record(rec.message);
            qm.msg->persisted = false;
            qm.seq = seq;
            qm.deliveries = rec.deliveries;
            out.push_back(std::move(qm));
          });
    } catch (const std::exception& e) {
      log::error("queue %s: cannot read its backlog from the store: %s", q.name_.c_str(), e.what());
    }
  }
  for (std::size_t i = 0; i < q.spilled_.size() && out.size() < limit; ++i) out.push_back(q.spilled_[i].qm);
  for (auto it = q.backoff_.begin(); it != q.backoff_.end() && out.size() < limit; ++it) out.push_back(it->second);
  return out;
}

std::size_t QueueManager::purge(Queue& q) {
  std::size_t n = 0;
  // A window at a time: refill() reads the disk range in key order, and may
  // put aside messages still backing off (their records say until when).
  do {
    while (!q.ready_.empty()) {
      remove_record(q, q.ready_.front());
      q.ready_.pop_front();
      ++n;
    }
    for (auto& [due, qm] : q.backoff_) {
      remove_record(q, qm);
      ++n;
    }
    q.backoff_.clear();
  } while (refill(q, kWindow) || !q.backoff_.empty());
  // Nothing backs off any more: only groups with an owner stay.
  for (auto it = q.groups_.begin(); it != q.groups_.end();) {
    it->second.backing_off = 0;
    it = it->second.owner == nullptr ? q.groups_.erase(it) : std::next(it);
  }
  q.ready_.shrink_if_empty();
  return n;
}

std::size_t QueueManager::move(Queue& from, std::string_view to, std::size_t limit) {
  if (!valid_name(to) || to == from.name_) return 0;
  std::size_t n = 0;
  while (limit == 0 || n < limit) {
    if (from.ready_.empty() && !refill(from, kWindow)) break;
    if (from.ready_.empty()) break;
    MessageRef m = from.ready_.front().msg;
    if (publish(to, m) != QueueResult::Ok) break;
    // publish() may have dispatched the target, never the source: the
    // front is still the message just copied.
    remove_record(from, from.ready_.front());
    from.ready_.pop_front();
    ++n;
  }
  from.ready_.shrink_if_empty();
  return n;
}

QueueManager::RemoveResult QueueManager::remove(std::string_view name, bool force) {
  auto it = queues_.find(std::string(name));
  if (it == queues_.end()) return RemoveResult::NotFound;
  Queue& q = *it->second;
  if (!q.subs_.empty()) return RemoveResult::HasConsumers;
  if (q.held_ != 0 || q.disk_count_ != 0 || !q.spilled_.empty()) {
    if (!force) return RemoveResult::NotEmpty;
    purge(q);
  }
  if (q.held_ != 0) return RemoveResult::NotEmpty;  // the store could not be read: keep it
  // Nothing may keep a pointer to it: its counters' flush and back-off wake-ups.
  dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), &q), dirty_.end());
  for (auto b = backoff_due_.begin(); b != backoff_due_.end();) b = b->second == &q ? backoff_due_.erase(b) : std::next(b);
  persistence_.erase(store::Table::QueueMeta, q.name_);
  log::notice("queue %s: deleted", q.name_.c_str());
  queues_.erase(it);
  return RemoveResult::Removed;
}

}  // namespace junction::core
