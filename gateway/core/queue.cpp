#include "queue.h"

#include <algorithm>
#include <limits>

#include "log.h"
#include "persistence.h"
#include "records.h"
#include "store.h"

namespace junction::core {

namespace {

constexpr std::size_t kMaxQueueName = 200;  // store keys: name + '\0' + 8 bytes <= 511
constexpr std::string_view kDlqPrefix = "DLQ.";

bool is_dead_letter_queue(std::string_view name) { return name.substr(0, kDlqPrefix.size()) == kDlqPrefix; }

}  // namespace

std::string_view group_of(const Message& m) {
  for (const UserProperty& p : m.props().user_properties) {
    if (p.name == kGroupProperty) return p.value;
  }
  return {};
}

std::size_t Queue::unacked_count() const {
  std::size_t n = 0;
  for (const auto& s : subs_) n += s->unacked_.size();
  return n;
}

QueueManager::QueueManager(Persistence& persistence, const Clock& clock, QueuePolicyResolver policies)
    : persistence_(persistence), clock_(clock), policies_(std::move(policies)) {
  persistence_.add_contributor(this);
}

QueueManager::~QueueManager() = default;

bool QueueManager::valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxQueueName) return false;
  for (char c : name) {
    if (c == '\0' || c == '+' || c == '#') return false;
  }
  return true;
}

Queue* QueueManager::find(std::string_view name) const {
  auto it = queues_.find(std::string(name));
  return it == queues_.end() ? nullptr : it->second.get();
}

Queue& QueueManager::get(std::string_view name) {
  auto it = queues_.find(std::string(name));
  if (it != queues_.end()) return *it->second;
  auto q = std::make_unique<Queue>();
  q->name_.assign(name);
  q->policy_ = policies_ ? policies_(name) : QueuePolicy{};
  Queue& ref = *q;
  queues_.emplace(q->name_, std::move(q));
  return ref;
}

std::int64_t QueueManager::deadline(const Queue& q, const Message& m) const {
  // A dead-letter queue keeps what it is given: expiring there would lose it.
  if (is_dead_letter_queue(q.name_)) return 0;
  if (m.expiry_ms) return m.expiry_ms;
  return q.policy_.ttl_ms ? m.created_ms + q.policy_.ttl_ms : 0;
}

void QueueManager::write_entry(Queue& q, const QueuedMessage& qm) {
  persistence_.put_with(store::Table::QueueEntries, store::queue_entry_key(q.name_, qm.seq),
                        [&](std::string& out) { store::append_queue_entry(out, qm.deliveries, view_of(*qm.msg)); });
}

void QueueManager::mark(Queue& q) {
  if (q.meta_dirty_) return;
  q.meta_dirty_ = true;
  dirty_.push_back(&q);
}

std::size_t QueueManager::window(const Queue& q) const { return q.subs_.empty() ? kIdleWindow : kWindow; }

void QueueManager::append(Queue& q, QueuedMessage qm) {
  qm.seq = q.next_seq_++;
  write_entry(q, qm);
  ++q.held_;
  q.bytes_ += qm.msg->payload.size();
  q.max_msg_id_ = std::max(q.max_msg_id_, qm.msg->id);
  mark(q);
  // Order is ready_, disk, spilled_: once anything is past the window, every
  // newer message is too.
  if (q.disk_count_ == 0 && q.spilled_.empty() && q.ready_.size() < window(q)) {
    q.ready_.push_back(std::move(qm));
    return;
  }
  q.spilled_.push_back(Queue::Spilled{std::move(qm), persistence_.ticket()});
  settle(q);
}

void QueueManager::settle(Queue& q) {
  while (!q.spilled_.empty() && persistence_.committed(q.spilled_.front().ticket)) {
    Queue::Spilled& sp = q.spilled_.front();
    if (persistence_.failed(sp.ticket)) {
      // Its record never reached the disk and its publisher was refused.
      --q.held_;
      q.bytes_ -= sp.qm.msg->payload.size();
      mark(q);
    } else {
      if (q.disk_count_ == 0) q.disk_next_seq_ = sp.qm.seq;
      ++q.disk_count_;
    }
    q.spilled_.pop_front();
  }
}

