// SUBSCRIBE / UNSUBSCRIBE: topic subscriptions through Broker::subscribe
// (one core subscription per distinct filter), queue subscriptions through
// the QueueManager; temporary queues and their clean-up.
#include <charconv>

#include "log.h"
#include "stomp_connection.h"
#include "topic.h"

namespace junction::stomp {

namespace {

core::AckMode queue_ack_mode(std::uint8_t kind) {
  switch (kind) {
    case 1: return core::AckMode::Cumulative;  // client
    case 2: return core::AckMode::Individual;  // client-individual
    default: return core::AckMode::Auto;
  }
}

// Consumes a temporary queue's leftovers when its connection ends.
class DrainConsumer final : public core::QueueConsumer {
 public:
  void queue_deliver(core::QueueSubscription&, const core::MessageRef&, std::uint64_t, std::uint32_t) override {}
};

}  // namespace

void StompConnection::Subscription::queue_deliver(core::QueueSubscription& sub, const core::MessageRef& m,
                                                  std::uint64_t tag, std::uint32_t deliveries) {
  // QueueManager::subscribe dispatches before it returns the subscription.
  if (qsub == nullptr) qsub = &sub;
  conn.write_message(*this, *m, tag, deliveries, false);
}

bool StompConnection::may_access(std::string_view core_name, core::Access a) const {
  const core::AccessControl* acl = broker().acl();
  if (acl == nullptr) return true;
  const core::Principal who = session_->identity().principal(client_id_);
  if (a != core::Access::Subscribe) return acl->allowed(who, core_name, a);
  std::string_view group, plain;
  const core::SharedParse sp = core::split_shared(core_name, group, plain);
  if (sp == core::SharedParse::Invalid) return true;  // refused later as an invalid filter
  if (sp == core::SharedParse::NotShared) plain = core_name;
  if (!core::valid_topic_filter(plain)) return true;
  return acl->subscribe_access(who, plain) != core::FilterAccess::Denied;
}

StompConnection::Subscription* StompConnection::find_subscription(std::string_view id) {
  for (auto& s : subs_)
    if (s->id == id) return s.get();
  return nullptr;
}

StompConnection::Subscription* StompConnection::find_subscription(std::uint32_t num) {
  for (auto& s : subs_)
    if (s->num == num) return s.get();
  return nullptr;
}

void StompConnection::handle_subscribe(const StompFrame& f) {
  const std::string_view* dest = f.header("destination");
  if (!dest) {
    fail("missing destination header", "SUBSCRIBE needs a destination");
    return;
  }
  std::string_view id;
  if (const std::string_view* h = f.header("id")) {
    id = *h;
  } else if (version_ == Version::V1_0) {
    id = *dest;  // 1.0 makes the id optional: the destination names the subscription
  } else {
    fail("missing id header", "SUBSCRIBE needs an id in STOMP 1.1 and 1.2");
    return;
  }
  if (Subscription* old = find_subscription(id)) {
    if (!old->implicit) {
      fail("duplicate subscription id", id);
      return;
    }
    remove_subscription(old);  // the client now subscribes to its reply queue itself
  }
  if (subs_.size() >= proto().options().max_subscriptions) {
    fail("too many subscriptions on one connection");
    return;
  }
  AckKind ack = AckKind::Auto;
  if (const std::string_view* a = f.header("ack")) {
    if (*a == "client") {
      ack = AckKind::Client;
    } else if (*a == "client-individual") {
      ack = AckKind::ClientIndividual;
    } else if (*a != "auto") {
      fail("invalid ack mode (auto, client or client-individual)", *a);
      return;
    }
  }
  std::uint32_t prefetch = proto().options().default_prefetch;
  if (const std::string_view* pc = f.header("prefetch-count")) {
    const auto r = std::from_chars(pc->data(), pc->data() + pc->size(), prefetch);
    if (r.ec != std::errc() || r.ptr != pc->data() + pc->size()) {
      fail("invalid prefetch-count", *pc);
      return;
    }
  }
  Destination d;
  if (const char* why = parse_destination(*dest, DestUse::Subscribe, d)) {
    fail(why, *dest);
    return;
  }
  const bool allowed = d.kind == DestKind::Topic   ? may_access(d.name, core::Access::Subscribe)
                       : d.kind == DestKind::Queue ? may_access(std::string(kCoreQueuePrefix) + std::string(d.name),
                                                                core::Access::Read)
                                                   : true;  // temporary queues: see stomp_handle_send.cpp
  if (!allowed) {
    log::debug("stomp %s: client '%s' (user '%s') may not subscribe to %.*s", sink_.info().peer_address.c_str(),
               client_id_.c_str(), session_->identity().user.c_str(), int(dest->size()), dest->data());
    fail("access refused", *dest);
    return;
  }
  add_subscription(id, *dest, d, ack, prefetch, false);
}

StompConnection::Subscription* StompConnection::add_subscription(std::string_view id, std::string_view destination,
                                                                 const Destination& d, AckKind ack,
                                                                 std::uint32_t prefetch, bool implicit) {
  auto owned = std::make_unique<Subscription>(*this);
  Subscription* s = owned.get();
  s->id.assign(id);
  s->destination.assign(destination);
  s->num = next_sub_num_++;
  s->kind = d.kind;
  s->ack = ack;
  s->implicit = implicit;
  // Both came from headers of this version, so they can be written back.
  const HeaderEscape e = header_escape(version_);
  append_header("subscription", s->id, e, s->head);
  if (d.kind != DestKind::Topic) append_header("destination", s->destination, e, s->head);

  if (d.kind == DestKind::Topic) {
    std::string filter(d.name);
    std::size_t free_slot = slots_.size();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].filter == filter) {
        // Same filter as another subscription: the core already delivers it
        // to this slot; only the retained messages are this one's own.
        slots_[i].subs.push_back(s);
        s->slot = std::uint32_t(i + 1);
        subs_.push_back(std::move(owned));
        std::string_view group, plain;
        if (core::split_shared(filter, group, plain) == core::SharedParse::NotShared) {
          const std::int64_t now = broker().clock().wall_ms();
          broker().retained().match(filter, [&](const core::MessageRef& m) {
            if (!m->expired(now) && can_deliver() && broker().may_deliver(session_, m->topic))
              write_message(*s, *m, m->id, 1, true);
          });
        }
        return s;
      }
      if (slots_[i].filter.empty() && free_slot == slots_.size()) free_slot = i;
    }
    if (free_slot == slots_.size()) slots_.emplace_back();
    slots_[free_slot].filter = filter;
    slots_[free_slot].subs.assign(1, s);
    s->slot = std::uint32_t(free_slot + 1);
    subs_.push_back(std::move(owned));
    core::SubscriptionOptions o;
    o.qos = 0;  // topic deliveries are fire-and-forget; see the header comment
    o.subscription_id = s->slot;
    // Retained messages are delivered from inside subscribe(), marked retained.
    if (broker().subscribe(session_, filter, o) != core::SubscribeStatus::Granted) {
      remove_subscription(s);
      fail("invalid topic filter", destination);
      return nullptr;
    }
    return s;
  }

  std::string name = core_queue_name(d, owner());
  if (name.empty()) {
    fail("temporary queue name too long", destination);
    return nullptr;
  }
  if (is_foreign_temp_queue(name, owner())) {
    fail("temporary queue of another connection", destination);
    return nullptr;
  }
  note_temp_queue(name);
  // An implicit reply subscription gives way to the client's own.
  for (std::size_t i = 0; i < subs_.size(); ++i) {
    if (subs_[i]->implicit && subs_[i]->queue == name) {
      remove_subscription(subs_[i].get());
      break;
    }
  }
  s->queue = std::move(name);
  subs_.push_back(std::move(owned));
  // Messages may be dispatched to `s` from inside subscribe().
  core::QueueSubscription* q =
      broker().queues().subscribe(s->queue, s, queue_ack_mode(std::uint8_t(ack)), ack == AckKind::Auto ? 0 : prefetch);
  if (q == nullptr) {
    remove_subscription(s);
    fail("invalid queue name", destination);
    return nullptr;
  }
  s->qsub = q;
  return s;
}

