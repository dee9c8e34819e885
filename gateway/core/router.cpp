// The publish path: retained update, match, per-session enqueue and
// delivery, and the outgoing acknowledgement state machine (QoS 1/2).
// Hot path: no allocation per subscriber for QoS 0 to an online session
// (direct delivery, no entry), one MessageRef copy per queued entry.
#include <algorithm>

#include "broker.h"
#include "log.h"
#include "records.h"
#include "store.h"
#include "topic.h"

namespace junction::core {

PublishResult Broker::publish(const MessageRef& msg, Session* publisher) {
  if (hook_in_) {
    MessageDrop drop;
    if (!hook_in_->on_message_in(*msg, publisher, drop)) {
      hook_drop_reason_ = std::move(drop.reason);
      PublishResult dropped;
      dropped.invalid = true;
      dropped.reason_code = drop.reason_code;
      dropped.why = hook_drop_reason_.empty() ? "dropped by a plugin" : hook_drop_reason_.c_str();
      return dropped;
    }
  }
  return publish_unhooked(msg, publisher);
}

PublishResult Broker::publish_unhooked(const MessageRef& msg, Session* publisher) {
  // $SYS/... is the broker's (SysTopics): a client, a will or a bridge
  // writing there would overwrite the broker's figures [Mosquitto: denied].
  if (is_sys_topic(msg->topic)) {
    ++stats_.sys_publish_refused;
    PublishResult refused;
    refused.refused = true;
    return refused;
  }
  // One test on the plain path: delays and dedup ids need a '$' topic or a
  // user property.
  if ((!msg->topic.empty() && msg->topic[0] == '$') || !msg->props().user_properties.empty()) {
    std::uint64_t delay_s = 0;
    std::string_view target;
    if (parse_delayed_topic(msg->topic, delay_s, target) != DelayedTopic::No) return publish_special(msg, publisher);
    for (const UserProperty& p : msg->props().user_properties) {
      if (p.name == kDelayProperty || p.name == kDedupProperty) return publish_special(msg, publisher);
    }
  }
  ++stats_.messages_in;
  ++stats_.received_by_protocol[msg->origin_protocol.value & (kMaxProtocols - 1)];
  return route(msg, publisher, true);
}

PublishResult Broker::publish_volatile(const MessageRef& msg) { return route(msg, nullptr, false); }

PublishResult Broker::refused_for_store_limit() {
  ++stats_.refused_disk;
  PublishResult full;
  full.quota_exceeded = true;
  full.why = store_limit_ == StoreLimit::MaxDiskBytes ? "store at store.max_disk_bytes"
                                                      : "free disk below store.min_free_disk_bytes";
  return full;
}

PublishResult Broker::route(const MessageRef& msg, Session* publisher, bool durable) {
  PublishResult result;
  const bool to_queue = msg->topic.compare(0, kQueueTopicPrefix.size(), kQueueTopicPrefix) == 0;
  if (store_limit_ != StoreLimit::None && durable &&
      (msg->qos > 0 || to_queue || (msg->retain && !msg->payload.empty()))) {
    // The store is at a limit: refuse what would write, as RabbitMQ's disk
    // alarm blocks publishers; a retained clear only frees space.
    return refused_for_store_limit();
  }
  if (to_queue) {
    switch (queues_.publish(std::string_view(msg->topic).substr(kQueueTopicPrefix.size()), msg)) {
      case QueueResult::Ok: result.matched = 1; break;
      case QueueResult::Rejected: result.quota_exceeded = true; break;
      case QueueResult::InvalidName: break;
    }
    return result;
  }

  if (msg->retain && config_.retain_available) {
    // Retained records are keyed by message id, not topic: topics may be far
    // longer than a store key (511 bytes), and the body record has the topic.
    if (loader_) retained_touched(msg->topic);  // the stored one, not loaded yet, is older
    const RetainedStore::Replaced old = retained_.set(msg);
    if (!durable) {
      // Volatile messages only ever replace volatile ones ($SYS is refused
      // to everyone else, and restore drops stored $SYS messages).
    } else if (!msg->payload.empty()) {
      persistence_.persist_ref(*msg);
      persistence_.put(store::Table::Retained, store::u64_key(msg->id), {});
      note_retained(msg);
    }
    if (old && durable) drop_replaced_retained(old);
  }

  // A will published while we deliver (a sink closing) re-enters here: it
  // gets its own scratch so the outer match stays intact.
  MatchResult nested;
  MatchResult& m = publish_depth_++ == 0 ? match_scratch_ : nested;
  tree_.match(msg->topic, publisher, m);
  // A message going to one session and held by nothing else durable is
  // written once, inside that session's entry: one record to put and erase
  // instead of two (the body record exists only to be shared).
  const bool sole = m.size() + m.group_count() == 1 && msg->durably_unheld();
  for (std::size_t i = 0; i < m.size(); ++i) {
    const Match& hit = m[i];
    auto* s = static_cast<Session*>(hit.subscriber);
    // [MQTT-3.3.1-9/-3.3.1-12] retain flag as published only with Retain As Published.
    enqueue(s, msg, std::min(msg->qos, hit.qos), hit.retain_as_published && msg->retain, hit.subscription_ids,
            &result, sole);
  }
  for (std::size_t g = 0; g < m.group_count(); ++g) {
    SharedGroup& group = m.group(g);
    Session* s = pick_shared_member(group, *msg);
    if (!s) continue;
    const SubscriptionOptions* o = nullptr;
    for (const auto& mem : group.members) {
      if (mem.subscriber == s) o = &mem.options;
    }
    std::uint32_t sid = o ? o->subscription_id : 0;
    std::span<const std::uint32_t> ids = sid ? std::span<const std::uint32_t>(&sid, 1) : std::span<const std::uint32_t>();
    enqueue(s, msg, std::min<std::uint8_t>(msg->qos, o ? o->qos : 0), o && o->retain_as_published && msg->retain, ids,
            &result, sole);
  }
  --publish_depth_;
  // A retained message is held by the retained store: not lost.
  if (result.matched == 0 && !result.quota_exceeded && durable && !msg->retain && !diverting_) {
    divert_unroutable(msg, result);
  }
  return result;
}

Session* Broker::pick_shared_member(SharedGroup& g, const Message& msg) {
  const std::size_t n = g.members.size();
  if (n == 0) return nullptr;
  auto takes_now = [](Session* s) { return s->online() && s->sink->can_deliver() && s->pending_.empty(); };
  auto may_hold = [](Session* s) { return s->online() || s->persistent(); };
  auto random_index = [&] {
    shared_rng_ ^= shared_rng_ << 13;
    shared_rng_ ^= shared_rng_ >> 7;
    shared_rng_ ^= shared_rng_ << 17;
    return static_cast<std::size_t>(shared_rng_ % n);
  };
  switch (config_.shared_strategy) {
    case SharedStrategy::RoundRobin:
      break;
    case SharedStrategy::HashTopic:
    case SharedStrategy::HashClient: {
      // The same member for the same key while the group is unchanged, even
      // when it is backed up (its order matters more than its pace).
      const std::string_view key =
          config_.shared_strategy == SharedStrategy::HashTopic ? std::string_view(msg.topic) : msg.origin_client;
      const std::size_t start = std::hash<std::string_view>{}(key) % n;
      for (std::size_t k = 0; k < n; ++k) {
        auto* s = static_cast<Session*>(g.members[(start + k) % n].subscriber);
        if (may_hold(s)) return s;
      }
      return nullptr;
    }
    case SharedStrategy::Sticky:
      for (const auto& mem : g.members) {
        if (mem.subscriber == g.sticky && may_hold(static_cast<Session*>(mem.subscriber)) &&
            static_cast<Session*>(mem.subscriber)->online())
          return static_cast<Session*>(mem.subscriber);
      }
      [[fallthrough]];
    case SharedStrategy::Random: {
      const std::size_t start = random_index();
      Session* chosen = nullptr;
      for (std::size_t k = 0; k < n && !chosen; ++k) {
        auto* s = static_cast<Session*>(g.members[(start + k) % n].subscriber);
        if (takes_now(s)) chosen = s;
      }
      for (std::size_t k = 0; k < n && !chosen; ++k) {
        auto* s = static_cast<Session*>(g.members[(start + k) % n].subscriber);
        if (may_hold(s)) chosen = s;
      }
      if (config_.shared_strategy == SharedStrategy::Sticky) g.sticky = chosen;
      return chosen;
    }
  }
  // Round robin, preferring members that are online and not backed up.
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (g.next + k) % n;
    auto* s = static_cast<Session*>(g.members[i].subscriber);
    if (s->online() && s->sink->can_deliver() && s->pending_.empty()) {
      g.next = static_cast<std::uint32_t>((i + 1) % n);
      return s;
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (g.next + k) % n;
    auto* s = static_cast<Session*>(g.members[i].subscriber);
    if (s->online() || s->persistent()) {
      g.next = static_cast<std::uint32_t>((i + 1) % n);
      return s;
    }
  }
  return nullptr;
}

void Broker::enqueue(Session* s, const MessageRef& msg, std::uint8_t qos, bool retain,
                     std::span<const std::uint32_t> sub_ids, PublishResult* result, bool sole) {
  if (msg->expiry_ms != 0 && msg->expired(clock_.wall_ms())) {  // no clock read per delivery otherwise
    ++stats_.expired;
    trace_drop(*msg, "expired");
    return;
  }
  // Read access is checked when a message goes out: here for a connected
  // client, in pump() for what waited while it was away (its identity is
  // known only once it is connected, and the rules may change meanwhile).
  if (acl_ && s->online() && !may_deliver(s, msg->topic)) return;
  if (hook_out_ && !hook_out_->on_message_out(*s, *msg, qos)) return;
  if (qos == 0) {
    if (s->online() && s->pending_.empty() && s->backlog() == 0 && s->sink->can_deliver()) {
      Delivery d{*msg, 0, retain, false, 0, sub_ids};
      s->sink->deliver(d);
      ++stats_.messages_out;
      ++stats_.delivered_by_protocol[s->protocol.value & (kMaxProtocols - 1)];
      if (result) ++result->matched;
      return;
    }
    // A connection over its outbound buffer gets the copy later (pump),
    // unless it stopped reading: QoS 0 is not worth holding for a consumer
    // that is not there.
    if (s->online() && s->sink->slow_consumer()) {
      ++stats_.dropped_qos0;
      ++stats_.dropped_slow_consumer;
      trace_drop(*msg, "slow_consumer");
      return;
    }
    if (const QueueFull full = queue_full(s, *msg); full != QueueFull::No) {
      // A subscriber matched; its copy is what was dropped (QoS 0 has no
      // refusal): the publisher is not told "no matching subscribers".
      ++stats_.dropped_qos0;
      note_queue_full(s, full, /*refused=*/false);
      trace_drop(*msg, "queue_full");
      if (result) ++result->matched;
      return;
    }
    OutEntry e;
    e.msg = msg;
    e.retain = retain;
    e.subscription_ids.assign(sub_ids.begin(), sub_ids.end());
    if (result) ++result->matched;
    if (past_window(s)) {
      spill(s, std::move(e));
      return;
    }
    s->push_pending(std::move(e));
    return;
  }

  // Drop-oldest overflow (bridge outboxes) never refuses: the oldest messages
  // not yet sent go until the new one fits (one at the message cap; maybe
  // more at the byte cap). What is left over the limit then is in flight
  // (sent, awaiting the upstream's confirm): the new message waits anyway,
  // so the session exceeds its limit by at most its in-flight window.
  if (s->drop_oldest()) {
    while ((!s->pending_.empty() || refill(s, 64)) && queue_full(s, *msg) != QueueFull::No) {
      ++stats_.dropped_oldest;
      ++s->extras()->dropped_oldest;
      trace_drop(*s->pending_.front().msg, "oldest");
      finish_entry(s, s->pending_.front());
      s->pop_pending();
    }
  } else if (const QueueFull full = queue_full(s, *msg); full != QueueFull::No) {
    ++stats_.refused_quota;
    note_queue_full(s, full, /*refused=*/true);
    if (result) result->quota_exceeded = true;
    return;
  }
  OutEntry e;
  e.msg = msg;
  e.qos = qos;
  e.retain = retain;
  e.subscription_ids.assign(sub_ids.begin(), sub_ids.end());
  if (result) ++result->matched;

  const bool send_now = s->online() && s->pending_.empty() && s->backlog() == 0 &&
                        s->inflight_.size() < s->send_window && s->sink->can_deliver();
  if (send_now) {
    OutEntry& sent = s->push_inflight(std::move(e));
    if (!send_entry(s, sent)) {
      finish_entry(s, sent);
      s->erase_inflight(s->inflight_.size() - 1);
      return;
    }
    if (s->stored_) {
      sent.seq = next_entry_seq_++;
      hold_body(sent, sole);
      persist_entry(s, sent);
    }
    return;
  }
  if (past_window(s)) {
    spill(s, std::move(e));
    return;
  }
  OutEntry& queued = s->push_pending(std::move(e));
  if (s->stored_) {
    queued.seq = next_entry_seq_++;
    hold_body(queued, sole);
    persist_entry(s, queued);
  }
}

void Broker::hold_body(OutEntry& e, bool sole) {
  if (sole) {
    e.inline_body = true;
  } else {
    persistence_.persist_ref(*e.msg);
  }
}

Broker::QueueFull Broker::queue_full(const Session* s, const Message& m) const {
  if (s->queued() >= queue_limit(s)) return QueueFull::Messages;
  // Like Mosquitto's max_queued_bytes, a session holding no bytes takes any
  // one message, however large (max_packet_size bounds it): a cap below the
  // largest message must not make a subscriber unreachable.
  const std::uint64_t cap = config_.max_queued_bytes;
  if (cap != 0 && s->queued_bytes_ != 0 && s->queued_bytes_ + m.payload.size() > cap) return QueueFull::Bytes;
  return QueueFull::No;
}

void Broker::note_queue_full(const Session* s, QueueFull full, bool refused) {
  // Rate-limited: a full subscriber can be hit by every publish.
  const bool bytes = full == QueueFull::Bytes;
  std::uint64_t& n = bytes ? stats_.queue_full_bytes : stats_.queue_full_messages;
  if (n++ % 1000 == 0) {
    log::warning("session %s: queue full (%s %llu; %llu messages, %llu bytes queued): %s (%llu so far)",
                 s->client_id.c_str(), bytes ? "max_queued_bytes" : "message limit",
                 static_cast<unsigned long long>(bytes ? config_.max_queued_bytes : queue_limit(s)),
                 static_cast<unsigned long long>(s->queued()), static_cast<unsigned long long>(s->queued_bytes_),
                 refused ? "a QoS >= 1 publish refused" : "a QoS 0 copy dropped", static_cast<unsigned long long>(n));
  }
}

void Broker::note_slow_consumer(const Session* s, std::size_t queued, std::int64_t stalled_ms) {
  if (stats_.slow_consumers++ % 100 == 0) {
    log::warning("session %s: slow consumer: %zu bytes unsent, no progress for %lld ms; QoS 0 messages to it are "
                 "dropped until it reads again (%llu slow-consumer episodes, %llu messages dropped so far)",
                 s ? s->client_id.c_str() : "-", queued, static_cast<long long>(stalled_ms),
                 static_cast<unsigned long long>(stats_.slow_consumers),
                 static_cast<unsigned long long>(stats_.dropped_slow_consumer));
  }
}

bool Broker::send_entry(Session* s, OutEntry& e) {
  if (e.qos > 0 && e.packet_id == 0) {
    s->assign_packet_id(e);
    e.state = kSent;
  }
  Delivery d{*e.msg, e.qos, e.retain, e.dup, e.packet_id, e.subscription_ids};
  ++stats_.messages_out;
  ++stats_.delivered_by_protocol[s->protocol.value & (kMaxProtocols - 1)];
  return s->sink->deliver(d) == DeliverResult::Sent;
}

void Broker::finish_entry(Session* s, OutEntry& e, bool acked) {
  if (e.qsub) {
    // Acknowledged: done in the queue too. Discarded (cannot be sent to this
    // client): the queue dead-letters it rather than retrying forever.
    if (acked) {
      queues_.ack(e.qsub, e.qtag);
    } else {
      queues_.nack(e.qsub, e.qtag, false);
    }
    e.qsub = nullptr;
  }
  if (e.seq != 0) {
    persistence_.erase(store::Table::SessionEntries, store::session_entry_key(s->client_id, e.seq));
    // An inline entry took no reference; the message may still be shared
    // (a retained one, other sessions) and their references must stay.
    if (!e.inline_body) persistence_.persist_unref(*e.msg);
    e.seq = 0;
  }
}

void Broker::pump(Session* s) {
  std::int64_t now = 0;  // read from the clock only for a message with an expiry
  for (;;) {
    // The window is read ahead from the backlog in chunks, when half empty.
    if (s->backlog() != 0 && s->online() && s->pending_.size() <= kSessionWindow / 2) refill(s, kSessionWindow);
    if (!s->online() || s->pending_.empty()) break;
    OutEntry& e = s->pending_.front();
    if (e.msg->expiry_ms != 0 && e.msg->expired(now ? now : (now = clock_.wall_ms()))) {
      ++stats_.expired;
      trace_drop(*e.msg, "expired");
      finish_entry(s, e);
      s->pop_pending();
      continue;
    }
    if (acl_ && !e.qsub && !may_deliver(s, e.msg->topic)) {
      finish_entry(s, e);  // withheld: the client may not read it (any more)
      s->pop_pending();
      continue;
    }
    if (!s->sink->can_deliver()) return;
    if (e.qos == 0) {
      send_entry(s, e);
      s->pop_pending();
      continue;
    }
    if (s->inflight_.size() >= s->send_window) return;
    s->pending_to_inflight();
    OutEntry& sent = s->inflight_.back();
    if (!send_entry(s, sent)) {
      finish_entry(s, sent);
      s->erase_inflight(s->inflight_.size() - 1);
      continue;
    }
    if (sent.seq != 0) persist_entry(s, sent);
  }
  if (s->has_retained_backlog() && s->online()) pump_retained(s);
}

bool Broker::complete_delivery(Session* s, std::uint16_t packet_id) {
  for (std::size_t i = 0; i < s->inflight_.size(); ++i) {
    OutEntry& e = s->inflight_[i];
    if (e.packet_id != packet_id) continue;
    QueueSubscription* from_queue = e.qsub;
    finish_entry(s, e, true);
    s->erase_inflight(i);
    pump(s);
    // The queue heard of the ack while the entry still filled the window;
    // now there is room, offer the next message without waiting for a tick.
    if (from_queue != nullptr) queues_.resume(from_queue);
    return true;
  }
  return false;
}

Broker::AckResult Broker::acknowledge(Session* s, std::uint16_t delivery_id, AckStep step) {
  OutEntry* e = s->find_inflight(delivery_id);
  if (!e) return AckResult::Unknown;
  const bool two_step = e->qos == 2;
  switch (step) {
    case AckStep::Done:  // completing an exactly-once delivery here would lose it
      if (two_step) return AckResult::WrongType;
      break;
    case AckStep::Received:
      if (!two_step) return AckResult::WrongType;
      if (e->state != kReceived) {  // a repeated Received only asks for the second step again
        e->state = kReceived;
        if (e->seq != 0) persist_entry(s, *e);
      }
      return AckResult::Done;
    case AckStep::Completed:
      if (!two_step || e->state != kReceived) return AckResult::WrongType;
      break;
    case AckStep::Refused:
      if (!two_step || e->state == kReceived) return AckResult::WrongType;
      break;
  }
  complete_delivery(s, delivery_id);
  return AckResult::Done;
}

bool Broker::inbound_held(Session* s, std::uint16_t packet_id) const {
  const auto ids = s->inbound_held_ids();
  return std::find(ids.begin(), ids.end(), packet_id) != ids.end();
}

void Broker::hold_inbound(Session* s, std::uint16_t packet_id) {
  if (inbound_held(s, packet_id)) return;
  s->extras_or_create().inbound_held.push_back(packet_id);
  if (s->stored_) {
    persistence_.put(store::Table::InboundHeld, store::inbound_held_key(s->client_id, packet_id), {});
  }
}

bool Broker::release_inbound(Session* s, std::uint16_t packet_id) {
  if (s->extras() == nullptr) return false;
  auto& ids = s->extras()->inbound_held;
  auto it = std::find(ids.begin(), ids.end(), packet_id);
  if (it == ids.end()) return false;
  ids.erase(it);
  if (s->stored_) persistence_.erase(store::Table::InboundHeld, store::inbound_held_key(s->client_id, packet_id));
  return true;
}

void Broker::deliver_retained(Session* s, std::string_view filter, const SubscriptionOptions& o) {
  const std::int64_t now = clock_.wall_ms();
  // Into the backlog; pump() sends them as fast as the client takes them.
  // Retained messages sent because of a new subscription carry RETAIN=1
  // [MQTT-3.3.1-8] (enqueue from pump_retained()).
  // Cold messages stay in the store until their turn (pump_retained).
  RetainedBatch batch;
  retained_.match_lazy(filter, batch.resident, batch.cold);
  std::erase_if(batch.resident, [&](const MessageRef& m) { return m->expired(now); });
  if (batch.done()) return;
  batch.subscription_id = o.subscription_id;
  batch.qos = o.qos;
  s->extras_or_create().retained_backlog.push_back(std::move(batch));
  pump(s);
}

void Broker::pump_retained(Session* s) {
  Ring<RetainedBatch>& backlog = s->extras()->retained_backlog;
  while (s->online() && s->pending_.empty() && !backlog.empty()) {
    RetainedBatch& batch = backlog.front();
    if (batch.done()) {
      backlog.pop_front();
      continue;
    }
    if (!s->sink->can_deliver()) return;
    if (batch.qos > 0 && s->inflight_.size() >= s->send_window) return;
    MessageRef msg;
    if (batch.next_resident < batch.resident.size()) {
      msg = std::move(batch.resident[batch.next_resident++]);
    } else {
      msg = retained_.read_for_delivery(batch.cold[batch.next_cold++]);
      if (!msg) continue;  // replaced or cleared since the subscription: the client had the news live
      if (msg->expiry_ms != 0 && msg->expired(clock_.wall_ms())) continue;
    }
    const std::uint32_t sid = batch.subscription_id;
    const std::uint8_t qos = std::min(msg->qos, batch.qos);
    if (batch.done()) backlog.pop_front();  // `batch` is gone from here on
    std::span<const std::uint32_t> ids = sid ? std::span<const std::uint32_t>(&sid, 1) : std::span<const std::uint32_t>();
    // A copy read for this delivery is held by nothing else: a stored
    // session's entry carries it inline.
    enqueue(s, msg, qos, true, ids, nullptr, msg->durably_unheld());
  }
  backlog.shrink_if_empty();
}

}  // namespace junction::core
