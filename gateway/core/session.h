// junction::core::Session — protocol-neutral client state that outlives its
// connection (FlashMQ's Client/Session split): subscriptions, outgoing
// deliveries (pending and in flight), incoming QoS 2 packet ids, will, expiry.
//
// Invariants:
//  * One Session per client id (Broker::sessions_); at most one live sink.
//  * `inflight` holds deliveries sent and not yet completed, in send order;
//    its size never exceeds send_window(). `pending` holds what waits.
//  * queued_bytes is the payload bytes of every entry in `pending`,
//    `inflight` and the backlog past the window (limits.max_queued_bytes).
//    Entries enter and leave both rings only through the helpers below,
//    which keep it exact; queued_bytes_consistent() recomputes it for the
//    tests.
//  * A persistent session (expiry > 0) mirrors subscriptions and QoS >= 1
//    entries into the store (Table::Sessions / SessionEntries); entries hold
//    a persist ref on their Message so its body is stored once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flat_map.h"
#include "access_control.h"
#include "message.h"
#include "ring.h"
#include "session_queue.h"
#include "subscription_tree.h"

namespace junction::core {

struct Delivery {
  const Message& msg;
  std::uint8_t qos;
  bool retain;
  bool dup;
  std::uint16_t packet_id;  // 0 for QoS 0
  std::span<const std::uint32_t> subscription_ids;
};

enum class DeliverResult : std::uint8_t {
  Sent,       // written to the connection
  Discarded,  // cannot ever be sent to this client (e.g. above its maximum packet size): treat as done
};

// The live connection bound to a session, implemented by a protocol front-end.
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual DeliverResult deliver(const Delivery& d) = 0;
  // After a reconnect: a two-step (exactly-once) delivery the client had
  // already acknowledged as received continues at its second step (MQTT
  // sends PUBREL again). Protocols without two-step deliveries ignore it.
  virtual void resume_received(std::uint16_t /*delivery_id*/) {}
  // False while the connection's outbound buffer is over its limit:
  // deliveries wait in the session.
  virtual bool can_deliver() const = 0;
  // The connection stalled over its outbound buffer (OutboundWatch): QoS 0
  // copies for it are dropped instead of waiting.
  virtual bool slow_consumer() const { return false; }
  // Another connection took over the client id: disconnect (v5 0x8E).
  virtual void session_taken_over() = 0;
  // The access rules or the password file were reloaded: re-check what the
  // connection holds (its identity, its queue subscriptions) and close it if
  // it may no longer stay.
  virtual void access_changed() {}
  // For the operator's view (admin API): the connection behind the sink, or
  // null (bridges have none); and when it connected (wall clock ms, 0: unknown).
  virtual const ConnectionInfo* connection() const { return nullptr; }
  virtual std::int64_t connected_at_ms() const { return 0; }
  // An operator disconnected the client (Broker::kick): the broker has
  // already detached the session, as for a takeover; the front-end says why
  // in its protocol (MQTT 5 DISCONNECT 0x98, a STOMP ERROR) and closes.
  virtual void disconnected_by_admin() { session_taken_over(); }
};

struct WillMessage {
  MessageRef msg;
  std::uint32_t delay_s = 0;
  std::uint32_t message_expiry_s = 0;  // 0 = none; counts from when the will is published
  std::int64_t at_ms = 0;  // monotonic time to publish a delayed will; 0 = none
};

// The retained messages one subscription matched, not sent yet: a `#`
// subscriber on a store with ten million retained messages gets them at the
// pace its window and socket allow, instead of overflowing its queue, and
// holds 8 bytes per message meanwhile (cold ones by id, read at their turn).
struct RetainedBatch {
  std::vector<MessageRef> resident;  // taken (moved out) from next_resident on
  std::vector<std::uint64_t> cold;   // ids, from next_cold on
  std::size_t next_resident = 0;
  std::size_t next_cold = 0;
  std::uint32_t subscription_id = 0;
  std::uint8_t qos = 0;  // the subscription's (a message's may be lower)
  bool done() const { return next_resident == resident.size() && next_cold == cold.size(); }
};

// Where an outgoing delivery stands. QoS 1 (at least once) goes Sent ->
// done on its acknowledgement; QoS 2 (exactly once) has two steps: Sent ->
// Received (the client has it: never send the message again, only ask it
// to finish) -> done on completion. Stored with the entry (StoredEntry::state).
enum DeliveryStage : std::uint8_t { kQueued = 0, kSent = 1, kReceived = 2 };

