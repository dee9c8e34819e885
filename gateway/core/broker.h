// junction::core::Broker — owns the core state (no globals, STYLE 15):
// the session registry, SubscriptionTree, RetainedStore, the Persistence
// pipeline to the store, wills and expiry. Protocol front-ends drive it; it
// calls them back only through SessionSink and CommitWaiter.
//
// Publish path (router.cpp): publish() -> retained update -> tree match ->
// per-session enqueue (deliver now if online with window room, else pending)
// -> store ops for persistent sessions appended to the current batch.
// End of loop iteration: flush() submits the batch (group commit).
// When the commit is done, on_store_completed() advances committed_seq()
// and wakes CommitWaiters, which then send PUBACK/PUBREC/SUBACK.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access_control.h"
#include "broker_hooks.h"
#include "clock.h"
#include "dedup.h"
#include "delayed.h"
#include "message.h"
#include "persistence.h"
#include "queue.h"
#include "retained_store.h"
#include "session.h"
#include "session_table.h"
#include "subscription_tree.h"

namespace junction::store {
class Store;
}

namespace junction::core {

// How a $share group picks the member for a message (EMQX's names).
// round_robin: in turn; random; sticky: one member until it goes; hash_topic /
// hash_client: by the topic / the publisher's client id, so that one topic's
// (one device's) messages go to one member and keep their order.
enum class SharedStrategy : std::uint8_t { RoundRobin, Random, Sticky, HashTopic, HashClient };

struct BrokerConfig {
  std::uint32_t max_queued_messages = 100000;  // per session (pending + in flight)
  std::uint64_t max_queued_bytes = 0;          // payload bytes per session (pending + in flight); 0: no limit
  std::uint16_t max_inflight = 1000;           // outgoing QoS>0 window per session (capped by the client's receive maximum)
  std::uint32_t max_session_expiry_s = 0xFFFFFFFF;
  // A connection over its outbound buffer without progress for this long is
  // a slow consumer: QoS 0 copies for it are dropped (outbound_watch.h). 0: never.
  std::uint32_t slow_consumer_ms = 5000;
  bool retain_available = true;
  // Admission limits of the store (RabbitMQ's disk alarm): while the records
  // reach max_disk_bytes, or the filesystem's free space plus the store's
  // reusable pages falls below min_free_disk_bytes, publishes that would
  // write (QoS >= 1, retained, to a queue) are refused; acknowledgements
  // and consumers go on, and free the space. 0: no limit.
  std::uint64_t max_disk_bytes = 0;
  std::uint64_t min_free_disk_bytes = 50'000'000;
  // Delayed delivery ($delayed/<seconds>/<topic>, x-delay): refused when off
  // or above the maximum delay.
  bool delays_enabled = true;
  std::uint32_t max_delay_s = 30u * 24 * 3600;
  // Duplicate detection (x-dedup-id): ids remembered per destination for
  // dedup_window_s, at most dedup_max_ids (oldest forgotten first).
  SharedStrategy shared_strategy = SharedStrategy::RoundRobin;
  // No black holes (RabbitMQ's alternate exchange): where a message that
  // matched nothing goes instead ("$queue/<name>" or a topic; empty: nowhere,
  // counted), by topic. Null: nowhere.
  std::function<std::string(std::string_view topic)> unroutable_to;
  // Drops (expired, a slow consumer's or a full session's QoS 0 copy, a
  // drop-oldest outbox) are published to $SYS/broker/dropped/<reason>, the
  // original topic in the x-original-topic property.
  bool trace_drops = false;
  bool dedup_enabled = true;
  std::uint32_t dedup_window_s = 600;
  std::uint32_t dedup_max_ids = 1'000'000;
  QueuePolicyResolver queue_policies;          // per-queue limits; default QueuePolicy{} when empty
};

// Topics under this prefix address queues from topic-based protocols (MQTT).
inline constexpr std::string_view kQueueTopicPrefix = "$queue/";

struct BrokerStats {
  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t dropped_qos0 = 0;      // session queue full or slow consumer
  std::uint64_t dropped_slow_consumer = 0;  // ... of which: the subscriber's connection stalled
  std::uint64_t slow_consumers = 0;         // episodes: a connection became a slow consumer
  std::uint64_t refused_quota = 0;     // QoS>=1 refused because a session queue was full
  std::uint64_t dropped_oldest = 0;    // oldest entry dropped from a full drop-oldest session
  std::uint64_t queue_full_messages = 0;  // deliveries dropped or refused at a session's message cap
  std::uint64_t queue_full_bytes = 0;     // ... at max_queued_bytes
  std::uint64_t expired = 0;
  std::uint64_t wills_published = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t sys_publish_refused = 0;  // publishes to $SYS/... from clients, wills or bridges
  std::uint64_t refused_disk = 0;         // publishes refused while a store limit was reached
  std::uint64_t delayed_scheduled = 0;    // delayed messages accepted
  std::uint64_t delayed_delivered = 0;    // ... routed when due
  std::uint64_t delayed_refused = 0;      // malformed delay, above max_delay_s, or delays off
  std::uint64_t delayed_dropped = 0;      // due, but the target refused it (a full queue)
  std::uint64_t unroutable = 0;           // matched nothing (after unroutable_to: went nowhere)
  std::uint64_t unroutable_diverted = 0;  // ... of which were sent to unroutable_to's destination
  std::uint64_t dedup_dropped = 0;        // publishes whose x-dedup-id was taken within the window
  std::uint64_t dedup_refused = 0;        // an empty x-dedup-id
  // messages_in by the publisher's protocol, messages_out by the receiver's
  // (ProtocolId values; kInternalProtocol: the broker's own, bridges'). One
  // more increment where messages_in/out are counted anyway.
  std::array<std::uint64_t, kMaxProtocols> received_by_protocol{};
  std::array<std::uint64_t, kMaxProtocols> delivered_by_protocol{};
};

struct ConnectRequest {
  std::string_view client_id;
  bool clean_start = true;
  std::uint32_t session_expiry_s = 0;
  std::uint8_t protocol_version = 0;
  ProtocolId protocol = kInternalProtocol;
  std::uint16_t receive_maximum = 65535;
  std::optional<WillMessage> will;
  SessionSink* sink = nullptr;
  ClientIdentity identity;  // what the front-end authenticated
};

struct ConnectResult {
  Session* session = nullptr;
  bool session_present = false;
};

enum class DetachKind : std::uint8_t {
  Normal,        // clean DISCONNECT: will discarded
  WithWill,      // DISCONNECT 0x04 / network loss / protocol error: will published (after its delay)
};

struct PublishResult {
  std::uint32_t matched = 0;   // sessions that got the message
  bool quota_exceeded = false; // some session or queue could not take a QoS>=1 copy
  bool refused = false;        // a $SYS/... topic: only the broker publishes there (nothing was done)
  bool invalid = false;        // refused as malformed or not allowed (a delay): `why` says what
  bool duplicate = false;      // its x-dedup-id was taken within the window: acknowledged, dropped
  // With invalid: a plugin dropped it (BrokerHooks::on_message_in) with this
  // MQTT 5 reason code (0: the front-end's default).
  std::uint8_t reason_code = 0;
  // With quota_exceeded: why, for the publisher's error (STOMP ERROR, logs).
  const char* why = nullptr;
};

enum class SubscribeStatus : std::uint8_t { Granted, FilterInvalid, SharedNotSupported, StoreFailed };

class RetainedLoader;  // restore.cpp
struct RetainedLoaderDeleter {
  void operator()(RetainedLoader* l) const;
};

class Broker {
 public:
  Broker(const BrokerConfig& config, store::Store& store, const Clock& clock);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Start-up: loads sessions, their entries and incoming QoS 2 state, and
  // queues from the store. Retained messages follow: before this returns,
  // or with `retained_in_background` in restore_step() calls while clients
  // are already served (subscriptions made meanwhile get their retained
  // messages when the load completes). Throws on a corrupt store.
  void restore(bool retained_in_background = false);
  // Loads about `budget` more retained messages; false once all are in.
  bool restore_step(std::size_t budget = 16384);
  bool restoring() const { return loader_ != nullptr; }

