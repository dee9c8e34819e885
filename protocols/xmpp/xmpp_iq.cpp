// IQ handling: PubSub (XEP-0060) on the component domain, service discovery
// (XEP-0030), ping (XEP-0199), version (XEP-0092). Every get/set gets a
// result or an error (RFC 6120 §8.2.3), so no client ever times out.
#include "broker.h"
#include "log.h"
#include "topic.h"
#include "xmpp_bridge.h"
#include "xmpp_names.h"
#include "xmpp_payload.h"

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace junction::xmpp {

namespace {

constexpr std::string_view kNsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr std::string_view kNsPubsub = "http://jabber.org/protocol/pubsub";
constexpr std::string_view kNsPubsubErrors = "http://jabber.org/protocol/pubsub#errors";
constexpr std::string_view kNsPubsubOwner = "http://jabber.org/protocol/pubsub#owner";
constexpr std::string_view kNsDiscoInfo = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kNsDiscoItems = "http://jabber.org/protocol/disco#items";
constexpr std::string_view kNsPing = "urn:xmpp:ping";
constexpr std::string_view kNsVersion = "jabber:iq:version";

constexpr std::string_view kPubsubFeatures[] = {
    "create-nodes", "auto-create", "publish", "subscribe", "retrieve-items", "retrieve-subscriptions",
};

void add_feature(Element& q, std::string_view var) { q.add("feature").set("var", var); }

}  // namespace

void XmppBridge::iq_result(const Element& iq, Element* payload) {
  Element r(kNsComponent, "iq");
  r.set("type", "result").set("id", iq.attr_or("id"));
  r.set("from", iq.attr_or("to", options_.component)).set("to", iq.attr_or("from"));
  if (payload) r.children.push_back(std::move(*payload));
  send(r);
}

void XmppBridge::iq_error(const Element& iq, std::string_view type, std::string_view condition,
                          std::string_view app_condition, std::string_view feature) {
  Element r(kNsComponent, "iq");
  r.set("type", "error").set("id", iq.attr_or("id"));
  r.set("from", iq.attr_or("to", options_.component)).set("to", iq.attr_or("from"));
  Element& e = r.add("error");
  e.set("type", type);
  e.add(kNsStanzas, condition);
  if (!app_condition.empty()) {
    Element& app = e.add(kNsPubsubErrors, app_condition);
    if (!feature.empty()) app.set("feature", feature);
  }
  send(r);
}

void XmppBridge::handle_iq(const Element& iq) {
  const std::string_view type = iq.attr_or("type");
  if (type == "result" || type == "error") return;  // we send no requests that need them
  if (type != "get" && type != "set") {
    iq_error(iq, "modify", "bad-request");
    return;
  }
  if (iq.children.size() != 1) {  // RFC 6120 §8.2.3: exactly one payload
    iq_error(iq, "modify", "bad-request");
    return;
  }
  const Element& q = iq.children.front();
  const bool set = type == "set";
  Jid to;
  const bool to_domain = parse_jid(iq.attr_or("to"), to) && to.local.empty();
  if (q.ns == kNsPing && q.name == "ping" && !set) {
    iq_result(iq, nullptr);
  } else if (q.ns == kNsDiscoInfo && q.name == "query" && !set) {
    handle_disco_info(iq, q);
  } else if (q.ns == kNsDiscoItems && q.name == "query" && !set) {
    handle_disco_items(iq, q);
  } else if (q.ns == kNsVersion && q.name == "query" && !set) {
    Element r(kNsVersion, "query");
    r.add("name").text = "Junction";
    r.add("version").text = JUNCTION_VERSION;
    iq_result(iq, &r);
  } else if (q.ns == kNsPubsub && q.name == "pubsub" && to_domain) {
    handle_pubsub(iq, q, set);
  } else if (q.ns == kNsPubsubOwner && to_domain) {
    iq_error(iq, "cancel", "feature-not-implemented", "unsupported", "config-node");
  } else {
    iq_error(iq, "cancel", "service-unavailable");
  }
}

Element XmppBridge::pubsub_item(const core::Message& m) {
  Element item(kNsPubsub, "item");
  item.set("id", std::to_string(m.id));
  std::string body;
  item.children.push_back(encode_payload(m, true, body));
  return item;
}

void XmppBridge::handle_pubsub(const Element& iq, const Element& pubsub, bool set) {
  if (pubsub.children.empty()) {
    iq_error(iq, "modify", "bad-request");
    return;
  }
  const Element& op = pubsub.children.front();
  const std::string_view from = iq.attr_or("from");
  const std::string* node_attr = op.attr("node");
  const std::string node = node_attr ? node_to_topic(*node_attr) : std::string();

  if (op.name == "subscriptions" && !set) {
    Element r(kNsPubsub, "pubsub");
    Element& subs = r.add("subscriptions");
    for (const std::string_view jid : {from, bare_jid(from)}) {
      JidSink* j = find_jid(jid);
      if (!j || !j->session) continue;
      for (const auto& [filter, o] : j->session->subscriptions()) {
        if (!(o.subscription_id & kPubsub)) continue;
        subs.add("subscription").set("node", topic_to_node(filter)).set("jid", jid).set("subscription", "subscribed");
      }
      if (jid == bare_jid(from)) break;
    }
    iq_result(iq, &r);
    return;
  }
  if (!node_attr) {
    iq_error(iq, "modify", "bad-request", "nodeid-required");
    return;
  }

  if (op.name == "subscribe" && set) {
    const std::string_view jid = op.attr_or("jid");
    if (jid.empty() || bare_jid(jid) != bare_jid(from)) {
      iq_error(iq, "modify", "bad-request", "invalid-jid");  // XEP-0060 §6.1.3.1
      return;
    }
    if (!core::valid_topic_filter(node) || node.starts_with("$share/") || node.starts_with(core::kQueueTopicPrefix)) {
      iq_error(iq, "cancel", "item-not-found");
      return;
    }
    if (!filter_in_scope(node)) {
      iq_error(iq, "auth", "forbidden");
      return;
    }
    Element r(kNsPubsub, "pubsub");
    r.add("subscription").set("node", *node_attr).set("jid", jid).set("subscription", "subscribed");
    iq_result(iq, &r);  // before the retained message's notification
    JidSink& j = jid_sink(jid);
    if (!add_subscription(j, node, kPubsub)) {
      log::warning("xmpp: subscription of %.*s to %s could not be stored", int(jid.size()), jid.data(), node.c_str());
      forget_if_empty(j);
    }
    return;
  }
  if (op.name == "unsubscribe" && set) {
    std::string_view jid = op.attr_or("jid", bare_jid(from));
    if (bare_jid(jid) != bare_jid(from)) {
      iq_error(iq, "modify", "bad-request", "invalid-jid");
      return;
    }
    JidSink* j = find_jid(jid);
    if (!j || !remove_subscription(*j, node, kPubsub)) {
      iq_error(iq, "cancel", "unexpected-request", "not-subscribed");
      return;
    }
    iq_result(iq, nullptr);
    return;
  }
  if (op.name == "create" && set) {
    // Nodes exist implicitly: every topic in scope is one.
    if (!core::valid_topic_name(node) || !topic_in_scope(node)) {
      iq_error(iq, "cancel", "not-allowed");
      return;
    }
    iq_result(iq, nullptr);
    return;
  }
  if (op.name == "publish" && set) {
    if (!core::valid_topic_name(node) || node.starts_with(core::kQueueTopicPrefix)) {
      iq_error(iq, "modify", "bad-request");
      return;
    }
    if (!topic_in_scope(node)) {
      iq_error(iq, "auth", "forbidden");
      return;
    }
    const Element* item = op.child("item", kNsPubsub);
    core::MessageRef msg = broker_.make_message();
    if (item && !decode_item(*item, *msg)) {
      iq_error(iq, "modify", "bad-request");
      return;
    }
    msg->retain = options_.retain_pubsub;
    Element r(kNsPubsub, "pubsub");
    Element& p = r.add("publish");
    p.set("node", *node_attr);
    const std::string* item_id = item ? item->attr("id") : nullptr;
    p.add("item").set("id", item_id ? std::string_view(*item_id) : std::string_view(std::to_string(msg->id)));
    publish(from, node, std::move(msg));
    iq_result(iq, &r);
    return;
  }
  if (op.name == "items" && !set) {
    if (!core::valid_topic_filter(node) || !filter_in_scope(node)) {
      iq_error(iq, "cancel", "item-not-found");
      return;
    }
    Element r(kNsPubsub, "pubsub");
    Element& items = r.add("items");
    items.set("node", *node_attr);
    std::size_t n = 0;
    broker_.retained().match(node, [&](const core::MessageRef& m) {
      if (n++ < options_.max_items) items.children.push_back(pubsub_item(*m));
    });
    iq_result(iq, &r);
    return;
  }
  iq_error(iq, "cancel", "feature-not-implemented", "unsupported", op.name);
}

void XmppBridge::handle_disco_info(const Element& iq, const Element& query) {
  Jid to;
  parse_jid(iq.attr_or("to"), to);
  const std::string* node_attr = query.attr("node");
  Element r(kNsDiscoInfo, "query");
  if (node_attr) r.set("node", *node_attr);
  if (!to.local.empty()) {
    // A topic's JID (messages and presence): a bot in XEP-0030 terms.
    const std::string topic = localpart_to_topic(to.local);
    if (!core::valid_topic_filter(topic) || !filter_in_scope(topic)) {
      iq_error(iq, "cancel", "item-not-found");
      return;
    }
    r.add("identity").set("category", "client").set("type", "bot").set("name", topic);
    add_feature(r, kNsDiscoInfo);
    add_feature(r, kNsJunction);
  } else if (node_attr) {
    const std::string node = node_to_topic(*node_attr);
    if (!core::valid_topic_filter(node) || !filter_in_scope(node)) {
      iq_error(iq, "cancel", "item-not-found");
      return;
    }
    r.add("identity").set("category", "pubsub").set("type", "leaf");
    add_feature(r, kNsDiscoInfo);
    add_feature(r, kNsPubsub);
  } else {
    r.add("identity").set("category", "pubsub").set("type", "service").set("name", "Junction");
    add_feature(r, kNsDiscoInfo);
    add_feature(r, kNsDiscoItems);
    add_feature(r, kNsPubsub);
    for (std::string_view f : kPubsubFeatures) add_feature(r, std::string(kNsPubsub) + "#" + std::string(f));
    add_feature(r, kNsPing);
    add_feature(r, kNsVersion);
    add_feature(r, kNsJunction);
  }
  iq_result(iq, &r);
}

void XmppBridge::handle_disco_items(const Element& iq, const Element& query) {
  Jid to;
  parse_jid(iq.attr_or("to"), to);
  const std::string* node_attr = query.attr("node");
  Element r(kNsDiscoItems, "query");
  if (node_attr) r.set("node", *node_attr);
  if (to.local.empty() && !node_attr) {
    // The nodes: every retained topic in scope.
    std::size_t n = 0;
    broker_.retained().for_each([&](const core::MessageRef& m) {
      if (n >= options_.max_items || !topic_in_scope(m->topic)) return;
      ++n;
      r.add("item").set("jid", options_.component).set("node", topic_to_node(m->topic)).set("name", m->topic);
    });
  } else if (node_attr) {
    const std::string node = node_to_topic(*node_attr);
    if (!core::valid_topic_filter(node) || !filter_in_scope(node)) {
      iq_error(iq, "cancel", "item-not-found");
      return;
    }
    std::size_t n = 0;
    broker_.retained().match(node, [&](const core::MessageRef& m) {
      if (n++ < options_.max_items) r.add("item").set("jid", options_.component).set("name", std::to_string(m->id));
    });
  }
  iq_result(iq, &r);
}

}  // namespace junction::xmpp
