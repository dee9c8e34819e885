#include "amqp_bridge.h"

#include <algorithm>

#include "amqp_message_map.h"
#include "amqp_name_map.h"
#include "log.h"
#include "topic.h"

namespace junction::amqp {

namespace {
constexpr std::uint32_t kNeverExpires = 0xFFFFFFFFu;
constexpr std::int64_t kStatusLogMs = 30000;
}  // namespace

AmqpBridge::AmqpBridge(core::Broker& broker, BridgeOptions options)
    : broker_(broker), opt_(std::move(options)), client_id_("$bridge/" + opt_.name) {
  broker_.register_protocol(kAmqpProtocol, "amqp");
  client_opts_.heartbeat_s = opt_.heartbeat_s;
  client_opts_.prefetch = opt_.prefetch;
  client_opts_.max_body = opt_.max_message_size;
  client_opts_.connection_name = "junction bridge " + opt_.name + " (" + opt_.node_id + ")";
  client_opts_.exchanges = opt_.exchanges;
  for (std::size_t i = 0; i < opt_.inbound.size(); ++i) {
    InboundRule& r = opt_.inbound[i];
    if (r.queue.empty()) r.queue = "junction." + opt_.name + "." + opt_.node_id;
    if (std::none_of(client_opts_.queues.begin(), client_opts_.queues.end(),
                     [&](const QueueDecl& q) { return q.name == r.queue; })) {
      client_opts_.queues.push_back(QueueDecl{r.queue, true});
    }
    if (!r.exchange.empty()) client_opts_.bindings.push_back(BindingDecl{r.queue, r.exchange, r.binding_key});
    client_opts_.consume.push_back(r.queue);
  }
}

AmqpBridge::~AmqpBridge() {
  broker_.persistence().cancel(this);
  if (session_ && online_) broker_.detach(session_, core::DetachKind::Normal, kNeverExpires);
}

core::Session* AmqpBridge::attach(core::SessionSink* sink) {
  core::ConnectRequest req;
  req.client_id = client_id_;
  req.clean_start = false;
  req.session_expiry_s = kNeverExpires;
  req.protocol = kAmqpProtocol;
  req.receive_maximum = std::max<std::uint16_t>(1, opt_.max_unconfirmed);
  req.sink = sink;
  core::Session* s = broker_.attach(req).session;
  // 0 would mean "the broker's per-session limit" to the session: the
  // outbox's "no limit" is the largest count instead.
  s->set_queue_limit(opt_.outbox_max ? opt_.outbox_max : UINT32_MAX, opt_.outbox_drop_oldest);
  return s;
}

void AmqpBridge::start() {
  session_ = attach(this);
  // Subscriptions follow the configuration: stale ones (a rule removed) go.
  std::vector<std::string> stale;
  for (const auto& [filter, o] : session_->subscriptions()) {
    if (std::none_of(opt_.outbound.begin(), opt_.outbound.end(), [&](const OutboundRule& r) { return r.filter == filter; }))
      stale.push_back(filter);
  }
  for (const std::string& f : stale) broker_.unsubscribe(session_, f);
  for (const OutboundRule& r : opt_.outbound) {
    core::SubscriptionOptions o;
    o.qos = r.qos;
    o.no_local = true;          // what the bridge itself brought in is not sent back
    o.retain_handling = 2;      // retained messages are not replayed upstream on (re)subscribe
    if (broker_.subscribe(session_, r.filter, o) != core::SubscribeStatus::Granted)
      log::error("bridge %s: cannot subscribe to '%s'", opt_.name.c_str(), r.filter.c_str());
  }
  // Offline until the upstream is ready: publishes wait in the session.
  broker_.detach(session_, core::DetachKind::Normal, kNeverExpires);
  session_ = broker_.find_session(client_id_);
  online_ = false;
  log::notice("bridge %s: node %s, %zu outbound and %zu inbound rules, outbox %zu messages waiting",
              opt_.name.c_str(), opt_.node_id.c_str(), opt_.outbound.size(), opt_.inbound.size(), outbox_depth());
}

std::size_t AmqpBridge::outbox_depth() const {
  core::Session* s = broker_.find_session(client_id_);
  return s ? s->queued() : 0;
}

std::unique_ptr<core::ProtocolHandler> AmqpBridge::create(core::ConnectionSink& sink) {
  // Credentials and vhost of the upstream this connection went to.
  const AmqpUri* u = opt_.upstreams.empty() ? nullptr : &opt_.upstreams.front();
  if (probe_) {
    const auto [host, port] = probe_();
    for (const AmqpUri& x : opt_.upstreams)
      if (x.host == host && x.port == port) u = &x;
  }
  if (u) {
    client_opts_.user = u->user;
    client_opts_.password = u->password;
    client_opts_.vhost = u->vhost;
  }
  ++generation_;
  ClientEvents& events = *this;
  auto c = std::make_unique<AmqpClient>(sink, client_opts_, events, broker_.clock().now_ms());
  client_ = c.get();
  return c;
}

void AmqpBridge::amqp_ready() {
  ++stats_.connects;
  confirms_.clear();
  parts_.clear();
  part_failed_.clear();
  session_ = attach(this);
  online_ = true;
  last_error_.clear();
  log_state("connected");
  broker_.start_delivery(session_);
}

void AmqpBridge::amqp_closed(const std::string& why) {
  client_ = nullptr;
  last_error_ = why;
  if (online_) {
    online_ = false;
    // In-flight entries stay in the session and go again (same message-id) after the next connect.
    if (session_) broker_.detach(session_, core::DetachKind::Normal, kNeverExpires);
    session_ = broker_.find_session(client_id_);
    log_state("disconnected");
  }
  confirms_.clear();
  parts_.clear();
  part_failed_.clear();
  // Unacked deliveries go back to their queue upstream; forget their tags.
  acks_.clear();
  requeue_.clear();
}

void AmqpBridge::log_state(const char* event) {
  log::notice("bridge %s: %s; outbox %zu, confirms pending %zu%s%s", opt_.name.c_str(), event, outbox_depth(),
              confirms_.size(), last_error_.empty() ? "" : ", last error: ", last_error_.c_str());
  last_status_log_ms_ = broker_.clock().now_ms();
}

void AmqpBridge::tick() {
  const std::int64_t now = broker_.clock().now_ms();
  if (!online_ && now - last_status_log_ms_ >= kStatusLogMs && outbox_depth() > 0) log_state("waiting for upstream");
  for (const auto& [tag, gen] : requeue_) {
    if (client_ && gen == generation_) client_->nack(tag, true);
  }
  requeue_.clear();
  if (core::Session* s = broker_.find_session(client_id_); s && s->dropped_oldest() != dropped_oldest_logged_) {
    log::warning("bridge %s: outbox full (%u messages): %llu oldest messages dropped so far", opt_.name.c_str(),
                 unsigned(opt_.outbox_max), static_cast<unsigned long long>(s->dropped_oldest()));
    dropped_oldest_logged_ = s->dropped_oldest();
  }
}

void AmqpBridge::shutdown() {
  if (client_) client_->close("shutdown");
}

bool AmqpBridge::can_deliver() const {
  return online_ && client_ != nullptr && client_->can_publish() && confirms_.size() < opt_.max_unconfirmed;
}

void AmqpBridge::session_taken_over() {
  log::error("bridge %s: another client took over the session %s", opt_.name.c_str(), client_id_.c_str());
  online_ = false;
  session_ = nullptr;
  if (client_) client_->close("session taken over");
}

core::DeliverResult AmqpBridge::deliver(const core::Delivery& d) {
  if (!client_ || !client_->ready()) return core::DeliverResult::Discarded;  // cannot happen while online
  const core::Message& m = d.msg;
  const std::int64_t now = broker_.clock().wall_ms();
  BasicProperties props = to_amqp_properties(m, opt_.node_id, now);
  props.delivery_mode = d.qos > 0 ? 2 : 1;
  std::uint32_t sent = 0;
  for (const OutboundRule& r : opt_.outbound) {
    if (!core::topic_matches(r.filter, m.topic)) continue;
    std::optional<std::string> key = topic_to_routing_key(m.topic);
    if (key) key = expand_routing_key(r.routing_key, *key);
    if (!key) {
      log::warning("bridge %s: routing key for topic '%s' is over 255 octets; not exported", opt_.name.c_str(),
                   m.topic.c_str());
      continue;
    }
    const std::uint64_t seq = client_->publish(r.exchange, *key, props, m.payload, r.mandatory);
    if (seq == 0) continue;
    ++stats_.published;
    confirms_[seq] = d.packet_id;
    ++sent;
  }
  if (sent == 0) return core::DeliverResult::Discarded;
  if (d.packet_id != 0) {
    parts_[d.packet_id] = sent;
    part_failed_.erase(d.packet_id);
  }
  return core::DeliverResult::Sent;
}

void AmqpBridge::settle(std::uint64_t seq, bool ack, std::vector<std::uint16_t>& done) {
  auto it = confirms_.find(seq);
  if (it == confirms_.end()) return;
  const std::uint16_t pid = it->second;
  confirms_.erase(it);
  if (ack) ++stats_.confirmed; else ++stats_.nacked;
  if (pid == 0) return;
  if (!ack) part_failed_[pid] = true;
  auto p = parts_.find(pid);
  if (p == parts_.end() || --p->second > 0) return;
  parts_.erase(p);
  if (part_failed_.erase(pid) == 0) done.push_back(pid);
}

void AmqpBridge::amqp_confirm(std::uint64_t seq, bool ack, bool multiple) {
  std::vector<std::uint16_t> done;
  if (multiple) {
    std::vector<std::uint64_t> seqs;
    for (auto it = confirms_.begin(); it != confirms_.end() && it->first <= seq; ++it) seqs.push_back(it->first);
    for (std::uint64_t s : seqs) settle(s, ack, done);
  } else {
    settle(seq, ack, done);
  }
  if (!ack) {
    // The server could not take it (internal error): keep the entry and
    // send it again on a fresh connection rather than drop it.
    log::warning("bridge %s: upstream nacked publish %llu; reconnecting to resend", opt_.name.c_str(),
                 static_cast<unsigned long long>(seq));
    last_error_ = "publish nacked";
    if (client_) client_->close("publish nacked");
  }
  if (!online_ || !session_) return;
  for (std::uint16_t pid : done) broker_.complete_delivery(session_, pid);
}

void AmqpBridge::amqp_returned(const BasicReturn& r) {
  ++stats_.returned;
  log::warning("bridge %s: upstream returned a message: %u %s (exchange '%s', routing key '%s')", opt_.name.c_str(),
               unsigned(r.reply_code), r.reply_text.c_str(), r.exchange.c_str(), r.routing_key.c_str());
}

void AmqpBridge::amqp_blocked(bool blocked, const std::string& reason) {
  if (blocked) {
    last_error_ = "blocked: " + reason;
    log_state("upstream blocked publishing");
  } else {
    log_state("upstream unblocked");
    if (online_ && session_) broker_.resume(session_);
  }
}

void AmqpBridge::amqp_drained() {
  if (online_ && session_) broker_.resume(session_);
}

void AmqpBridge::amqp_delivery(IncomingMessage& in) {
  ++stats_.received;
  if (in.consumer >= opt_.inbound.size() || !client_) return;
  const InboundRule& rule = opt_.inbound[in.consumer];
  if (!opt_.node_id.empty() && origin_of(in.properties) == opt_.node_id) {
    ++stats_.looped;  // our own export came back: local subscribers already have it
    client_->ack(in.delivery_tag);
    return;
  }
  core::MessageRef msg = broker_.make_message();
  if (!rule.local_queue.empty()) {
    msg->topic = std::string(core::kQueueTopicPrefix) + rule.local_queue;
  } else {
    msg->topic = rule.topic_prefix + routing_key_to_topic(in.routing_key);
    if (!core::valid_topic_name(msg->topic) || msg->topic.front() == '$') {
      ++stats_.dropped_inbound;
      log::warning("bridge %s: routing key '%s' gives no valid topic; delivery dropped", opt_.name.c_str(),
                   in.routing_key.c_str());
      client_->ack(in.delivery_tag);
      return;
    }
  }
  msg->payload = std::move(in.body);
  msg->qos = rule.qos;
  msg->origin_client = client_id_;
  msg->origin_protocol = kAmqpProtocol;
  from_amqp_properties(in.properties, *msg, broker_.clock().wall_ms());
  if (opt_.dedup && in.properties.message_id && !in.properties.message_id->empty()) {
    msg->mutable_props().user_properties.push_back(
        core::UserProperty{std::string(core::kDedupProperty), std::string(*in.properties.message_id)});
  }
  const core::PublishResult res = broker_.publish(msg, online_ ? session_ : nullptr);
  if (res.quota_exceeded && rule.qos > 0) {
    // Some local session or queue is full: leave the message upstream.
    ++stats_.refused_inbound;
    if (requeue_.empty()) {
      log::warning("bridge %s: a local session or queue is full; deliveries go back upstream", opt_.name.c_str());
    }
    requeue_.emplace_back(in.delivery_tag, generation_);
    return;
  }
  // Acked once the batch holding its copies has committed.
  acks_.push_back(PendingAck{broker_.persistence().ticket(), in.delivery_tag, generation_});
  broker_.persistence().wait(this);
}

void AmqpBridge::on_commit() {
  core::Persistence& p = broker_.persistence();
  while (!acks_.empty() && p.committed(acks_.front().ticket)) {
    const PendingAck a = acks_.front();
    acks_.pop_front();
    if (!client_ || a.generation != generation_) continue;
    if (p.failed(a.ticket)) {
      client_->nack(a.delivery_tag, true);
    } else {
      client_->ack(a.delivery_tag);
    }
  }
  if (!acks_.empty()) p.wait(this);
}

}  // namespace junction::amqp