  // ---- sessions ----
  // Binds a connection to the session of `client_id` (created if needed).
  // An online owner is told session_taken_over() and detached first.
  ConnectResult attach(const ConnectRequest& req);
  // The connection of `s` ends. `expiry_s` is the expiry in force at
  // disconnect (v5 may change it in DISCONNECT). May delete `s`.
  void detach(Session* s, DetachKind kind, std::uint32_t expiry_s);
  // After the front-end has answered the connect (CONNACK): re-sends what was
  // in flight (DUP, PUBREL) and starts delivering what is pending.
  void start_delivery(Session* s);
  // Called when a sink can take deliveries again (back-pressure relieved).
  void resume(Session* s) { pump(s); }

  // ---- publish ----
  // A new message with a fresh id and creation time; fill it, then publish().
  MessageRef make_message();
  // Refuses $SYS/... topics (PublishResult::refused, counted): those are
  // the broker's own (SysTopics).
  PublishResult publish(const MessageRef& msg, Session* publisher);
  // The broker's own messages ($SYS/...): routed like any publish, but a
  // retained one is kept in memory only (never written to the store: it is
  // regenerated after a restart) and nothing counts as received.
  PublishResult publish_volatile(const MessageRef& msg);

  // ---- delayed delivery (delayed.h) ----
  DelayedMessages& delayed() { return delayed_; }
  DedupIndex& dedup() { return dedup_; }
  // Routes what is due now: delayed messages and queue redelivery back-offs
  // (the app's timer, armed through set_timer_wakeup for the earliest due
  // time; also the tick, in case a wake-up was missed).
  void run_delayed();
  void set_timer_wakeup(const std::function<void(std::int64_t due_ms)>& wakeup) {
    delayed_.set_wakeup(wakeup);
    queues_.set_wakeup(wakeup);
  }
  std::int64_t next_timer_ms() const { return std::min(delayed_.next_due_ms(), queues_.next_backoff_ms()); }