std::size_t QueueManager::read_disk(Queue& q, std::size_t n) {
  // Records at or past the first spilled one are still in memory (and maybe
  // not yet committed): never read them back.
  const std::uint64_t stop = q.spilled_.empty() ? UINT64_MAX : q.spilled_.front().qm.seq;
  const std::int64_t now = clock_.wall_ms();
  std::size_t visited = 0;  // records of this queue's disk range, readable or not
  bool beyond = false;
  std::uint64_t last = 0;
  try {
    persistence_.store().scan_from(
        store::Table::QueueEntries, store::queue_entry_key(q.name_, q.disk_next_seq_), n,
        [&](std::string_view k, std::string_view v) {
          std::string_view name;
          std::uint64_t seq = 0;
          if (beyond || !store::split_queue_entry_key(k, name, seq) || name != q.name_ || seq >= stop) {
            beyond = true;
            return;
          }
          ++visited;
          last = seq;
          --q.disk_count_;
          store::StoredQueueEntry rec;
          if (!store::decode(v, rec) || rec.msg_id != 0) {
            // Version-1 entries were rewritten at start-up; anything else here is damage.
            log::warning("queue %s: dropping unreadable entry %llu", q.name_.c_str(), (unsigned long long)seq);
            persistence_.erase(store::Table::QueueEntries, k);
            --q.held_;
            mark(q);
            return;
          }
          QueuedMessage qm;
          qm.msg = from_record(rec.message);
          qm.msg->persisted = false;  // the queue entry holds it, not a Messages record
          qm.seq = seq;
          qm.deliveries = rec.deliveries;
          qm.expires_ms = deadline(q, *qm.msg);
          ++stats_.read_back;
          if (rec.not_before_ms > now) {
            // Still backing off (requeued before a restart or an eviction).
            put_aside(q, rec.not_before_ms, std::move(qm));
            return;
          }
          q.ready_.push_back(std::move(qm));
        });
  } catch (const std::exception& e) {
    log::error("queue %s: cannot read its backlog from the store: %s", q.name_.c_str(), e.what());
    return 0;
  }
  if (last != 0) q.disk_next_seq_ = last + 1;
  if (visited == 0 && q.disk_count_ != 0) {
    // The counters said more than the store holds (a crash of a build that
    // wrote no counters, or a commit that failed): believe the store.
    log::warning("queue %s: %llu messages counted on disk are not there; counter corrected", q.name_.c_str(),
                 (unsigned long long)q.disk_count_);
    q.held_ -= std::min<std::uint64_t>(q.held_, q.disk_count_);
    q.disk_count_ = 0;
    mark(q);
  }
  return visited;
}

bool QueueManager::refill(Queue& q, std::size_t target) {
  settle(q);
  const std::size_t before = q.ready_.size();
  while (q.ready_.size() < target) {
    if (q.disk_count_ != 0) {
      const std::size_t want = std::min<std::uint64_t>(target - q.ready_.size(), q.disk_count_);
      if (read_disk(q, want) == 0 && q.disk_count_ != 0) break;  // the store failed: try again later
      continue;
    }
    if (q.spilled_.empty()) break;
    // Not committed yet, or committed but never counted on disk: in memory either way.
    q.ready_.push_back(std::move(q.spilled_.front().qm));
    q.spilled_.pop_front();
  }
  return q.ready_.size() > before;
}

void QueueManager::evict(Queue& q) {
  if (!q.subs_.empty() || q.ready_.size() <= kIdleWindow || !persistence_.all_committed()) return;
  // No consumer holds anything (leaving requeued it all), and every record
  // of the window is committed: the whole window goes back to the disk
  // range, which then starts at its lowest key (requeued messages come back
  // in their original order).
  std::uint64_t lowest = q.disk_count_ ? q.disk_next_seq_ : UINT64_MAX;
  for (std::size_t i = 0; i < q.ready_.size(); ++i) lowest = std::min(lowest, q.ready_[i].seq);
  // Messages backing off go too: their records say until when, and a read
  // of the disk range puts them aside again.
  for (const auto& [due, qm] : q.backoff_) lowest = std::min(lowest, qm.seq);
  q.disk_count_ += q.ready_.size() + q.backoff_.size();
  q.disk_next_seq_ = lowest;
  q.ready_.clear();
  q.ready_.shrink_if_empty();
  q.backoff_.clear();
  q.groups_.clear();  // no owners without consumers, and nothing backing off in memory
}

void QueueManager::remove_record(Queue& q, const QueuedMessage& qm) {
  persistence_.erase(store::Table::QueueEntries, store::queue_entry_key(q.name_, qm.seq));
  --q.held_;
  q.bytes_ -= qm.msg->payload.size();
  mark(q);
}

