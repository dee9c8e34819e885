// junction::core queues — point-to-point, durable, competing consumers.
//
// A Queue holds ready messages in arrival order and, per subscription, the
// messages delivered and not yet acknowledged (in delivery order). Each
// message goes to one consumer: round robin among subscriptions with room
// (unacked < prefetch, and the consumer's connection not backed up).
//
// Message groups (Artemis's JMSXGroupID meaning): a message carrying the
// user property / header `x-group-id` goes to the consumer that owns its
// group: the first to be offered one, kept while it is subscribed. Messages
// of a group whose owner is full wait (in order) while the rest of the queue
// flows past them to other consumers; a message of a group backing off
// holds the group's later messages until it is offered again. When the
// owner goes, its unacknowledged messages go back to the head and the next
// consumer offered the group's first message owns it.
//
// Acknowledgement modes: Auto (acked when sent), Cumulative (STOMP `client`:
// an ack covers every earlier delivery of that subscription) and Individual
// (STOMP `client-individual`, MQTT `$queue/` subscriptions).
// NACK or a consumer that goes away puts its unacked messages back at the
// head, in their original order, with the delivery count kept; past the
// policy's max_deliveries, or when expired, a message moves to the dead-letter
// queue ("DLQ.<name>" unless configured). Expiry, like RabbitMQ's, is checked
// at the head of the queue (on dispatch and once a second).
//
// Durability: every queued message is a QueueEntries record (name \0 seq ->
// deliveries and the message itself); an ack erases it. The delivery count
// is written when a message is requeued, so after a crash a message that was
// in flight may show one delivery less. Each queue's counters (QueueMeta) are
// written once per group commit, in the same transaction as its entries.
//
// Backlogs live on disk: memory holds a window per queue, not the queue. In
// key order a queue is
//   ready_ (in memory: the next to deliver; kWindow with consumers attached,
//           kIdleWindow without)
//   on disk (disk_count_ records from disk_next_seq_ on, read back in chunks
//           as the window drains)
//   spilled_ (the newest, past the window, held until their commit so that
//           reading them back never races the writer; then dropped)
// Messages delivered and not yet acknowledged stay in memory with their
// subscription (bounded by its prefetch). A restart reads only QueueMeta;
// windows fill when consumers come, so start-up time does not depend on the
// backlog (docs/PERFORMANCE.md, "Backlogs").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clock.h"
#include "message.h"
#include "persistence.h"
#include "ring.h"

namespace junction::store {
class Store;
}

namespace junction::core {

class Queue;
class QueueSubscription;

inline constexpr std::string_view kGroupProperty = "x-group-id";
// The message's group, or empty when it has none.
std::string_view group_of(const Message& m);

enum class AckMode : std::uint8_t { Auto, Cumulative, Individual };
enum class Overflow : std::uint8_t { RejectPublish, DropHead };

struct QueuePolicy {
  std::uint32_t max_length = 0;        // ready + unacked; 0 = unlimited (the backlog is on disk)
  std::uint64_t max_bytes = 0;         // payload bytes; 0 = unlimited
  Overflow overflow = Overflow::RejectPublish;
  std::uint32_t max_deliveries = 0;    // dead-letter after this many deliveries; 0 = never
  std::string dead_letter;             // empty: "DLQ.<name>"; "none": drop instead
  std::int64_t ttl_ms = 0;             // default time to live; 0 = none
  // RabbitMQ's single active consumer: the first consumer gets every
  // message; the others wait, and the next in line takes over (from what
  // the first left unacknowledged, in order) when it goes.
  bool single_active_consumer = false;
  // Redelivery back-off (Artemis's names): a NACKed or consumer-lost message
  // is offered again only after min(delay * multiplier^(n-1), max), n its
  // deliveries so far, without holding up the messages behind it. 0: off.
  std::int64_t redelivery_delay_ms = 0;
  double redelivery_multiplier = 1.0;
  std::int64_t max_redelivery_delay_ms = 0;  // 0: 10 x redelivery_delay_ms
};

using QueuePolicyResolver = std::function<QueuePolicy(std::string_view queue)>;

class QueueConsumer {
 public:
  virtual ~QueueConsumer() = default;
  // One message for this subscription; `tag` names it in ack()/nack();
  // `deliveries` counts this delivery (1 = first; > 1 = redelivered).
  // Called from inside QueueManager::subscribe() for a queue that already
  // holds messages, before subscribe() returns: name the delivery by `sub`,
  // not by the pointer subscribe() is about to return.
  virtual void queue_deliver(QueueSubscription& sub, const MessageRef& m, std::uint64_t tag,
                             std::uint32_t deliveries) = 0;
  // False while the consumer's connection is backed up.
  virtual bool queue_can_take() const { return true; }
};

struct QueuedMessage {
  MessageRef msg;
  std::uint64_t seq = 0;        // store key order
  std::int64_t expires_ms = 0;  // wall clock; 0 = never
  std::uint32_t deliveries = 0;
};

class QueueSubscription {
 public:
  struct Unacked {
    QueuedMessage qm;
    std::uint64_t tag = 0;
  };
  Queue& queue() const { return *queue_; }
  QueueConsumer* consumer() const { return consumer_; }
  AckMode mode() const { return mode_; }
  std::size_t unacked_count() const { return unacked_.size(); }
  // May take another delivery now: under its prefetch, and its connection not backed up.
  bool has_room() const { return (prefetch_ == 0 || unacked_.size() < prefetch_) && consumer_->queue_can_take(); }