  // ---- subscribe ----
  SubscribeStatus subscribe(Session* s, std::string_view full_filter, const SubscriptionOptions& o);
  bool unsubscribe(Session* s, std::string_view full_filter);

  // ---- acknowledgements of outgoing deliveries (see DeliveryStage) ----
  // Done: an at-least-once delivery is acknowledged. Received / Completed:
  // the two steps of an exactly-once delivery. Refused: the client turned an
  // exactly-once delivery down before receiving it (it is over).
  enum class AckStep : std::uint8_t { Done, Received, Completed, Refused };
  // WrongType: the id names a delivery this step does not belong to (Done
  // for an exactly-once one, Completed before Received...). Nothing changes:
  // the front-end treats it as a protocol error and the delivery is resent
  // to the returning session.
  enum class AckResult : std::uint8_t { Done, Unknown, WrongType };
  AckResult acknowledge(Session* s, std::uint16_t delivery_id, AckStep step);
  // The delivery is over whatever its kind (a bridge's upstream confirm).
  bool complete_delivery(Session* s, std::uint16_t delivery_id);

  // ---- incoming exactly-once publishes ----
  // An exactly-once publish is taken once: its id is held (durably, for a
  // stored session) from the first copy until the client releases it, and a
  // resent copy with a held id is not published again.
  bool inbound_held(Session* s, std::uint16_t id) const;
  void hold_inbound(Session* s, std::uint16_t id);
  bool release_inbound(Session* s, std::uint16_t id);  // false: unknown id

  // A front-end's connection became a slow consumer (OutboundWatch::tick
  // said so): counted, logged (the first and then every hundredth episode).
  void note_slow_consumer(const Session* s, std::size_t queued, std::int64_t stalled_ms);

  // ---- queues ----
  QueueManager& queues() { return queues_; }
  // A queue delivery for a session's `$queue/` subscription `sub`, at `qos`
  // (SessionQueueConsumer).
  void deliver_from_queue(Session* s, QueueSubscription& sub, std::uint8_t qos, const MessageRef& m,
                          std::uint64_t tag, std::uint32_t deliveries);

