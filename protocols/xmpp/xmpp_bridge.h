// junction::xmpp::XmppBridge — Junction as an XMPP external component
// (XEP-0114) that maps PubSub (XEP-0060), messages and presence onto core
// topics. It is the ProtocolFactory of the outbound component connection
// (net::Connector makes one XmppComponent per successful connect) and owns
// the state that outlives a connection: one SessionSink per subscribing JID.
//
// Files: xmpp_bridge.cpp (JIDs, sessions, subscriptions, deliveries),
// xmpp_component.cpp (stream, handshake, stream errors), xmpp_iq.cpp
// (PubSub, disco, ping), xmpp_chat.cpp (messages and presence),
// xmpp_payload.cpp (core Message <-> XML payload), xmpp_scope.cpp.
//
// Invariants:
//  * Each subscribing JID has one persistent core Session, client id
//    "xmpp:<jid>" (bare JID for presence subscriptions, the JID named in a
//    PubSub subscribe otherwise). Its core subscriptions are the JID's
//    subscriptions; the subscription id of each says which kinds it holds
//    (kPubsub, kChat). So subscriptions survive a restart in the session
//    tables and are found again by prefix at start-up.
//  * Sessions are attached (online) exactly while a component stream is
//    authenticated; otherwise deliveries wait in the session, at most
//    offline_limit per JID (QoS 0: then dropped, and never stored).
//  * Chat deliveries go only to a JID with an available resource (presence
//    tracked per bare JID, in memory; probed again after each handshake).
//  * Everything the bridge writes has `from` inside the component domain.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "frontend.h"
#include "message.h"
#include "session.h"
#include "xml_element.h"
#include "xml_stream_parser.h"

namespace junction::core {
class Broker;
}

namespace junction::xmpp {

// Stored with every one of the messages the XMPP bridge brings in (core::ProtocolId).
inline constexpr core::ProtocolId kXmppProtocol{4};

inline constexpr std::string_view kNsJunction = "urn:junction:xmpp:0";
inline constexpr std::string_view kClientIdPrefix = "xmpp:";

struct XmppOptions {
  std::string component;                 // the component's domain, e.g. gw.example.org
  std::string secret;                    // XEP-0114 shared secret
  std::vector<std::string> scope{"#"};   // topic filters the bridge exposes
  std::uint8_t qos = 0;                  // QoS of what XMPP users publish into the core
  bool retain_pubsub = true;             // a PubSub publish is retained (the node's last item)
  std::uint32_t offline_limit = 1000;    // deliveries kept per JID while the component is down
  std::uint32_t max_items = 100;         // items / disco#items answers list at most this many
  StreamLimits limits;
  std::size_t outbound_limit = 4 * 1024 * 1024;
  std::uint32_t handshake_timeout_ms = 10000;
  std::uint32_t keepalive_ms = 60000;    // whitespace keep-alive on an idle stream
};

class XmppComponent;

class XmppBridge final : public core::ProtocolFactory {
 public:
  // Subscription kinds, as core subscription-id bits.
  static constexpr std::uint32_t kPubsub = 1;
  static constexpr std::uint32_t kChat = 2;

  XmppBridge(core::Broker& broker, XmppOptions options);
  ~XmppBridge() override;

  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;
  const char* protocol_name() const override { return "xmpp"; }

  // Server shutdown: the stream is closed cleanly.
  void shutdown();

  core::Broker& broker() { return broker_; }
  const XmppOptions& options() const { return options_; }
  bool online() const { return component_ != nullptr; }
  std::size_t jid_count() const { return jids_.size(); }
  // Deliveries waiting in the JIDs' sessions (while the component is down).
  std::size_t offline_depth() const;

  // ---- from the component connection ----
  void on_ready(XmppComponent* c);  // handshake accepted
  void on_down(XmppComponent* c);   // stream gone (any reason)
  void on_stanza(const Element& stanza);
  void on_drained();
  void send(const Element& stanza);  // no-op without an authenticated stream

  // ---- topic scope (xmpp_scope.cpp) ----
  bool topic_in_scope(std::string_view topic) const;
  bool filter_in_scope(std::string_view filter) const;

 private:
  // One subscribing JID: the SessionSink of its core session.
  struct JidSink final : core::SessionSink {
    JidSink(XmppBridge& b, std::string j)
        : bridge(b), jid(std::move(j)), client_id(std::string(kClientIdPrefix) + jid) {}
    core::DeliverResult deliver(const core::Delivery& d) override { return bridge.deliver(*this, d); }
    bool can_deliver() const override;
    void session_taken_over() override { session = nullptr; }  // only the bridge uses "xmpp:" ids

    XmppBridge& bridge;
    std::string jid;
    std::string client_id;
    core::Session* session = nullptr;  // while attached
  };

  // ---- subscriptions (xmpp_bridge.cpp) ----
  JidSink* find_jid(std::string_view jid);
  JidSink& jid_sink(std::string_view jid);  // created (and attached when online)
  void attach(JidSink& j);
  // Adds or removes `kind` on `filter`; false if the filter was refused.
  bool add_subscription(JidSink& j, std::string_view filter, std::uint32_t kind);
  bool remove_subscription(JidSink& j, std::string_view filter, std::uint32_t kind);
  void forget_if_empty(JidSink& j);
  core::DeliverResult deliver(JidSink& j, const core::Delivery& d);
  void publish(std::string_view from, std::string_view topic, core::MessageRef msg);

  // ---- IQ (xmpp_iq.cpp) ----
  void handle_iq(const Element& iq);
  void handle_pubsub(const Element& iq, const Element& pubsub, bool set);
  void handle_disco_info(const Element& iq, const Element& query);
  void handle_disco_items(const Element& iq, const Element& query);
  void iq_result(const Element& iq, Element* payload);
  void iq_error(const Element& iq, std::string_view type, std::string_view condition,
                std::string_view app_condition = {}, std::string_view feature = {});
  Element pubsub_item(const core::Message& m);

  // ---- messages and presence (xmpp_chat.cpp) ----
  void handle_message(const Element& msg);
  void handle_presence(const Element& p);
  void stanza_error(const Element& s, std::string_view type, std::string_view condition, std::string_view text = {});
  void send_presence(std::string_view from, std::string_view to, std::string_view type);
  void probe_presence();
  bool available(std::string_view bare) const { return available_.find(bare) != available_.end(); }

  core::Broker& broker_;
  XmppOptions options_;
  XmppComponent* component_ = nullptr;  // the authenticated stream, if any
  std::vector<XmppComponent*> connections_;  // every live connection (for shutdown)
  std::map<std::string, std::unique_ptr<JidSink>, std::less<>> jids_;
  // Available resources (full JIDs) per bare JID, from the presence the
  // server routes to us; chat deliveries need one. Erased when the last
  // resource goes; cleared with the stream.
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> available_;
  std::string scratch_;
  std::uint64_t next_id_ = 1;

  friend class XmppComponent;
};

}  // namespace junction::xmpp
