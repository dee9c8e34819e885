// Messages to <escaped-topic>@<component> publish their body; presence
// subscriptions to <escaped-topic>@<component> subscribe the bare JID to
// that topic (or filter) as chat messages, delivered while the JID has an
// available resource (RFC 6121 presence, tracked here).
#include "broker.h"
#include "log.h"
#include "topic.h"
#include "xmpp_bridge.h"
#include "xmpp_names.h"
#include "xmpp_payload.h"

namespace junction::xmpp {

namespace {
constexpr std::string_view kNsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
}  // namespace

void XmppBridge::stanza_error(const Element& s, std::string_view type, std::string_view condition,
                              std::string_view text) {
  Element r(kNsComponent, s.name);
  r.set("type", "error");
  if (const std::string* id = s.attr("id")) r.set("id", *id);
  r.set("from", s.attr_or("to", options_.component)).set("to", s.attr_or("from"));
  Element& e = r.add("error");
  e.set("type", type);
  e.add(kNsStanzas, condition);
  if (!text.empty()) e.add(kNsStanzas, "text").text.assign(text);
  send(r);
}

void XmppBridge::handle_message(const Element& msg) {
  const std::string_view type = msg.attr_or("type", "normal");
  if (type == "error") return;  // never answer an error (RFC 6120 §8.3.1)
  const Element* body = msg.child("body", kNsComponent);
  const Element* meta = msg.child("junction", kNsJunction);
  if (body == nullptr && meta == nullptr) return;  // chat states, receipts...: nothing to publish
  Jid to;
  if (!parse_jid(msg.attr_or("to"), to) || to.local.empty()) {
    stanza_error(msg, "cancel", "service-unavailable", "send messages to <topic>@" + options_.component);
    return;
  }
  const std::string topic = localpart_to_topic(to.local);
  if (!core::valid_topic_name(topic) || topic.starts_with(core::kQueueTopicPrefix)) {
    stanza_error(msg, "modify", "jid-malformed", "not a topic name");
    return;
  }
  if (!topic_in_scope(topic)) {
    stanza_error(msg, "auth", "forbidden", "topic outside the bridge's scope");
    return;
  }
  core::MessageRef m = broker_.make_message();
  if (!decode_payload(meta, body ? body->text : std::string(), *m)) {
    stanza_error(msg, "modify", "bad-request", "payload is not valid base64");
    return;
  }
  publish(msg.attr_or("from"), topic, std::move(m));
}

void XmppBridge::send_presence(std::string_view from, std::string_view to, std::string_view type) {
  Element p(kNsComponent, "presence");
  p.set("from", from).set("to", to);
  if (!type.empty()) p.set("type", type);
  send(p);
}

void XmppBridge::handle_presence(const Element& p) {
  const std::string_view type = p.attr_or("type");
  const std::string_view from = p.attr_or("from");
  const std::string_view to = p.attr_or("to");
  const std::string_view bare = bare_jid(from);
  Jid to_jid;
  if (from.empty() || !parse_jid(to, to_jid)) return;

  if (type.empty() || type == "unavailable") {
    // Availability of one resource (a bare JID stands for all of them).
    if (type.empty()) {
      available_[std::string(bare)].emplace(from);
    } else if (auto it = available_.find(bare); it != available_.end()) {
      if (from == bare) {
        available_.erase(it);
      } else {
        it->second.erase(std::string(from));
        if (it->second.empty()) available_.erase(it);
      }
    }
    return;
  }
  if (type == "error") {
    available_.erase(std::string(bare));
    return;
  }
  if (to_jid.local.empty()) return;  // presence subscriptions are for topic JIDs
  const std::string filter = localpart_to_topic(to_jid.local);
  const std::string contact = std::string(to_jid.local) + "@" + options_.component;
  if (type == "subscribe") {
    if (!core::valid_topic_filter(filter) || filter.starts_with("$share/") ||
        filter.starts_with(core::kQueueTopicPrefix) || !filter_in_scope(filter)) {
      send_presence(contact, bare, "unsubscribed");  // RFC 6121 §3.2: refuse
      return;
    }
    JidSink& j = jid_sink(bare);
    if (!add_subscription(j, filter, kChat)) {
      forget_if_empty(j);
      send_presence(contact, bare, "unsubscribed");
      return;
    }
    send_presence(contact, bare, "subscribed");
    send_presence(contact, bare, "");  // the topic is "online"
    // Ask for the user's presence in return: chat messages go only to an
    // available JID, and the server tells us about it only once subscribed.
    send_presence(contact, bare, "subscribe");
  } else if (type == "unsubscribe") {
    if (JidSink* j = find_jid(bare)) remove_subscription(*j, filter, kChat);
    send_presence(contact, bare, "unsubscribed");
    send_presence(contact, bare, "unavailable");
  } else if (type == "probe") {
    JidSink* j = find_jid(bare);
    if (j && j->session) {
      auto it = j->session->subscriptions().find(filter);
      if (it != j->session->subscriptions().end() && (it->second.subscription_id & kChat)) {
        send_presence(contact, from, "");
        return;
      }
    }
    send_presence(contact, from, "unsubscribed");
  }
  // "subscribed" / "unsubscribed": answers to our own subscribe; the
  // presence that follows is what counts.
}

void XmppBridge::probe_presence() {
  // After a (re)connect: presence was lost with the old stream; ask again
  // for every JID with chat subscriptions (and say the topics are online).
  for (auto& [jid, j] : jids_) {
    if (!j->session) continue;
    bool probed = false;
    for (const auto& [filter, o] : j->session->subscriptions()) {
      if (!(o.subscription_id & kChat)) continue;
      const std::string contact = topic_to_localpart(filter) + "@" + options_.component;
      send_presence(contact, jid, "");
      if (!probed) send_presence(contact, jid, "probe");
      probed = true;
    }
  }
}

}  // namespace junction::xmpp