  // ---- access control ----
  // Null (the default): no authentication beyond the front-ends' anonymous
  // rule, and no ACL. Not owned; must outlive the broker's use of it.
  void set_access_control(AccessControl* ac) {
    access_ = ac;
    acl_ = ac && ac->has_acl() ? ac : nullptr;
  }
  AccessControl* access() const { return access_; }
  // Non-null only when an ACL is in force: the one test on hot paths.
  const AccessControl* acl() const { return acl_; }
  // May `s` receive a message on `topic`? (Uses the session's cache.)
  bool may_deliver(Session* s, std::string_view topic) {
    return acl_ == nullptr || may_deliver_slow(s, topic);
  }
  // After a reload: refresh caches, stop queue consumers that lost read
  // access, and let every connection re-check itself (SessionSink::access_changed).
  void access_changed();

  // ---- hooks (plugins) ----
  // Null, or the observer; each kind is called only when `kinds` says so
  // (a broker without plugins pays one pointer test per publish/delivery).
  void set_hooks(BrokerHooks* hooks, HookKinds kinds) {
    hook_in_ = kinds.message_in ? hooks : nullptr;
    hook_out_ = kinds.message_out ? hooks : nullptr;
    hook_events_ = kinds.events ? hooks : nullptr;
  }
  // A message the hooks' owner publishes itself: routed as publish(), but
  // on_message_in is not asked (a plugin would see its own messages).
  PublishResult publish_unhooked(const MessageRef& msg, Session* publisher = nullptr);

  // ---- durability ----
  Persistence& persistence() { return persistence_; }
  // The store admission limit reached now (BrokerConfig::max_disk_bytes,
  // min_free_disk_bytes), checked once a second and after every few MiB
  // written; and the figures of the last check.
  enum class StoreLimit : std::uint8_t { None, MaxDiskBytes, MinFreeDisk };
  StoreLimit store_limit() const { return store_limit_; }
  static const char* store_limit_name(StoreLimit l);
  const store::StoreSpace& store_space() const { return store_space_; }
  void check_store_space();

  // ---- loop hooks ----
  void flush();               // end of loop iteration
  void on_store_completed();  // the store's notifier fired (loop thread)
  void tick();                // about once a second: expiry, delayed wills
  // Shutdown: publish nothing further, write sessions' state, flush the store.
  void shutdown();

  const BrokerConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  const BrokerStats& stats() const { return stats_; }
  RetainedStore& retained() { return retained_; }
  std::size_t session_count() const { return sessions_.size(); }
  // Sessions with a live connection (all protocols, bridges included), now
  // and at most so far; and those of one protocol.
  std::size_t connected_count() const { return connected_; }
  std::size_t connected_peak() const { return connected_peak_; }
  std::size_t connected_count(ProtocolId p) const { return connected_by_protocol_[p.value % kMaxProtocols]; }

  // ---- what front-ends register when they are built ----
  // A protocol's id and name ($SYS connections/<name>); the same pair again
  // is fine, another name for a taken id (or an id >= kMaxProtocols) throws
  // std::logic_error: a programming error found at start-up.
  void register_protocol(ProtocolId id, std::string_view name);
  // Registered protocols, by id; an empty name is a free id.
  const std::array<std::string, kMaxProtocols>& protocol_names() const { return protocol_names_; }
  // The encode-cache slot for a wire format, by name: the same name gets the
  // same slot (two MQTT listeners share their encodings). Throws
  // std::logic_error past kMaxEncodeSlots formats.
  EncodeSlot encode_slot(std::string_view format);
  Session* find_session(std::string_view client_id) const;
  // Sessions whose client id starts with `prefix`: a bridge finds the
  // sessions it owns after a restart.
  std::vector<Session*> sessions_with_prefix(std::string_view prefix) const;
  std::size_t subscription_count() const { return tree_.subscription_count(); }

  // ---- the operator's side (broker_admin.cpp; the admin API): off hot paths ----
  struct KickOutcome {
    bool found = false;            // a session of that client id exists
    bool disconnected = false;     // it had a connection, now closed (MQTT 5 DISCONNECT 0x98)
    bool session_removed = false;  // the session and its stored state are gone
  };
  // Disconnects the client (no will: an operator's action, not a failure);
  // `remove_session` also ends its session (subscriptions, queued messages).
  KickOutcome kick(std::string_view client_id, bool remove_session);
  // Removes the retained message of `topic` (stored ones durably: commits
  // with the current batch) without publishing anything. False: none.
  bool clear_retained(std::string_view topic);