void QueueManager::before_flush() {
  for (Queue* q : dirty_) {
    q->meta_dirty_ = false;
    if (q->held_ == 0) {
      // An empty queue needs no record (its next key restarts at 1 after a
      // restart, when none of its entries is left).
      persistence_.erase(store::Table::QueueMeta, q->name_);
      continue;
    }
    store::StoredQueueMeta m;
    m.count = q->held_;
    m.bytes = q->bytes_;
    m.next_seq = q->next_seq_;
    m.max_msg_id = q->max_msg_id_;
    persistence_.put(store::Table::QueueMeta, q->name_, store::encode(m));
  }
  dirty_.clear();
}

QueueResult QueueManager::publish(std::string_view name, const MessageRef& m) {
  if (!valid_name(name)) return QueueResult::InvalidName;
  Queue& q = get(name);
  const QueuePolicy& p = q.policy_;
  auto over = [&] {
    return (p.max_length && q.held_ + 1 > p.max_length) ||
           (p.max_bytes && q.bytes_ + m->payload.size() > p.max_bytes);
  };
  if (over()) {
    if (p.overflow == Overflow::RejectPublish) {
      ++stats_.rejected;
      return QueueResult::Rejected;
    }
    while (over() && (!q.ready_.empty() || refill(q, 1))) {
      QueuedMessage head = std::move(q.ready_.front());
      q.ready_.pop_front();
      ++stats_.dropped;
      dead_letter(q, std::move(head), "maxlen");
    }
    if (over()) {  // everything left is unacknowledged: nothing may be dropped
      ++stats_.rejected;
      return QueueResult::Rejected;
    }
  }
  QueuedMessage qm;
  qm.msg = m;
  qm.expires_ms = deadline(q, *m);
  append(q, std::move(qm));
  ++stats_.enqueued;
  if (!q.subs_.empty()) dispatch(q);
  return QueueResult::Ok;
}

QueueSubscription* QueueManager::subscribe(std::string_view name, QueueConsumer* c, AckMode mode,
                                           std::uint32_t prefetch) {
  if (!valid_name(name)) return nullptr;
  Queue& q = get(name);
  auto sub = std::make_unique<QueueSubscription>();
  sub->queue_ = &q;
  sub->consumer_ = c;
  sub->mode_ = mode;
  sub->prefetch_ = prefetch;
  QueueSubscription* raw = sub.get();
  q.subs_.push_back(std::move(sub));
  dispatch(q);
  return raw;
}

void QueueManager::unsubscribe(QueueSubscription* sub) {
  Queue& q = *sub->queue_;
  std::vector<QueuedMessage> back;
  back.reserve(sub->unacked_.size());
  while (!sub->unacked_.empty()) {
    back.push_back(std::move(sub->unacked_.front().qm));
    sub->unacked_.pop_front();
  }
  release_groups(q, sub);
  auto it = std::find_if(q.subs_.begin(), q.subs_.end(), [&](const auto& s) { return s.get() == sub; });
  if (it != q.subs_.end()) {
    const std::size_t idx = std::size_t(it - q.subs_.begin());
    q.subs_.erase(it);
    if (q.cursor_ > idx) --q.cursor_;
  }
  requeue(q, back);
  dispatch(q);
}

void QueueManager::requeue(Queue& q, std::vector<QueuedMessage>& back) {
  // Back to the head, in their original order; with a back-off, aside until
  // due (the record says until when, so a restart keeps the wait).
  const std::int64_t now = q.policy_.redelivery_delay_ms > 0 ? clock_.wall_ms() : 0;
  for (auto it = back.rbegin(); it != back.rend(); ++it) {
    QueuedMessage& qm = *it;
    if (q.policy_.max_deliveries && qm.deliveries >= q.policy_.max_deliveries) {
      dead_letter(q, std::move(qm), "delivery-limit");
      continue;
    }
    if (now != 0) {
      const std::int64_t due = now + backoff_ms(q, qm.deliveries);
      persistence_.put_with(store::Table::QueueEntries, store::queue_entry_key(q.name_, qm.seq),
                            [&](std::string& out) {
                              store::append_queue_entry(out, qm.deliveries, view_of(*qm.msg), due);
                            });
      put_aside(q, due, std::move(qm));
      continue;
    }
    write_entry(q, qm);
    q.ready_.push_front(std::move(qm));
  }
}

