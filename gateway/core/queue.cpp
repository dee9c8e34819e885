#include "queue.h"

#include <algorithm>

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

std::size_t Queue::unacked_count() const {
  std::size_t n = 0;
  for (const auto& s : subs_) n += s->unacked_.size();
  return n;
}

QueueManager::QueueManager(Persistence& persistence, const Clock& clock, QueuePolicyResolver policies)
    : persistence_(persistence), clock_(clock), policies_(std::move(policies)) {}

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

void QueueManager::append(Queue& q, QueuedMessage qm, bool persist) {
  if (persist) {
    qm.seq = q.next_seq_++;
    persistence_.persist_ref(*qm.msg);
    persistence_.put(store::Table::QueueEntries, store::queue_entry_key(q.name_, qm.seq),
                     store::encode(store::StoredQueueEntry{qm.msg->id, qm.deliveries}));
  }
  ++q.held_;
  q.bytes_ += qm.msg->payload.size();
  q.ready_.push_back(std::move(qm));
}

void QueueManager::remove_record(Queue& q, const QueuedMessage& qm) {
  persistence_.erase(store::Table::QueueEntries, store::queue_entry_key(q.name_, qm.seq));
  persistence_.persist_unref(*qm.msg);
  --q.held_;
  q.bytes_ -= qm.msg->payload.size();
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
    while (over() && !q.ready_.empty()) {
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
  append(q, std::move(qm), true);
  ++stats_.enqueued;
  dispatch(q);
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
  // Back to the head, in their original order.
  for (auto it = back.rbegin(); it != back.rend(); ++it) {
    QueuedMessage& qm = *it;
    if (q.policy_.max_deliveries && qm.deliveries >= q.policy_.max_deliveries) {
      dead_letter(q, std::move(qm), "delivery-limit");
      continue;
    }
    persistence_.put(store::Table::QueueEntries, store::queue_entry_key(q.name_, qm.seq),
                     store::encode(store::StoredQueueEntry{qm.msg->id, qm.deliveries}));
    q.ready_.push_front(std::move(qm));
  }
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
  const std::size_t n = q.subs_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (q.cursor_ + k) % n;
    QueueSubscription* s = q.subs_[i].get();
    if ((s->prefetch_ == 0 || s->unacked_.size() < s->prefetch_) && s->consumer_->queue_can_take()) {
      q.cursor_ = (i + 1) % n;
      return s;
    }
  }
  return nullptr;
}

void QueueManager::dispatch(Queue& q) {
  if (q.dispatching_) return;  // a consumer callback re-entered; the outer loop goes on
  q.dispatching_ = true;
  const std::int64_t now = clock_.wall_ms();
  while (!q.ready_.empty()) {
    QueuedMessage& head = q.ready_.front();
    if (head.expires_ms && now >= head.expires_ms) {
      QueuedMessage qm = std::move(head);
      q.ready_.pop_front();
      ++stats_.expired;
      dead_letter(q, std::move(qm), "expired");
      continue;
    }
    QueueSubscription* sub = next_consumer(q);
    if (!sub) break;
    QueuedMessage qm = std::move(head);
    q.ready_.pop_front();
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
  append(d, std::move(nq), true);
  dispatch(d);
}

void QueueManager::tick() {
  for (auto& [name, q] : queues_) dispatch(*q);
}

void QueueManager::restore(store::Store& store, const std::function<MessageRef(std::uint64_t)>& message) {
  store.scan(store::Table::QueueEntries, [&](std::string_view key, std::string_view value) {
    std::string_view name;
    std::uint64_t seq = 0;
    store::StoredQueueEntry rec;
    MessageRef m;
    if (store::split_queue_entry_key(key, name, seq) && store::decode(value, rec)) m = message(rec.msg_id);
    if (!m || !valid_name(name)) {
      persistence_.erase(store::Table::QueueEntries, key);
      return;
    }
    Queue& q = get(name);
    QueuedMessage qm;
    qm.msg = m;
    qm.seq = seq;
    qm.deliveries = rec.deliveries;
    qm.expires_ms = deadline(q, *m);
    ++m->persist_refs;
    if (seq >= q.next_seq_) q.next_seq_ = seq + 1;
    append(q, std::move(qm), false);
  });
}

}  // namespace junction::core