 private:
  friend class Restorer;
  friend class MessageCache;
  friend class RetainedLoader;
  PublishResult route(const MessageRef& msg, Session* publisher, bool durable);
  // A publish that would write, while the store is at a limit (counted).
  PublishResult refused_for_store_limit();
  // A publish with a delay (topic prefix or x-delay property) or a dedup id:
  // checked, then kept by delayed_ until due (or routed now), its id remembered.
  PublishResult publish_special(const MessageRef& msg, Session* publisher);
  void deliver_delayed(const MessageRef& msg);
  // A message that matched nothing: to the unroutable destination, if any.
  void divert_unroutable(const MessageRef& msg, PublishResult& result);
  // With trace_drops: the dropped message to $SYS/broker/dropped/<reason>.
  void trace_drop(const Message& msg, const char* reason);
  void count_connected(const Session* s, bool up);
  void retained_touched(std::string_view topic);
  void defer_retained(Session* s, std::string_view full_filter, std::string_view filter, const SubscriptionOptions& o);
  // `sole`: nothing else holds the message durably, nor will (one matching
  // session, not retained): a stored entry then carries it inline.
  void enqueue(Session* s, const MessageRef& msg, std::uint8_t qos, bool retain,
               std::span<const std::uint32_t> sub_ids, PublishResult* result, bool sole = false);
  // A stored entry's claim on its message's body: inline, or a reference on the shared record.
  void hold_body(OutEntry& e, bool sole);
  void pump(Session* s);
  std::uint32_t queue_limit(const Session* s) const {
    return s->max_queued() ? s->max_queued() : config_.max_queued_messages;
  }
  enum class QueueFull : std::uint8_t { No, Messages, Bytes };
  // Can `s` queue `m` (max_queued_messages / Session::max_queued, max_queued_bytes)?
  QueueFull queue_full(const Session* s, const Message& m) const;
  // Counter and rate-limited log; `refused`: a QoS >= 1 publish was turned
  // down (else a QoS 0 copy was dropped).
  void note_queue_full(const Session* s, QueueFull full, bool refused);
  bool send_entry(Session* s, OutEntry& e);
  // The delivery is over. `acked`: the client acknowledged it (a queue
  // message is then acknowledged to its queue); otherwise it was discarded.
  void finish_entry(Session* s, OutEntry& e, bool acked = false);
  void start_queue_consumers(Session* s);
  void stop_queue_consumers(Session* s);
  void purge_queue_entries(Session* s, QueueSubscription* only);
  void deliver_retained(Session* s, std::string_view filter, const SubscriptionOptions& o);
  void pump_retained(Session* s);
  void publish_will(Session* s);
  void cancel_will(Session* s);  // drops the will and its delayed_wills_ entry
  void end_session(Session* s);
  void persist_session(Session* s);
  void persist_entry(Session* s, const OutEntry& e);
  // A stored session's backlog past its window (session_backlog.cpp).
  static std::size_t session_window(const Session* s);
  bool past_window(const Session* s) const;
  void spill(Session* s, OutEntry e);
  void settle(Session* s);                       // committed spilled entries count as on disk
  void settle_all();                             // the tick: every session in unsettled_
  bool refill(Session* s, std::size_t target);   // disk / spilled -> pending; false if nothing came
  void erase_backlog(Session* s);                // the session ends: its backlog records go
  void erase_session_records(Session* s);
  Session* pick_shared_member(SharedGroup& g, const Message& msg);
  bool may_deliver_slow(Session* s, std::string_view topic);

  // A persistent session's record (its subscriptions, its expiry) is
  // written once per group commit, just before the batch goes, however many
  // SUBSCRIBEs changed it: once per subscribe made N filters cost N^2 bytes.
  // Client ids, not pointers: a session may end before the flush.
  class SessionRecords final : public BatchContributor {
   public:
    explicit SessionRecords(Broker& b) : b_(b) {}
    void mark(Session* s);
    void before_flush() override;