void StompConnection::remove_subscription(Subscription* s) {
  if (s->kind == DestKind::Topic && s->slot != 0 && s->slot <= slots_.size()) {
    TopicSlot& slot = slots_[s->slot - 1];
    std::erase(slot.subs, s);
    if (slot.subs.empty()) {
      if (session_) broker().unsubscribe(session_, slot.filter);
      slot.filter.clear();
    }
  } else if (s->qsub) {
    core::QueueSubscription* q = s->qsub;
    s->qsub = nullptr;
    broker().queues().unsubscribe(q);  // unacknowledged messages go back to the queue
  }
  for (std::size_t i = 0; i < subs_.size(); ++i) {
    if (subs_[i].get() == s) {
      subs_.erase(subs_.begin() + std::ptrdiff_t(i));
      break;
    }
  }
}

void StompConnection::handle_unsubscribe(const StompFrame& f) {
  Subscription* s = nullptr;
  if (const std::string_view* id = f.header("id")) {
    s = find_subscription(*id);
  } else if (const std::string_view* dest = f.header("destination"); dest && version_ == Version::V1_0) {
    s = find_subscription(*dest);
    for (std::size_t i = 0; !s && i < subs_.size(); ++i) {
      if (subs_[i]->destination == *dest) s = subs_[i].get();
    }
  } else {
    fail("missing id header", "UNSUBSCRIBE needs the subscription id");
    return;
  }
  if (s == nullptr) {
    log::debug("stomp %s: UNSUBSCRIBE of an unknown subscription", client_id_.c_str());
    return;
  }
  remove_subscription(s);
}

void StompConnection::ensure_reply_queue(const core::Message& m) {
  // reply-to: /temp-queue/<n> subscribes this connection to <n> (as
  // RabbitMQ does), so replies arrive even without an explicit SUBSCRIBE.
  if (!headers_depend_on_owner(m, owner())) return;
  const std::string_view queue = std::string_view(m.props().response_topic).substr(kCoreQueuePrefix.size());
  for (const auto& s : subs_)
    if (s->kind != DestKind::Topic && s->queue == queue) return;
  if (subs_.size() >= proto().options().max_subscriptions) return;
  const std::string_view name = queue.substr(kTempQueueCorePrefix.size() + owner().size() + 1);
  std::string dest(kTempQueuePrefix);
  dest.append(name);
  if (find_subscription(dest)) return;
  add_subscription(dest, dest, Destination{DestKind::TempQueue, name}, AckKind::Auto, 0, true);
}

void StompConnection::note_temp_queue(std::string_view queue) {
  if (queue.substr(0, kTempQueueCorePrefix.size()) != kTempQueueCorePrefix) return;
  for (const std::string& t : temp_queues_)
    if (t == queue) return;
  temp_queues_.emplace_back(queue);
}

void StompConnection::drain_temp_queues() {
  // QueueManager has no "delete queue": what is left in this connection's
  // temporary queues is consumed and forgotten, so nobody else reads it
  // and it does not wait in the store.
  DrainConsumer drain;
  for (const std::string& name : temp_queues_) {
    if (core::QueueSubscription* q = broker().queues().subscribe(name, &drain, core::AckMode::Auto, 0)) {
      broker().queues().unsubscribe(q);
    }
  }
  temp_queues_.clear();
}

}  // namespace junction::stomp
