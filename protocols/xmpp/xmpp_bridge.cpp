// JIDs, their core sessions and subscriptions; deliveries out as PubSub
// event notifications and chat messages; stanza dispatch.
#include "xmpp_bridge.h"

#include "broker.h"
#include "log.h"
#include "topic.h"
#include "xmpp_component.h"
#include "xmpp_names.h"
#include "xmpp_payload.h"

namespace junction::xmpp {

namespace {
constexpr std::string_view kNsPubsubEvent = "http://jabber.org/protocol/pubsub#event";
constexpr std::uint32_t kNeverExpires = 0xFFFFFFFF;
}  // namespace

bool XmppBridge::JidSink::can_deliver() const {
  return bridge.component_ != nullptr && bridge.component_->queued_bytes() < bridge.options_.outbound_limit;
}

XmppBridge::XmppBridge(core::Broker& broker, XmppOptions options) : broker_(broker), options_(std::move(options)) {
  broker_.register_protocol(kXmppProtocol, "xmpp");
  // Sessions restored from the store: the JIDs subscribed before a restart.
  for (core::Session* s : broker_.sessions_with_prefix(kClientIdPrefix)) {
    const std::string jid = s->client_id.substr(kClientIdPrefix.size());
    s->set_queue_limit(options_.offline_limit, false);
    jids_.emplace(jid, std::make_unique<JidSink>(*this, jid));
  }
  if (!jids_.empty()) log::info("xmpp: %zu subscribed JIDs restored", jids_.size());
}

XmppBridge::~XmppBridge() {
  for (XmppComponent* c : connections_) c->bridge_gone();
  for (auto& [jid, j] : jids_) {
    if (j->session) broker_.detach(j->session, core::DetachKind::Normal, kNeverExpires);
    j->session = nullptr;
  }
}

std::unique_ptr<core::ProtocolHandler> XmppBridge::create(core::ConnectionSink& sink) {
  auto c = std::make_unique<XmppComponent>(*this, sink);
  connections_.push_back(c.get());
  return c;
}

std::size_t XmppBridge::offline_depth() const {
  std::size_t n = 0;
  for (const auto& [jid, j] : jids_) {
    if (const core::Session* s = broker_.find_session(j->client_id)) n += s->queued();
  }
  return n;
}

void XmppBridge::shutdown() {
  for (XmppComponent* c : connections_) c->shutdown();
}

// ------------------------------------------------------------ lifecycle ----

void XmppBridge::on_ready(XmppComponent* c) {
  component_ = c;
  for (auto& [jid, j] : jids_) attach(*j);
  probe_presence();
  for (auto& [jid, j] : jids_)
    if (j->session) broker_.start_delivery(j->session);
}

void XmppBridge::on_down(XmppComponent* c) {
  std::erase(connections_, c);
  if (component_ != c) return;
  component_ = nullptr;
  available_.clear();  // presence is learned again after the next handshake
  for (auto& [jid, j] : jids_) {
    if (j->session) broker_.detach(j->session, core::DetachKind::Normal, kNeverExpires);
    j->session = nullptr;
  }
}

void XmppBridge::on_drained() {
  for (auto& [jid, j] : jids_)
    if (j->session) broker_.resume(j->session);
}

void XmppBridge::send(const Element& stanza) {
  if (component_ == nullptr) return;
  scratch_.clear();
  serialize(stanza, scratch_, kNsComponent);
  component_->write(scratch_);
}

void XmppBridge::on_stanza(const Element& stanza) {
  if (stanza.ns != kNsComponent) return;  // not a stanza (RFC 6120 §8: ignore)
  if (stanza.name == "iq") {
    handle_iq(stanza);
  } else if (stanza.name == "message") {
    handle_message(stanza);
  } else if (stanza.name == "presence") {
    handle_presence(stanza);
  }
}

// -------------------------------------------------------- subscriptions ----

XmppBridge::JidSink* XmppBridge::find_jid(std::string_view jid) {
  auto it = jids_.find(jid);
  return it == jids_.end() ? nullptr : it->second.get();
}

XmppBridge::JidSink& XmppBridge::jid_sink(std::string_view jid) {
  auto it = jids_.find(jid);
  if (it == jids_.end()) it = jids_.emplace(std::string(jid), std::make_unique<JidSink>(*this, std::string(jid))).first;
  if (component_ && !it->second->session) attach(*it->second);
  return *it->second;
}

void XmppBridge::attach(JidSink& j) {
  core::ConnectRequest req;
  req.client_id = j.client_id;
  req.clean_start = false;
  req.session_expiry_s = kNeverExpires;
  req.protocol = kXmppProtocol;
  req.sink = &j;
  j.session = broker_.attach(req).session;
  j.session->set_queue_limit(options_.offline_limit, false);
}

bool XmppBridge::add_subscription(JidSink& j, std::string_view filter, std::uint32_t kind) {
  if (!j.session) return false;
  std::uint32_t bits = kind;
  bool existed = false;
  if (auto it = j.session->subscriptions().find(filter); it != j.session->subscriptions().end()) {
    existed = true;
    bits |= it->second.subscription_id;
  }
  core::SubscriptionOptions o;
  o.qos = 0;
  o.retain_handling = existed ? 2 : 1;  // the retained message once, on a new subscription
  o.subscription_id = bits;
  return broker_.subscribe(j.session, filter, o) == core::SubscribeStatus::Granted;
}

bool XmppBridge::remove_subscription(JidSink& j, std::string_view filter, std::uint32_t kind) {
  if (!j.session) return false;
  auto it = j.session->subscriptions().find(filter);
  if (it == j.session->subscriptions().end() || (it->second.subscription_id & kind) == 0) return false;
  const std::uint32_t bits = it->second.subscription_id & ~kind;
  if (bits == 0) {
    broker_.unsubscribe(j.session, filter);
  } else {
    core::SubscriptionOptions o = it->second;
    o.retain_handling = 2;
    o.subscription_id = bits;
    broker_.subscribe(j.session, filter, o);
  }
  forget_if_empty(j);
  return true;
}

void XmppBridge::forget_if_empty(JidSink& j) {
  if (!j.session || !j.session->subscriptions().empty()) return;
  broker_.detach(j.session, core::DetachKind::Normal, 0);  // ends the session and its records
  jids_.erase(j.jid);
}

// ----------------------------------------------------------- deliveries ----

core::DeliverResult XmppBridge::deliver(JidSink& j, const core::Delivery& d) {
  if (!j.session || component_ == nullptr) return core::DeliverResult::Discarded;
  const core::Message& m = d.msg;
  for (const auto& [filter, opts] : j.session->subscriptions()) {
    if (!core::topic_matches(filter, m.topic)) continue;
    std::string body;
    if (opts.subscription_id & kPubsub) {
      // XEP-0060 §7.1.2.1: an event notification with the item.
      Element msg(kNsComponent, "message");
      msg.set("from", options_.component).set("to", j.jid).set("type", "headline");
      msg.set("id", "jn" + std::to_string(next_id_++));
      Element& items = msg.add(kNsPubsubEvent, "event").add("items");
      items.set("node", topic_to_node(filter));
      Element& item = items.add("item");
      item.set("id", std::to_string(m.id));
      item.children.push_back(encode_payload(m, true, body));
      send(msg);
    }
    if ((opts.subscription_id & kChat) && available(bare_jid(j.jid))) {
      Element msg(kNsComponent, "message");
      msg.set("from", topic_to_localpart(filter) + "@" + options_.component).set("to", j.jid).set("type", "chat");
      msg.set("id", "jn" + std::to_string(next_id_++));
      Element meta = encode_payload(m, false, body);
      msg.add("body").text = std::move(body);
      msg.children.push_back(std::move(meta));
      send(msg);
    }
  }
  return core::DeliverResult::Sent;
}

void XmppBridge::publish(std::string_view from, std::string_view topic, core::MessageRef msg) {
  core::Message& m = *msg;
  m.topic.assign(topic);
  m.qos = options_.qos;
  m.origin_client = std::string(kClientIdPrefix) + std::string(bare_jid(from));
  m.origin_protocol = kXmppProtocol;
  const core::PublishResult r = broker_.publish(msg, nullptr);
  if (r.quota_exceeded) {
    log::debug("xmpp: a subscriber of %.*s could not take a message from %.*s", int(topic.size()), topic.data(),
               int(from.size()), from.data());
  }
}

}  // namespace junction::xmpp