void QueueManager::put_aside(Queue& q, std::int64_t due, QueuedMessage qm) {
  if (std::string_view g = group_of(*qm.msg); !g.empty()) ++group_entry(q, g).backing_off;
  const bool earliest = backoff_due_.empty() || due < backoff_due_.begin()->first;
  q.backoff_.emplace(due, std::move(qm));
  backoff_due_.emplace(due, &q);
  if (earliest && wakeup_) wakeup_(due);
}

Queue::Group& QueueManager::group_entry(Queue& q, std::string_view group) {
  auto it = q.groups_.find(group);
  if (it == q.groups_.end()) it = q.groups_.emplace(std::string(group), Queue::Group{}).first;
  return it->second;
}

void QueueManager::release_groups(Queue& q, QueueSubscription* owner) {
  for (auto it = q.groups_.begin(); it != q.groups_.end();) {
    if (it->second.owner == owner) it->second.owner = nullptr;
    if (it->second.owner == nullptr && it->second.backing_off == 0) {
      it = q.groups_.erase(it);
    } else {
      ++it;
    }
  }
}

std::int64_t QueueManager::backoff_ms(const Queue& q, std::uint32_t deliveries) const {
  const QueuePolicy& p = q.policy_;
  const double cap = double(p.max_redelivery_delay_ms > 0 ? p.max_redelivery_delay_ms : 10 * p.redelivery_delay_ms);
  double d = double(p.redelivery_delay_ms);
  for (std::uint32_t n = 1; n < deliveries && d < cap; ++n) d *= p.redelivery_multiplier;
  return static_cast<std::int64_t>(std::min(d, cap));
}

void QueueManager::release_backoff(Queue& q, std::int64_t now_ms) {
  if (q.backoff_.empty() || q.backoff_.begin()->first > now_ms) return;
  // Due ones go to the head, in their original (key) order.
  std::vector<QueuedMessage> due;
  while (!q.backoff_.empty() && q.backoff_.begin()->first <= now_ms) {
    due.push_back(std::move(q.backoff_.begin()->second));
    q.backoff_.erase(q.backoff_.begin());
    if (std::string_view g = group_of(*due.back().msg); !g.empty()) {
      auto it = q.groups_.find(g);
      if (it != q.groups_.end() && it->second.backing_off != 0 && --it->second.backing_off == 0 &&
          it->second.owner == nullptr)
        q.groups_.erase(it);
    }
  }
  std::sort(due.begin(), due.end(), [](const QueuedMessage& a, const QueuedMessage& b) { return a.seq > b.seq; });
  for (QueuedMessage& qm : due) q.ready_.push_front(std::move(qm));
}

void QueueManager::run_backoff(std::int64_t now_ms) {
  while (!backoff_due_.empty() && backoff_due_.begin()->first <= now_ms) {
    Queue* q = backoff_due_.begin()->second;
    backoff_due_.erase(backoff_due_.begin());
    dispatch(*q);  // releases what is due (a stale entry finds nothing)
  }
  if (wakeup_ && !backoff_due_.empty()) wakeup_(backoff_due_.begin()->first);
}

std::int64_t QueueManager::next_backoff_ms() const {
  return backoff_due_.empty() ? std::numeric_limits<std::int64_t>::max() : backoff_due_.begin()->first;
}

bool QueueManager::ack(QueueSubscription* sub, std::uint64_t tag) {
  auto& un = sub->unacked_;
  std::size_t i = 0;
  while (i < un.size() && un[i].tag != tag) ++i;
  if (i == un.size()) return false;
  Queue& q = *sub->queue_;
  if (sub->mode_ == AckMode::Cumulative) {
    for (std::size_t k = 0; k <= i; ++k) {
      remove_record(q, un.front().qm);
      un.pop_front();
      ++stats_.acked;
    }
  } else {
    remove_record(q, un[i].qm);
    if (i == 0) {
      un.pop_front();
    } else {
      un.erase(i);
    }
    ++stats_.acked;
  }
  dispatch(q);
  return true;
}

bool QueueManager::nack(QueueSubscription* sub, std::uint64_t tag, bool requeue_it) {
  auto& un = sub->unacked_;
  std::size_t i = 0;
  while (i < un.size() && un[i].tag != tag) ++i;
  if (i == un.size()) return false;
  Queue& q = *sub->queue_;
  std::vector<QueuedMessage> taken;
  if (sub->mode_ == AckMode::Cumulative) {
    for (std::size_t k = 0; k <= i; ++k) {
      taken.push_back(std::move(un.front().qm));
      un.pop_front();
    }
  } else {
    taken.push_back(std::move(un[i].qm));
    if (i == 0) {
      un.pop_front();
    } else {
      un.erase(i);
    }
  }
  if (requeue_it) {
    requeue(q, taken);
  } else {
    for (auto& qm : taken) dead_letter(q, std::move(qm), "rejected");
  }
  dispatch(q);
  return true;
}