 private:
  friend class QueueManager;
  friend class Queue;
  Queue* queue_ = nullptr;
  QueueConsumer* consumer_ = nullptr;
  AckMode mode_ = AckMode::Individual;
  std::uint32_t prefetch_ = 0;  // 0 = unlimited
  Ring<Unacked> unacked_;
};

class Queue {
 public:
  const std::string& name() const { return name_; }
  // Waiting to be delivered, in memory or on disk.
  std::size_t ready_count() const {
    return ready_.size() + std::size_t(disk_count_) + spilled_.size() + backoff_.size();
  }
  // Requeued messages waiting out their redelivery back-off.
  std::size_t backing_off() const { return backoff_.size(); }
  std::size_t unacked_count() const;
  std::size_t consumer_count() const { return subs_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  const QueuePolicy& policy() const { return policy_; }
  // Ready messages held in memory (the window and what awaits its commit).
  std::size_t in_memory() const { return ready_.size() + spilled_.size(); }
  std::uint64_t on_disk() const { return disk_count_; }
  // Message groups with an owner or a message backing off.
  std::size_t group_count() const { return groups_.size(); }

 private:
  friend class QueueManager;
  struct Group {
    QueueSubscription* owner = nullptr;
    std::uint32_t backing_off = 0;  // its messages in backoff_: the later ones wait for them
  };
  struct GroupHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Spilled {
    QueuedMessage qm;
    std::uint64_t ticket = 0;  // the commit that makes its record readable
  };
  std::string name_;
  QueuePolicy policy_;
  Ring<QueuedMessage> ready_;
  Ring<Spilled> spilled_;
  std::multimap<std::int64_t, QueuedMessage> backoff_;  // by the time each may be offered again
  std::vector<std::unique_ptr<QueueSubscription>> subs_;
  std::unordered_map<std::string, Group, GroupHash, std::equal_to<>> groups_;
  std::size_t cursor_ = 0;       // round robin
  std::uint64_t next_seq_ = 1;
  std::uint64_t disk_count_ = 0;     // ready messages only on disk
  std::uint64_t disk_next_seq_ = 0;  // the first of them is at or after this key
  std::uint64_t bytes_ = 0;      // payload bytes held (ready + on disk + unacked)
  std::uint64_t held_ = 0;       // messages held (ready + on disk + unacked)
  std::uint64_t max_msg_id_ = 0;
  bool dispatching_ = false;
  bool meta_dirty_ = false;
};

struct QueueStats {
  std::uint64_t enqueued = 0;
  std::uint64_t delivered = 0;
  std::uint64_t acked = 0;
  std::uint64_t redelivered = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t expired = 0;
  std::uint64_t rejected = 0;  // overflow: reject-publish
  std::uint64_t dropped = 0;   // overflow: drop-head, or no dead-letter queue
  std::uint64_t read_back = 0; // messages read back from disk into a window
};

enum class QueueResult : std::uint8_t { Ok, Rejected, InvalidName };

class QueueManager final : public BatchContributor {
 public:
  // Ready messages kept in memory per queue: with consumers attached (enough
  // for several consumers' prefetch between refills), and without.
  static constexpr std::size_t kWindow = 1024;
  static constexpr std::size_t kIdleWindow = 32;
  // Messages of groups whose consumers are full may hold up to this many
  // windows in memory while the rest of the queue flows past them.
  static constexpr std::size_t kGroupReadAhead = 4;

  QueueManager(Persistence& persistence, const Clock& clock, QueuePolicyResolver policies = {});
  ~QueueManager() override;

  static bool valid_name(std::string_view name);