struct OutEntry {
  MessageRef msg;
  std::uint64_t seq = 0;        // store key order; 0 = not persisted
  std::uint16_t packet_id = 0;
  std::uint8_t qos = 0;
  std::uint8_t state = 0;       // DeliveryStage
  bool retain = false;
  bool dup = false;             // was sent before a reconnect
  // Its record holds the message itself (written past the session's window,
  // or read back from disk): no persist ref on a Messages record.
  bool inline_body = false;
  // The cycle of the session's id counter its packet id came from (low 8
  // bits; Session::assign_packet_id). In what was padding.
  std::uint8_t id_cycle = 0;
  std::vector<std::uint32_t> subscription_ids;
  QueueSubscription* qsub = nullptr;  // set for a delivery from a queue (never persisted here)
  std::uint64_t qtag = 0;
};

// Per-session state that most sessions never need: an idle subscriber
// (10,000 of them: docs/PERFORMANCE.md) pays one null pointer for all of it.
struct SessionExtras {
  std::vector<std::uint16_t> inbound_held;  // exactly-once publishes taken, release awaited
  std::vector<std::unique_ptr<SessionQueueConsumer>> queue_consumers;  // while online
  // Sent after `pending`, as capacity allows; only while online.
  Ring<RetainedBatch> retained_backlog;
  // Overrides set by the session's owner (bridges: the outbox limits, the
  // XMPP offline limit); not persisted. 0: BrokerConfig::max_queued_messages.
  std::uint32_t max_queued = 0;
  bool drop_oldest = false;  // full: drop the oldest waiting entry instead of refusing
  std::uint64_t dropped_oldest = 0;
  // A stored session's backlog past its in-memory window (Broker::spill):
  // in key order pending, then disk_count entries on disk from
  // disk_next_seq on, then `spilled` (the newest, kept until their commit
  // makes them readable). Their bytes are in queued_bytes().
  struct Spilled {
    OutEntry entry;
    std::uint64_t ticket = 0;
  };
  Ring<Spilled> spilled;
  bool awaiting_settle = false;  // in Broker::unsettled_ (settled on the tick)
  std::uint64_t disk_count = 0;
  std::uint64_t disk_bytes = 0;
  std::uint64_t disk_next_seq = 0;
  // Packet ids: the counter's cycle (bumped when it wraps) and how many
  // in-flight entries hold an id from an earlier cycle. Only those can
  // collide with the next id; with none, an id is handed out without a
  // scan of the window. Created when the counter first wraps with
  // something in flight (or a restart restores in-flight entries).
  std::uint8_t id_cycle = 0;
  std::uint32_t old_cycle_inflight = 0;
};

// The identity a session's client authenticated with, and the ACL delivery
// cache: valid while acl_generation equals the ACL's generation (low 32
// bits; 0 = invalid); acl_whole = every subscription filter is wholly
// readable, so no delivery needs a per-topic check.
struct SessionAccess {
  ClientIdentity identity;
  std::uint32_t acl_generation = 0;
  bool acl_whole = false;
};

class Session final : public Subscriber {
 public:
  explicit Session(std::string id) : client_id(std::move(id)) {}

  // (Members ordered so the small ones share words, the first one in the
  // tail padding of Subscriber: one Session per client, 200 B.)
  std::uint32_t expiry_interval_s = 0;  // 0: ends with the connection; 0xFFFFFFFF: never
  std::string client_id;
  std::uint8_t protocol_version = 0;
  ProtocolId protocol = kInternalProtocol;
  std::uint16_t send_window = 65535;    // client's receive maximum, capped by config
  std::uint16_t next_packet_id = 1;

 private:
  bool stored_ = false;  // here, to share the word above (see stored())
  bool record_dirty_ = false;  // the Sessions record is written at the next flush (Broker::SessionRecords)

 public:
  SessionSink* sink = nullptr;          // null while offline
  std::int64_t disconnected_wall_ms = 0;
  std::int64_t expires_at_ms = 0;       // monotonic deadline while offline; 0 = none

  std::unique_ptr<WillMessage> will;

  // Read-only views; only the broker changes them (through the helpers
  // below for the two queues, which keep queued_bytes() right).
  // Full filter (with any $share prefix) -> options.
  const FlatStringMap<SubscriptionOptions>& subscriptions() const { return subscriptions_; }
  const SubscriptionOptions* subscription(std::string_view full_filter) const {
    auto it = subscriptions_.find(full_filter);
    return it == subscriptions_.end() ? nullptr : &it->second;
  }
  const Ring<OutEntry>& pending() const { return pending_; }    // waiting to be sent
  const Ring<OutEntry>& inflight() const { return inflight_; }  // sent, not acknowledged
  std::uint64_t queued_bytes() const { return queued_bytes_; }  // payload bytes in pending + inflight
  bool stored() const { return stored_; }                        // a Sessions record exists in the store