void QueueManager::resume(QueueSubscription* sub) { dispatch(*sub->queue_); }

QueueSubscription* QueueManager::next_consumer(Queue& q) {
  if (q.policy_.single_active_consumer) {
    // Consumers are kept in subscription order: the active one is the first.
    if (q.subs_.empty()) return nullptr;
    QueueSubscription* s = q.subs_.front().get();
    return s->has_room() ? s : nullptr;
  }
  const std::size_t n = q.subs_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (q.cursor_ + k) % n;
    QueueSubscription* s = q.subs_[i].get();
    if (s->has_room()) {
      q.cursor_ = (i + 1) % n;
      return s;
    }
  }
  return nullptr;
}

QueueSubscription* QueueManager::consumer_for(Queue& q, const QueuedMessage& qm, bool& stop) {
  const std::string_view g = group_of(*qm.msg);
  if (g.empty()) {
    QueueSubscription* s = next_consumer(q);
    stop = s == nullptr;  // no consumer has room
    return s;
  }
  auto it = q.groups_.find(g);
  if (it != q.groups_.end()) {
    if (it->second.backing_off != 0) return nullptr;  // an earlier message of the group comes first
    if (QueueSubscription* owner = it->second.owner) return owner->has_room() ? owner : nullptr;
  }
  QueueSubscription* s = next_consumer(q);
  if (!s) {
    stop = true;
    return nullptr;
  }
  (it == q.groups_.end() ? group_entry(q, g) : it->second).owner = s;
  return s;
}

void QueueManager::dispatch(Queue& q) {
  if (q.dispatching_) return;  // a consumer callback re-entered; the outer loop goes on
  q.dispatching_ = true;
  const std::int64_t now = clock_.wall_ms();
  release_backoff(q, now);
  // Read ahead in chunks: a window half empty is filled up again.
  const std::size_t target = q.subs_.empty() ? (q.policy_.ttl_ms ? kIdleWindow : 0) : kWindow;
  // Messages of a group that must wait are passed over: `i` is the first
  // not passed over in this round.
  std::size_t i = 0;
  for (;;) {
    if (i == 0 && q.ready_.size() <= target / 2 && (q.disk_count_ != 0 || !q.spilled_.empty())) refill(q, target);
    if (i >= q.ready_.size()) {
      // Everything in the window waits for its group's consumer: read on
      // (up to kGroupReadAhead windows) so that other consumers keep busy.
      if (i == 0 || q.ready_.size() >= kGroupReadAhead * kWindow || (q.disk_count_ == 0 && q.spilled_.empty()) ||
          !refill(q, q.ready_.size() + kWindow / 2))
        break;
    }
    QueuedMessage& next = q.ready_[i];
    if (i == 0 && next.expires_ms && now >= next.expires_ms) {
      QueuedMessage qm = std::move(next);
      q.ready_.pop_front();
      ++stats_.expired;
      dead_letter(q, std::move(qm), "expired");
      continue;
    }
    bool stop = false;
    QueueSubscription* sub = consumer_for(q, next, stop);
    if (stop) break;
    if (!sub) {
      ++i;
      continue;
    }
    QueuedMessage qm = std::move(next);
    if (i == 0) {
      q.ready_.pop_front();
    } else {
      q.ready_.erase(i);
    }
    ++qm.deliveries;
    ++stats_.delivered;
    if (qm.deliveries > 1) ++stats_.redelivered;
    const std::uint64_t tag = next_tag_++;
    if (sub->mode_ == AckMode::Auto) {
      MessageRef m = qm.msg;
      const std::uint32_t deliveries = qm.deliveries;
      remove_record(q, qm);
      ++stats_.acked;
      sub->consumer_->queue_deliver(*sub, m, tag, deliveries);
    } else {
      MessageRef m = qm.msg;
      const std::uint32_t deliveries = qm.deliveries;
      sub->unacked_.push_back(QueueSubscription::Unacked{std::move(qm), tag});
      sub->consumer_->queue_deliver(*sub, m, tag, deliveries);
    }
  }
  q.dispatching_ = false;
}