  QueueResult publish(std::string_view name, const MessageRef& m);
  // Registers a consumer (the queue is created if needed) and dispatches.
  QueueSubscription* subscribe(std::string_view name, QueueConsumer* c, AckMode mode, std::uint32_t prefetch);
  // Removes a consumer; its unacknowledged messages go back to the head.
  void unsubscribe(QueueSubscription* sub);
  // False if `tag` is not an unacknowledged delivery of `sub`.
  bool ack(QueueSubscription* sub, std::uint64_t tag);
  // requeue=false dead-letters (or drops) the message.
  bool nack(QueueSubscription* sub, std::uint64_t tag, bool requeue);
  // The consumer has room again.
  void resume(QueueSubscription* sub);
  void tick();
  // Redelivery back-off: offers again what is due (the broker's timer), and
  // the next time something is (kNever: nothing backing off).
  void run_backoff(std::int64_t now_ms);
  std::int64_t next_backoff_ms() const;
  // Told when next_backoff_ms() may have moved earlier.
  void set_wakeup(std::function<void(std::int64_t due_ms)> w) { wakeup_ = std::move(w); }

  // Start-up: rebuilds queues from QueueMeta (their entries stay on disk
  // until consumers want them). A store from before QueueMeta has its
  // entries read once and rewritten with the message inline; `message`
  // finds a version-1 entry's body by id. Returns the highest message id
  // the queues hold.
  std::uint64_t restore(const std::function<MessageRef(std::uint64_t)>& message);

  // BatchContributor: writes the counters of queues changed since the last batch.
  void before_flush() override;

  Queue* find(std::string_view name) const;
  std::size_t queue_count() const { return queues_.size(); }

  // ---- the operator's side (queue_admin.cpp; the admin API): off hot paths ----
  // Every queue, by name.
  std::vector<Queue*> list() const;
  // Wall-clock creation time of the oldest ready message; 0 when none.
  std::int64_t oldest_created_ms(Queue& q);
  // Up to `limit` ready messages in delivery order, without consuming them
  // (the window, then the disk range, then what waits for its commit; then
  // those backing off).
  std::vector<QueuedMessage> peek(Queue& q, std::size_t limit);
  // Removes every ready message (unacknowledged ones stay with their
  // consumers, as RabbitMQ's purge); returns how many. Durable with the
  // current batch.
  std::size_t purge(Queue& q);
  // Moves up to `limit` (0: all) ready messages, oldest first, to queue
  // `to` (a DLQ replayed); their delivery counts restart. Stops early when
  // `to` refuses one (its limits). Returns how many moved.
  std::size_t move(Queue& from, std::string_view to, std::size_t limit);
  enum class RemoveResult : std::uint8_t { Removed, NotFound, HasConsumers, NotEmpty };
  // Deletes the queue; a non-empty one only with `force` (purged first), one
  // with consumers never (they would hold pointers into it).
  RemoveResult remove(std::string_view name, bool force);
  // The queue that receives `q`'s dead letters ("" for none).
  static std::string dead_letter_name(const Queue& q);
  const QueueStats& stats() const { return stats_; }

 private:
  Queue& get(std::string_view name);
  void dispatch(Queue& q);
  QueueSubscription* next_consumer(Queue& q);
  // The subscription that takes ready_[i] now (owning its group if it has
  // one), or nullptr; `stop` is set when nothing behind it can go either.
  QueueSubscription* consumer_for(Queue& q, const QueuedMessage& qm, bool& stop);
  void put_aside(Queue& q, std::int64_t due, QueuedMessage qm);
  Queue::Group& group_entry(Queue& q, std::string_view group);
  void release_groups(Queue& q, QueueSubscription* owner);
  void append(Queue& q, QueuedMessage qm);
  void write_entry(Queue& q, const QueuedMessage& qm);
  void remove_record(Queue& q, const QueuedMessage& qm);
  void mark(Queue& q);
  std::size_t window(const Queue& q) const;
  // Moves committed spilled messages to the disk range.
  void settle(Queue& q);
  // Brings the window up to `target` from disk or spilled_; false if nothing came.
  bool refill(Queue& q, std::size_t target);
  std::size_t read_disk(Queue& q, std::size_t n);
  // Without consumers, the window goes back to disk (everything committed).
  void evict(Queue& q);
  void migrate(const std::function<MessageRef(std::uint64_t)>& message);
  void requeue(Queue& q, std::vector<QueuedMessage>& back);
  std::int64_t backoff_ms(const Queue& q, std::uint32_t deliveries) const;
  void release_backoff(Queue& q, std::int64_t now_ms);
  void dead_letter(Queue& q, QueuedMessage qm, const char* reason);
  std::int64_t deadline(const Queue& q, const Message& m) const;

  Persistence& persistence_;
  const Clock& clock_;
  QueuePolicyResolver policies_;
  std::unordered_map<std::string, std::unique_ptr<Queue>> queues_;
  std::vector<Queue*> dirty_;  // counters to write with the next batch
  std::uint64_t next_tag_ = 1;
  QueueStats stats_;
  std::multimap<std::int64_t, Queue*> backoff_due_;  // queues with back-offs, by due time (stale ones skipped)
  std::function<void(std::int64_t)> wakeup_;
};

}  // namespace junction::core
