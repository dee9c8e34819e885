// Session lifecycle: attach (connect, takeover, clean start), detach (wills,
// expiry), subscriptions, timers, shutdown. The publish path is router.cpp,
// start-up recovery restore.cpp.
#include "broker.h"

#include <algorithm>
#include <stdexcept>

#include "log.h"
#include "records.h"
#include "store.h"
#include "topic.h"

namespace junction::core {

namespace {
constexpr std::uint32_t kNeverExpires = 0xFFFFFFFFu;
}

Broker::Broker(const BrokerConfig& config, store::Store& store, const Clock& clock)
    : config_(config),
      store_(store),
      clock_(clock),
      persistence_(store),
      queues_(persistence_, clock_, config_.queue_policies),
      delayed_(persistence_, [this](const MessageRef& m) { deliver_delayed(m); }),
      dedup_(persistence_, std::int64_t(config_.dedup_window_s) * 1000, config_.dedup_max_ids) {
  persistence_.add_contributor(&session_records_);
  retained_.set_reader(&retained_bodies_);
}

Broker::~Broker() {
  loader_.reset();
  // Sessions reference tree nodes and messages; drop them before the tree.
  for (Session* s : sessions_) {
    if (SessionExtras* x = s->extras()) x->queue_consumers.clear();  // the queues go with the broker; nothing to requeue
    for (auto&& [filter, opts] : s->subscriptions_) {
      if (filter.compare(0, kQueueTopicPrefix.size(), kQueueTopicPrefix) == 0) continue;
      std::string_view group, plain;
      if (split_shared(filter, group, plain) != SharedParse::Shared) {
        plain = filter;
        group = {};
      }
      tree_.unsubscribe(plain, group, s);
    }
  }
  sessions_.clear();
}

Session* Broker::find_session(std::string_view client_id) const {
  return sessions_.find(client_id);
}

std::vector<Session*> Broker::sessions_with_prefix(std::string_view prefix) const {
  std::vector<Session*> out;
  for (Session* s : sessions_)
    if (std::string_view(s->client_id).starts_with(prefix)) out.push_back(s);
  return out;
}

MessageRef Broker::make_message() {
  MessageRef m = MessageRef::make();
  m->id = next_message_id_++;
  m->created_ms = clock_.wall_ms();
  return m;
}

ConnectResult Broker::attach(const ConnectRequest& req) {
  ConnectResult result;
  const std::string id(req.client_id);
  Session* s = sessions_.find(id);

  if (s && s->online()) {
    // [MQTT-3.1.4-3] the existing connection is closed; its will follows the
    // normal rules (a delayed will is cancelled below if the session goes on).
    SessionSink* old = s->sink;
    detach_reason_ = DisconnectReason::TakenOver;
    detach(s, DetachKind::WithWill, s->expiry_interval_s);
    old->session_taken_over();
    s = find_session(id);
  }
  if (s && req.clean_start) {
    end_session(s);
    s = nullptr;
  }
  if (s) {
    result.session_present = true;
    // Reconnected before the will delay passed: the will is not published [MQTT-3.1.3-9].
    cancel_will(s);
    if (s->expires_at_ms) {
      expiries_.erase({s->expires_at_ms, s});
      s->expires_at_ms = 0;
    }
  } else {
    s = sessions_.insert(std::make_unique<Session>(id));
  }

  const bool was_persistent = s->stored_;
  s->expiry_interval_s = std::min(req.session_expiry_s, config_.max_session_expiry_s);
  s->protocol = req.protocol;
  s->protocol_version = req.protocol_version;
  s->send_window = std::max<std::uint16_t>(1, std::min<std::uint16_t>(req.receive_maximum, config_.max_inflight));
  s->will = req.will ? std::make_unique<WillMessage>(*req.will) : nullptr;
  s->sink = req.sink;
  count_connected(s, true);
  s->set_identity(req.identity);
  s->invalidate_acl_cache();
  s->disconnected_wall_ms = 0;
  if (s->persistent()) {
    persist_session(s);
  } else if (was_persistent) {
    erase_session_records(s);
  }
  result.session = s;
  if (hook_events_) hook_events_->on_connect(*s);
  return result;
}

void Broker::register_protocol(ProtocolId id, std::string_view name) {
  if (id.value >= kMaxProtocols || name.empty()) throw std::logic_error("protocol id out of range");
  std::string& slot = protocol_names_[id.value];
  if (!slot.empty() && slot != name) {
    throw std::logic_error("protocol id " + std::to_string(id.value) + " is taken by " + slot + ", not free for " +
                           std::string(name));
  }
  slot.assign(name);
}

EncodeSlot Broker::encode_slot(std::string_view format) {
  for (std::size_t i = 0; i < encode_formats_.size(); ++i) {
    if (encode_formats_[i] == format) return static_cast<EncodeSlot>(i);
  }
  if (encode_formats_.size() >= kMaxEncodeSlots) throw std::logic_error("too many encode-cache formats");
  encode_formats_.emplace_back(format);
  return static_cast<EncodeSlot>(encode_formats_.size() - 1);
}

void Broker::count_connected(const Session* s, bool up) {
  std::size_t& by_protocol = connected_by_protocol_[s->protocol.value % kMaxProtocols];
  if (up) {
    ++connected_;
    ++by_protocol;
    connected_peak_ = std::max(connected_peak_, connected_);
  } else {
    --connected_;
    --by_protocol;
  }
}

void Broker::start_delivery(Session* s) {
  if (!s->online()) return;
  // Everything in flight again, in order (MQTT: [MQTT-4.4.0-1]): the
  // message marked as a resend, or for a received two-step delivery its
  // second step.
  for (std::size_t i = 0; i < s->inflight_.size();) {
    OutEntry& e = s->inflight_[i];
    if (e.state == kReceived) {
      s->sink->resume_received(e.packet_id);
      ++i;
      continue;
    }
    e.dup = true;
    if (send_entry(s, e)) {
      ++i;
    } else {
      finish_entry(s, e);
      s->erase_inflight(i);
    }
  }
  pump(s);
  start_queue_consumers(s);
}

void Broker::start_queue_consumers(Session* s) {
  for (const auto& [filter, o] : s->subscriptions_) {
    if (filter.compare(0, kQueueTopicPrefix.size(), kQueueTopicPrefix) != 0) continue;
    // A stored subscription of a session whose client may no longer read the
    // queue (rules changed while it was away) stays idle.
    if (acl_ && !acl_->allowed(s->identity().principal(s->client_id), filter, Access::Read)) continue;
    const std::string name = filter.substr(kQueueTopicPrefix.size());
    bool running = false;
    if (const SessionExtras* x = s->extras()) {
      for (const auto& c : x->queue_consumers) running |= c->queue() == name;
    }
    if (running) continue;
    auto c = std::make_unique<SessionQueueConsumer>(*this, *s, name, o.qos);
    SessionQueueConsumer* raw = c.get();
    s->extras_or_create().queue_consumers.push_back(std::move(c));
    // QoS 0 has no acknowledgement: the queue forgets the message once sent.
    raw->sub = queues_.subscribe(name, raw, o.qos == 0 ? AckMode::Auto : AckMode::Individual, s->send_window);
  }
}

void Broker::stop_queue_consumers(Session* s) {
  if (s->extras() == nullptr || s->extras()->queue_consumers.empty()) return;
  // Unacknowledged queue deliveries go back to their queues (unsubscribe
  // requeues them); the session forgets its copies.
  purge_queue_entries(s, nullptr);
  std::vector<std::unique_ptr<SessionQueueConsumer>> consumers;
  consumers.swap(s->extras()->queue_consumers);
  for (auto& c : consumers) {
    if (c->sub) queues_.unsubscribe(c->sub);
  }
}

void Broker::purge_queue_entries(Session* s, QueueSubscription* only) {
  s->retain_entries([&](const OutEntry& e) { return !e.qsub || (only && e.qsub != only); });
}

void Broker::deliver_from_queue(Session* s, QueueSubscription& sub, std::uint8_t qos, const MessageRef& m,
                                std::uint64_t tag, std::uint32_t deliveries) {
  OutEntry e;
  e.msg = m;
  e.qos = qos;
  e.dup = deliveries > 1 && qos > 0;
  // The subscription the queue delivered from, never the consumer's copy of
  // it: the first window is dispatched from inside QueueManager::subscribe,
  // before its caller has the pointer, and an entry without its
  // subscription is never acknowledged to the queue.
  e.qsub = &sub;
  e.qtag = tag;
  if (!s->online()) return;  // cannot happen: consumers exist only while online
  if (e.qos == 0) {
    Delivery d{*m, 0, false, false, 0, {}};
    s->sink->deliver(d);
    ++stats_.messages_out;
    ++stats_.delivered_by_protocol[s->protocol.value & (kMaxProtocols - 1)];
    return;
  }
  if (s->pending_.empty() && s->inflight_.size() < s->send_window) {
    OutEntry& sent = s->push_inflight(std::move(e));
    if (!send_entry(s, sent)) {
      finish_entry(s, sent);
      s->erase_inflight(s->inflight_.size() - 1);
    }
    return;
  }
  s->push_pending(std::move(e));
}

void SessionQueueConsumer::queue_deliver(QueueSubscription& qsub, const MessageRef& m, std::uint64_t tag,
                                         std::uint32_t deliveries) {
  if (sub == nullptr) sub = &qsub;
  broker_.deliver_from_queue(&session_, qsub, qos_, m, tag, deliveries);
}

bool SessionQueueConsumer::queue_can_take() const {
  return session_.online() && session_.sink->can_deliver() && session_.pending().empty() &&
         session_.inflight().size() < session_.send_window;
}

void Broker::detach(Session* s, DetachKind kind, std::uint32_t expiry_s) {
  if (hook_events_ && s->sink) {
    const DisconnectReason why = shutting_down_ ? DisconnectReason::Shutdown
                                 : detach_reason_ ? *detach_reason_
                                 : kind == DetachKind::Normal ? DisconnectReason::Normal
                                                              : DisconnectReason::Error;
    hook_events_->on_disconnect(*s, why);
  }
  detach_reason_.reset();
  stop_queue_consumers(s);
  if (s->sink) count_connected(s, false);
  s->sink = nullptr;
  // Retained messages go to the subscriber that asked, not to a later one.
  if (SessionExtras* x = s->extras()) x->retained_backlog.clear();
  s->expiry_interval_s = std::min(expiry_s, config_.max_session_expiry_s);
  for (std::size_t i = 0; i < s->inflight_.size(); ++i) s->inflight_[i].dup = true;

  if (kind == DetachKind::Normal) s->will.reset();
  if (s->will) {
    if (s->will->delay_s == 0 || !s->persistent()) {
      publish_will(s);
    } else {
      s->will->at_ms = clock_.now_ms() + std::int64_t(s->will->delay_s) * 1000;
      delayed_wills_.insert({s->will->at_ms, s});
    }
  }
  if (!s->persistent()) {
    end_session(s);
    return;
  }
  s->disconnected_wall_ms = clock_.wall_ms();
  if (s->expiry_interval_s != kNeverExpires) {
    s->expires_at_ms = clock_.now_ms() + std::int64_t(s->expiry_interval_s) * 1000;
    expiries_.insert({s->expires_at_ms, s});
  }
  s->pending_.shrink_if_empty();
  s->inflight_.shrink_if_empty();
  persist_session(s);
}

void Broker::publish_will(Session* s) {
  if (!s->will) return;
  MessageRef msg = std::move(s->will->msg);
  const std::uint32_t expiry_s = s->will->message_expiry_s;
  cancel_will(s);
  if (!msg || shutting_down_) return;
  msg->created_ms = clock_.wall_ms();
  if (expiry_s) msg->expiry_ms = msg->created_ms + std::int64_t(expiry_s) * 1000;
  ++stats_.wills_published;
  publish(msg, nullptr);
}

void Broker::cancel_will(Session* s) {
  if (s->will && s->will->at_ms) delayed_wills_.erase({s->will->at_ms, s});
  s->will.reset();
}

void Broker::end_session(Session* s) {
  stop_queue_consumers(s);
  for (auto&& [filter, opts] : s->subscriptions_) {
    if (filter.compare(0, kQueueTopicPrefix.size(), kQueueTopicPrefix) == 0) continue;
    std::string_view group, plain;
    if (split_shared(filter, group, plain) != SharedParse::Shared) {
      plain = filter;
      group = {};
    }
    tree_.unsubscribe(plain, group, s);
  }
  s->subscriptions_.clear();
  // The will goes out when the session ends, whatever delay was left [MQTT-3.1.2-8].
  if (s->will && s->will->at_ms) publish_will(s);
  cancel_will(s);
  if (s->expires_at_ms) expiries_.erase({s->expires_at_ms, s});
  erase_backlog(s);
  if (s->stored_) erase_session_records(s);
  for (std::size_t i = 0; i < s->pending_.size(); ++i) finish_entry(s, s->pending_[i]);
  for (std::size_t i = 0; i < s->inflight_.size(); ++i) finish_entry(s, s->inflight_[i]);
  sessions_.erase(s);  // destroys `s`
}

void Broker::erase_session_records(Session* s) {
  // The session goes on in memory only (it stopped being persistent): what
  // it has on disk comes into memory first.
  refill(s, SIZE_MAX);
  s->record_dirty_ = false;
  persistence_.erase(store::Table::Sessions, s->client_id);
  for (std::uint16_t pid : s->inbound_held_ids()) {
    persistence_.erase(store::Table::InboundHeld, store::inbound_held_key(s->client_id, pid));
  }
  auto drop_seq = [&](Ring<OutEntry>& ring) {
    for (std::size_t i = 0; i < ring.size(); ++i) {
      OutEntry& e = ring[i];
      if (e.seq == 0) continue;
      persistence_.erase(store::Table::SessionEntries, store::session_entry_key(s->client_id, e.seq));
      if (!e.inline_body) persistence_.persist_unref(*e.msg);
      e.seq = 0;
    }
  };
  drop_seq(s->pending_);
  drop_seq(s->inflight_);
  s->stored_ = false;
}

void Broker::SessionRecords::mark(Session* s) {
  b_.persistence_.note_deferred();  // the answer to this change waits for the commit
  if (s->record_dirty_) return;
  s->record_dirty_ = true;
  dirty_.push_back(s->client_id);
}

void Broker::SessionRecords::before_flush() {
  for (const std::string& id : dirty_) {
    Session* s = b_.sessions_.find(id);
    // Ended, or no longer persistent (its record was erased): nothing to write.
    if (s == nullptr || !s->record_dirty_) continue;
    s->record_dirty_ = false;
    if (s->persistent() && s->stored_) b_.write_session_record(s);
  }
  dirty_.clear();
}

void Broker::write_session_record(Session* s) {
  store::StoredSession rec;
  rec.client_id = s->client_id;
  rec.expiry_interval_s = s->expiry_interval_s;
  rec.disconnected_ms = s->disconnected_wall_ms;
  rec.protocol_version = s->protocol_version;
  rec.next_packet_id = s->next_packet_id;
  rec.subscriptions.reserve(s->subscriptions_.size());
  for (const auto& [filter, o] : s->subscriptions_) {
    rec.subscriptions.push_back(store::StoredSubscription{filter, o.qos, o.no_local, o.retain_as_published,
                                                          o.retain_handling, o.subscription_id});
  }
  persistence_.put(store::Table::Sessions, s->client_id, store::encode(rec));
}

void Broker::persist_session(Session* s) {
  session_records_.mark(s);
  if (!s->stored_) {
    s->stored_ = true;
    // Entries queued while the session was not stored become durable now.
    auto adopt = [&](Ring<OutEntry>& ring) {
      for (std::size_t i = 0; i < ring.size(); ++i) {
        OutEntry& e = ring[i];
        if (e.qos == 0 || e.seq != 0) continue;
        e.seq = next_entry_seq_++;
        persistence_.persist_ref(*e.msg);
        persist_entry(s, e);
      }
    };
    adopt(s->inflight_);
    adopt(s->pending_);
    for (std::uint16_t pid : s->inbound_held_ids()) {
      persistence_.put(store::Table::InboundHeld, store::inbound_held_key(s->client_id, pid), {});
    }
  }
}

void Broker::persist_entry(Session* s, const OutEntry& e) {
  store::StoredEntry rec;
  rec.msg_id = e.msg->id;
  rec.qos = e.qos;
  rec.state = e.state;
  rec.packet_id = e.packet_id;
  rec.retain = e.retain;
  rec.subscription_ids = e.subscription_ids;
  persistence_.put_with(store::Table::SessionEntries, store::session_entry_key(s->client_id, e.seq),
                        [&](std::string& out) {
                          if (e.inline_body) {
                            store::append_entry_inline(out, rec, view_of(*e.msg));
                          } else {
                            store::append_entry(out, rec);
                          }
                        });
}

SubscribeStatus Broker::subscribe(Session* s, std::string_view full_filter, const SubscriptionOptions& o) {
  s->invalidate_acl_cache();  // the ACL delivery cache covers the subscription set
  if (full_filter.substr(0, kQueueTopicPrefix.size()) == kQueueTopicPrefix) {
    const std::string_view name = full_filter.substr(kQueueTopicPrefix.size());
    if (!QueueManager::valid_name(name)) return SubscribeStatus::FilterInvalid;
    auto it = s->subscriptions_.find(full_filter);
    if (it != s->subscriptions_.end()) {
      it->second = o;
    } else {
      s->subscriptions_.emplace(std::string(full_filter), o);
    }
    if (s->persistent()) persist_session(s);
    if (s->online()) start_queue_consumers(s);
    if (hook_events_) hook_events_->on_subscribe(*s, full_filter, o.qos);
    return SubscribeStatus::Granted;
  }
  std::string_view group, filter;
  const SharedParse sp = split_shared(full_filter, group, filter);
  if (sp == SharedParse::Invalid) return SubscribeStatus::FilterInvalid;
  if (sp == SharedParse::NotShared) {
    filter = full_filter;
    group = {};
    if (!valid_topic_filter(filter)) return SubscribeStatus::FilterInvalid;
  }
  const bool is_new = tree_.subscribe(filter, group, s, o);
  auto it = s->subscriptions_.find(full_filter);
  if (it == s->subscriptions_.end()) {
    s->subscriptions_.emplace(std::string(full_filter), o);
  } else {
    it->second = o;
  }
  if (s->persistent()) persist_session(s);

  // Retained messages are not sent to shared subscriptions [MQTT-4.8.2].
  if (sp == SharedParse::NotShared && (o.retain_handling == 0 || (o.retain_handling == 1 && is_new))) {
    if (loader_) defer_retained(s, full_filter, filter, o);
    else deliver_retained(s, filter, o);
  }
  if (hook_events_) hook_events_->on_subscribe(*s, full_filter, o.qos);
  return SubscribeStatus::Granted;
}

bool Broker::unsubscribe(Session* s, std::string_view full_filter) {
  auto it = s->subscriptions_.find(full_filter);
  if (it == s->subscriptions_.end()) return false;
  s->invalidate_acl_cache();
  if (full_filter.substr(0, kQueueTopicPrefix.size()) == kQueueTopicPrefix) {
    const std::string_view name = full_filter.substr(kQueueTopicPrefix.size());
    auto& consumers = s->extras_or_create().queue_consumers;
    for (std::size_t i = 0; i < consumers.size(); ++i) {
      if (consumers[i]->queue() != name) continue;
      QueueSubscription* sub = consumers[i]->sub;
      purge_queue_entries(s, sub);
      if (sub) queues_.unsubscribe(sub);
      consumers.erase(consumers.begin() + std::ptrdiff_t(i));
      break;
    }
    if (hook_events_) hook_events_->on_unsubscribe(*s, full_filter);
    s->subscriptions_.erase(it);
    if (s->persistent()) persist_session(s);
    return true;
  }
  std::string_view group, filter;
  if (split_shared(full_filter, group, filter) != SharedParse::Shared) {
    filter = full_filter;
    group = {};
  }
  tree_.unsubscribe(filter, group, s);
  if (hook_events_) hook_events_->on_unsubscribe(*s, full_filter);
  s->subscriptions_.erase(it);
  if (s->persistent()) persist_session(s);
  return true;
}

void Broker::tick() {
  run_delayed();
  dedup_.expire(clock_.wall_ms());
  const std::int64_t now = clock_.now_ms();
  while (!delayed_wills_.empty() && delayed_wills_.begin()->first <= now) {
    Session* s = delayed_wills_.begin()->second;
    delayed_wills_.erase(delayed_wills_.begin());
    s->will->at_ms = 0;  // taken off delayed_wills_ above
    publish_will(s);
  }
  while (!expiries_.empty() && expiries_.begin()->first <= now) {
    Session* s = expiries_.begin()->second;
    expiries_.erase(expiries_.begin());
    s->expires_at_ms = 0;
    ++stats_.sessions_expired;
    if (hook_events_) hook_events_->on_session_expired(s->client_id);
    end_session(s);
  }
  queues_.tick();
  settle_all();
  make_retained_cold();
  check_store_space();
}

void Broker::flush() {
  // A fast publisher must not write far past a limit before the next tick:
  // check again after a sixteenth of the smaller limit (256 KiB .. 4 MiB).
  written_since_check_ += persistence_.pending_bytes();
  std::uint64_t every = 4u << 20;
  if (config_.max_disk_bytes) every = std::min(every, config_.max_disk_bytes / 16);
  if (config_.min_free_disk_bytes) every = std::min(every, config_.min_free_disk_bytes / 16);
  if (written_since_check_ >= std::max<std::uint64_t>(every, 256u << 10)) check_store_space();
  persistence_.flush();
}

const char* Broker::store_limit_name(StoreLimit l) {
  switch (l) {
    case StoreLimit::None: return "none";
    case StoreLimit::MaxDiskBytes: return "max_disk_bytes";
    case StoreLimit::MinFreeDisk: return "min_free_disk_bytes";
  }
  return "none";
}

void Broker::check_store_space() {
  written_since_check_ = 0;
  const std::uint64_t max_disk = config_.max_disk_bytes;
  const std::uint64_t min_free = config_.min_free_disk_bytes;
  if (max_disk == 0 && min_free == 0) return;
  const store::StoreSpace sp = store_.space();
  if (!sp.known) return;
  store_space_ = sp;
  // Room for new records without taking more of the filesystem: its free
  // space plus the store's own free pages (LMDB reuses them first; its file
  // never shrinks, so the filesystem alone would keep the alarm on forever).
  const std::uint64_t room = sp.free_disk_bytes + sp.reusable_bytes;
  // A limit once reached holds until 5% below it, so that a drain freeing a
  // message at a time does not flip it on every check.
  const bool in = store_limit_ != StoreLimit::None;
  StoreLimit now = StoreLimit::None;
  if (max_disk != 0 && sp.used_bytes >= (in ? max_disk - max_disk / 20 : max_disk)) {
    now = StoreLimit::MaxDiskBytes;
  } else if (min_free != 0 && room < (in ? min_free + min_free / 20 : min_free)) {
    now = StoreLimit::MinFreeDisk;
  }
  if (now == store_limit_) return;
  auto mib = [](std::uint64_t b) { return double(b) / (1u << 20); };
  if (now == StoreLimit::MaxDiskBytes) {
    log::warning("store: %.1f MiB of records reached store.max_disk_bytes (%.1f MiB): publishes that would write "
                 "(QoS >= 1, retained, queues) are refused until consumers free space",
                 mib(sp.used_bytes), mib(max_disk));
  } else if (now == StoreLimit::MinFreeDisk) {
    log::warning("store: %.1f MiB free on disk (+ %.1f MiB reusable in the store) is below "
                 "store.min_free_disk_bytes (%.1f MiB): publishes that would write (QoS >= 1, retained, queues) "
                 "are refused until space is freed",
                 mib(sp.free_disk_bytes), mib(sp.reusable_bytes), mib(min_free));
  } else {
    log::notice("store: back under its limits (%.1f MiB of records, %.1f MiB free on disk): publishes accepted "
                "again (%llu refused meanwhile and before)",
                mib(sp.used_bytes), mib(sp.free_disk_bytes), static_cast<unsigned long long>(stats_.refused_disk));
  }
  store_limit_ = now;
}

void Broker::on_store_completed() { persistence_.on_completed(); }

void Broker::shutdown() {
  shutting_down_ = true;
  for (Session* s : sessions_) {
    if (s->persistent()) {
      if (s->disconnected_wall_ms == 0) s->disconnected_wall_ms = clock_.wall_ms();
      persist_session(s);
    }
  }
  dedup_.write_pending();
  persistence_.flush();
  store_.flush();
  persistence_.on_completed();
}

}  // namespace junction::core