void QueueManager::dead_letter(Queue& q, QueuedMessage qm, const char* reason) {
  MessageRef m = qm.msg;
  remove_record(q, qm);
  std::string target = q.policy_.dead_letter.empty() ? std::string(kDlqPrefix) + q.name_ : q.policy_.dead_letter;
  if (target == "none" || is_dead_letter_queue(q.name_) || !valid_name(target)) {
    ++stats_.dropped;
    log::debug("queue %s: dropped message %llu (%s)", q.name_.c_str(), (unsigned long long)m->id, reason);
    return;
  }
  Queue& d = get(target);
  if ((d.policy_.max_length && d.held_ + 1 > d.policy_.max_length) ||
      (d.policy_.max_bytes && d.bytes_ + m->payload.size() > d.policy_.max_bytes)) {
    ++stats_.dropped;
    log::warning("queue %s: dead-letter queue %s is full; message %llu (%s) dropped", q.name_.c_str(),
                 d.name_.c_str(), (unsigned long long)m->id, reason);
    return;
  }
  ++stats_.dead_lettered;
  QueuedMessage nq;
  nq.msg = std::move(m);
  nq.deliveries = qm.deliveries;
  append(d, std::move(nq));
  if (!d.subs_.empty()) dispatch(d);
}

void QueueManager::tick() {
  for (auto& [name, q] : queues_) {
    settle(*q);
    dispatch(*q);
    evict(*q);
  }
}

std::uint64_t QueueManager::restore(const std::function<MessageRef(std::uint64_t)>& message) {
  store::Store& store = persistence_.store();
  std::uint64_t max_id = 0;
  std::size_t metas = 0;
  store.scan(store::Table::QueueMeta, [&](std::string_view key, std::string_view value) {
    store::StoredQueueMeta rec;
    if (!valid_name(key) || !store::decode(value, rec)) {
      log::warning("store: dropping unreadable counters of queue '%.*s'", int(key.size()), key.data());
      persistence_.erase(store::Table::QueueMeta, key);
      return;
    }
    Queue& q = get(key);
    q.held_ = q.disk_count_ = rec.count;
    q.bytes_ = rec.bytes;
    q.next_seq_ = std::max<std::uint64_t>(rec.next_seq, 1);
    q.disk_next_seq_ = 0;
    q.max_msg_id_ = rec.max_msg_id;
    max_id = std::max(max_id, rec.max_msg_id);
    ++metas;
  });
  if (metas == 0) {
    // No counters: a store written before they existed (or no queues at all).
    bool any = false;
    store.scan_from(store::Table::QueueEntries, {}, 1, [&](std::string_view, std::string_view) { any = true; });
    if (any) migrate(message);
    for (auto& [name, q] : queues_) max_id = std::max(max_id, q->max_msg_id_);
  }
  return max_id;
}

void QueueManager::migrate(const std::function<MessageRef(std::uint64_t)>& message) {
  // Once: every entry is read, version-1 ones are rewritten with their
  // message inline (the Messages record they named is then garbage, which
  // the retained loader removes), and counters are written for each queue.
  std::size_t n = 0;
  persistence_.store().scan(store::Table::QueueEntries, [&](std::string_view key, std::string_view value) {
    std::string_view name;
    std::uint64_t seq = 0;
    store::StoredQueueEntry rec;
    MessageRef m;
    if (store::split_queue_entry_key(key, name, seq) && valid_name(name) && store::decode(value, rec))
      m = rec.msg_id != 0 ? message(rec.msg_id) : from_record(rec.message);
    if (!m) {
      persistence_.erase(store::Table::QueueEntries, key);
      return;
    }
    Queue& q = get(name);
    QueuedMessage qm;
    qm.msg = m;
    qm.seq = seq;
    qm.deliveries = rec.deliveries;
    if (rec.msg_id != 0) write_entry(q, qm);
    if (seq >= q.next_seq_) q.next_seq_ = seq + 1;
    if (q.disk_count_ == 0) q.disk_next_seq_ = seq;
    ++q.disk_count_;
    ++q.held_;
    q.bytes_ += m->payload.size();
    q.max_msg_id_ = std::max(q.max_msg_id_, m->id);
    mark(q);
    ++n;
  });
  // Windows read these records back: they must be on disk in this format first.
  persistence_.flush();
  persistence_.store().flush();
  persistence_.on_completed();
  log::notice("store: %zu queue entries of %zu queues rewritten in this version's format", n, queues_.size());
}

}  // namespace junction::core