   private:
    Broker& b_;
    std::vector<std::string> dirty_;
  };
  void write_session_record(Session* s);

  // Retained bodies at rest (retained_cold.cpp): a retained message whose
  // record is committed and that nothing else holds leaves its body in the
  // store (RetainedStore::make_cold); reading one brings it back.
  class RetainedBodies final : public RetainedStore::BodyReader {
   public:
    explicit RetainedBodies(Broker& b) : b_(b) {}
    MessageRef read_retained(std::uint64_t id) override;
    MessageRef read_copy(std::uint64_t id) override;

   private:
    Broker& b_;
  };
  // A reference, not a copy of the topic: no allocation per retained
  // publish. make_cold allows for this extra holder.
  struct ColdCandidate {
    MessageRef msg;
    std::uint64_t ticket;  // the batch that wrote its record
  };
  void note_retained(const MessageRef& m);  // a durable retained message is resident: may go cold later
  void make_retained_cold();             // the tick
  void drop_replaced_retained(const RetainedStore::Replaced& old);

  BrokerConfig config_;
  store::Store& store_;
  const Clock& clock_;
  Persistence persistence_;
  SessionRecords session_records_{*this};
  QueueManager queues_;
  DelayedMessages delayed_;
  DedupIndex dedup_;
  SubscriptionTree tree_;
  RetainedStore retained_;
  RetainedBodies retained_bodies_{*this};
  std::vector<ColdCandidate> cold_candidates_;
  MatchResult match_scratch_;
  // Keyed by the session's own client_id: a set node is three words, where
  // a map would hold a second copy of every client id (docs/PERFORMANCE.md: 10,000
  // idle clients).
  SessionTable sessions_;
  std::set<std::pair<std::int64_t, Session*>> expiries_;  // offline sessions by deadline
  std::set<std::pair<std::int64_t, Session*>> delayed_wills_;
  std::uint64_t next_message_id_ = 1;
  // Store key order of session entries (Table::SessionEntries), one counter
  // for all sessions so a Session need not carry its own.
  std::uint64_t next_entry_seq_ = 1;
  BrokerStats stats_;
  std::size_t connected_ = 0;
  std::size_t connected_peak_ = 0;
  std::array<std::size_t, kMaxProtocols> connected_by_protocol_{};  // by ProtocolId::value
  std::array<std::string, kMaxProtocols> protocol_names_{};
  std::vector<std::string> encode_formats_;  // index: EncodeSlot
  // A stored session keeps this many pending entries in memory (online /
  // offline); the rest of its backlog is on disk (session_backlog.cpp).
  static constexpr std::size_t kSessionWindow = 1024;
  static constexpr std::size_t kOfflineSessionWindow = 16;
  // Sessions with spilled entries waiting for their commit (an idle one
  // would otherwise hold them in memory until its next message).
  std::vector<Session*> unsettled_;
  bool shutting_down_ = false;
  StoreLimit store_limit_ = StoreLimit::None;
  store::StoreSpace store_space_;
  std::uint64_t written_since_check_ = 0;  // batch bytes since the last check_store_space()
  int publish_depth_ = 0;
  bool diverting_ = false;  // routing an unroutable message's copy: not diverted again
  std::uint64_t shared_rng_ = 0x9e3779b97f4a7c15ull;  // xorshift state of the random and sticky strategies
  std::unique_ptr<RetainedLoader, RetainedLoaderDeleter> loader_;  // while retained messages load
  AccessControl* access_ = nullptr;
  const AccessControl* acl_ = nullptr;
  BrokerHooks* hook_in_ = nullptr;
  BrokerHooks* hook_out_ = nullptr;
  BrokerHooks* hook_events_ = nullptr;
  std::string hook_drop_reason_;  // PublishResult::why of the last publish a hook dropped
  // Why the next detach() happens, when its caller knows better than its
  // DetachKind (a takeover, an operator); reset by detach().
  std::optional<DisconnectReason> detach_reason_;
};

}  // namespace junction::core