  // The owner's limits on what the session may hold (bridges: the outbox,
  // the XMPP offline limit); not persisted. max_queued 0: the broker's
  // max_queued_messages. drop_oldest: full means the oldest waiting entry
  // goes, instead of refusing the new one (counted: dropped_oldest()).
  void set_queue_limit(std::uint32_t max_queued, bool drop_oldest) {
    SessionExtras& x = extras_or_create();
    x.max_queued = max_queued;
    x.drop_oldest = drop_oldest;
  }
  std::uint64_t dropped_oldest() const { return extras_ ? extras_->dropped_oldest : 0; }

  // Who the connected client authenticated as (set by attach). A session
  // restored from the store has no identity until its client reconnects;
  // nothing is delivered to it before then, so nothing escapes the ACL.
  const ClientIdentity& identity() const { return access_ ? access_->identity : anonymous_identity(); }
  void set_identity(const ClientIdentity& id);
  // The ACL delivery cache (see SessionAccess); allocated for anonymous
  // sessions only once an ACL is in force.
  SessionAccess& access_or_create();
  void invalidate_acl_cache() {
    if (access_) access_->acl_generation = 0;
  }

  // Null until something rare is needed (see SessionExtras).
  SessionExtras* extras() const { return extras_.get(); }
  SessionExtras& extras_or_create();

  bool persistent() const { return expiry_interval_s != 0; }
  bool online() const { return sink != nullptr; }
  // Everything the session holds, on disk included.
  std::size_t queued() const { return pending_.size() + inflight_.size() + backlog(); }
  // Entries past the in-memory window: on disk or waiting for their commit.
  std::size_t backlog() const { return extras_ ? std::size_t(extras_->disk_count) + extras_->spilled.size() : 0; }

  // The only ways in and out of `pending` and `inflight` (queued_bytes).
  static std::uint64_t entry_bytes(const OutEntry& e) { return e.msg ? e.msg->payload.size() : 0; }
  OutEntry& push_pending(OutEntry e);
  // From the backlog to the window: its bytes were counted when it came.
  OutEntry& push_pending_counted(OutEntry e);
  OutEntry& push_inflight(OutEntry e);
  void pop_pending();                        // drops pending.front()
  void erase_inflight(std::size_t i);
  void pending_to_inflight();                // pending.front() goes in flight
  // Keeps the entries of both rings for which keep(e) is true, in order.
  template <class Keep>
  void retain_entries(Keep keep) {
    retain_in(pending_, keep);
    retain_in(inflight_, keep);
  }
  bool queued_bytes_consistent() const;

  // Next free packet id (skips ids still in flight).
  // Gives a delivery the next free packet id.
  void assign_packet_id(OutEntry& e);
  // An in-flight entry restored with its id (cycle unknown: counted as old).
  void note_restored_inflight(OutEntry& e);
  OutEntry* find_inflight(std::uint16_t packet_id);

  std::uint32_t max_queued() const { return extras_ ? extras_->max_queued : 0; }
  bool drop_oldest() const { return extras_ && extras_->drop_oldest; }
  std::span<const std::uint16_t> inbound_held_ids() const {
    return extras_ ? std::span<const std::uint16_t>(extras_->inbound_held) : std::span<const std::uint16_t>();
  }
  bool has_retained_backlog() const { return extras_ && !extras_->retained_backlog.empty(); }

 private:
  template <class Keep>
  void retain_in(Ring<OutEntry>& ring, Keep& keep) {
    Ring<OutEntry> kept;
    while (!ring.empty()) {
      OutEntry& e = ring.front();
      if (keep(e)) kept.push_back(std::move(e));
      else queued_bytes_ -= entry_bytes(e);
      ring.pop_front();
    }
    ring = std::move(kept);
  }

  friend class SessionTable;
  friend class Broker;    // subscriptions, the queues (through the helpers), stored
  friend class Restorer;  // the same, from the store at start-up
  static const ClientIdentity& anonymous_identity();

  FlatStringMap<SubscriptionOptions> subscriptions_;
  Ring<OutEntry> pending_;
  Ring<OutEntry> inflight_;
  std::uint64_t queued_bytes_ = 0;

  Session* table_next_ = nullptr;  // SessionTable's chain

  std::unique_ptr<SessionAccess> access_;  // null: anonymous, no ACL cache
  std::unique_ptr<SessionExtras> extras_;
};

}  // namespace junction::core
