// The bridge over a fake transport and the memory store: handshake, every
// IQ answered, PubSub and chat mapping both ways, presence tracking,
// subscriptions surviving a restart, stream errors.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "broker.h"
#include "mem_store.h"
#include "xml_stream_parser.h"
#include "xmpp_bridge.h"
#include "xmpp_handshake.h"
#include "xmpp_payload.h"

using namespace junction;
using namespace junction::xmpp;

namespace {

const std::string kServerHeader =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns='jabber:component:accept' from='gw.localhost' id='s1d'>";

class FakeConn final : public core::ConnectionSink {
 public:
  void write(std::string_view b) override { out.append(b); }
  std::size_t queued_bytes() const override { return 0; }
  void close_after_flush() override { closed = true; }
  void abort() override { closed = true; }
  void pause_reading(bool) override {}
  const core::ConnectionInfo& info() const override { return ci; }
  std::string out;
  bool closed = false;
  core::ConnectionInfo ci;
};

class Collect final : public core::SessionSink {
 public:
  core::DeliverResult deliver(const core::Delivery& d) override {
    got.push_back(core::MessageRef(const_cast<core::Message*>(&d.msg)));
    return core::DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<core::MessageRef> got;
};

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct Fixture {
  store::MemStore store;
  core::ManualClock clock;
  core::BrokerConfig config;
  std::unique_ptr<core::Broker> broker;
  XmppOptions options;
  std::unique_ptr<XmppBridge> bridge;
  FakeConn conn;
  std::unique_ptr<core::ProtocolHandler> handler;

  Fixture() {
    options.component = "gw.localhost";
    options.secret = "s3cret";
    options.scope = {"a/#", "x/#", "s/+"};
    start();
  }
  void start() {
    broker = std::make_unique<core::Broker>(config, store, clock);
    broker->restore();
    bridge = std::make_unique<XmppBridge>(*broker, options);
  }
  void stop() {
    if (handler) handler->on_closed();
    handler.reset();
    bridge.reset();
    broker->shutdown();
    broker->flush();
    broker.reset();
  }
  void connect() {
    conn = FakeConn();
    handler = bridge->create(conn);
    REQUIRE(conn.out.find("to='gw.localhost'") != std::string::npos);
    feed(kServerHeader);
    REQUIRE(conn.out.find("<handshake>" + handshake_digest("s1d", "s3cret") + "</handshake>") != std::string::npos);
    conn.out.clear();
    feed("<handshake/>");  // what the bridge sends when it comes online stays in conn.out
    REQUIRE(bridge->online());
  }
  void feed(const std::string& s) { handler->on_bytes(bytes(s)); }
  // What the bridge wrote since the last call, parsed.
  std::vector<Element> take() {
    StreamParser p;
    std::vector<StreamEvent> evs;
    const std::string s = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                          "xmlns='jabber:component:accept'>" + conn.out;
    conn.out.clear();
    REQUIRE(p.feed(bytes(s), evs).ok());
    std::vector<Element> out;
    for (auto& e : evs)
      if (e.kind == EventKind::Stanza) out.push_back(std::move(e.element));
    return out;
  }
  Element one() {
    auto v = take();
    REQUIRE(v.size() == 1);
    return v[0];
  }
  core::PublishResult publish(const std::string& topic, const std::string& payload, bool retain = false) {
    core::MessageRef m = broker->make_message();
    m->topic = topic;
    m->payload = payload;
    m->retain = retain;
    return broker->publish(m, nullptr);
  }
};

std::string error_condition(const Element& s) {
  const Element* e = s.child("error");
  if (!e || e->children.empty()) return "";
  return e->children.front().name;
}

const char* kSubscribe =
    "<iq type='set' id='s1' from='u@localhost/r' to='gw.localhost'>"
    "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='a/+' jid='u@localhost'/></pubsub></iq>";

}  // namespace

TEST_CASE_METHOD(Fixture, "every IQ gets a result or an error", "[xmpp][bridge]") {
  connect();
  feed("<iq type='get' id='p1' from='u@localhost/r' to='gw.localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
  Element r = one();
  CHECK(r.attr_or("type") == "result");
  CHECK(r.attr_or("id") == "p1");
  CHECK(r.attr_or("from") == "gw.localhost");
  CHECK(r.attr_or("to") == "u@localhost/r");

  feed("<iq type='get' id='u1' from='u@localhost/r' to='gw.localhost'><query xmlns='urn:unknown'/></iq>");
  r = one();
  CHECK(r.attr_or("type") == "error");
  CHECK(error_condition(r) == "service-unavailable");

  feed("<iq type='get' id='e1' from='u@localhost/r' to='gw.localhost'/>");
  CHECK(error_condition(one()) == "bad-request");

  feed("<iq type='set' id='c1' from='u@localhost/r' to='gw.localhost'>"
       "<pubsub xmlns='http://jabber.org/protocol/pubsub'><configure node='a/b'/></pubsub></iq>");
  r = one();
  CHECK(error_condition(r) == "feature-not-implemented");

  feed("<iq type='result' id='x' from='u@localhost/r' to='gw.localhost'/>");
  CHECK(take().empty());  // results are never answered

  feed("<iq type='get' id='d1' from='u@localhost/r' to='gw.localhost'>"
       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  r = one();
  const Element* q = r.child("query", "http://jabber.org/protocol/disco#info");
  REQUIRE(q);
  REQUIRE(q->child("identity"));
  CHECK(q->child("identity")->attr_or("category") == "pubsub");
  bool pubsub = false;
  for (const Element& f : q->children) pubsub |= f.attr_or("var") == "http://jabber.org/protocol/pubsub";
  CHECK(pubsub);

  publish("a/one", "1", true);
  publish("zz/out-of-scope", "2", true);
  feed("<iq type='get' id='d2' from='u@localhost/r' to='gw.localhost'>"
       "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  r = one();
  q = r.child("query");
  REQUIRE(q);
  REQUIRE(q->children.size() == 1);
  CHECK(q->children[0].attr_or("node") == "a/one");
}

TEST_CASE_METHOD(Fixture, "PubSub subscribe, notifications, items, unsubscribe", "[xmpp][bridge][pubsub]") {
  connect();
  publish("a/r", "retained", true);
  feed(kSubscribe);
  auto out = take();
  REQUIRE(out.size() == 2);
  CHECK(out[0].attr_or("type") == "result");
  const Element* sub = out[0].child("pubsub")->child("subscription");
  REQUIRE(sub);
  CHECK(sub->attr_or("subscription") == "subscribed");
  CHECK(sub->attr_or("node") == "a/+");
  // The retained message follows as a notification.
  CHECK(out[1].name == "message");
  REQUIRE(broker->find_session("xmpp:u@localhost"));

  publish("a/b", "hello <world>");
  Element ev = one();
  CHECK(ev.attr_or("to") == "u@localhost");
  CHECK(ev.attr_or("from") == "gw.localhost");
  const Element* items = ev.child("event", "http://jabber.org/protocol/pubsub#event")->child("items");
  REQUIRE(items);
  CHECK(items->attr_or("node") == "a/+");
  const Element& item = items->children.at(0);
  const Element* j = item.child("junction", kNsJunction);
  REQUIRE(j);
  CHECK(j->attr_or("topic") == "a/b");
  CHECK(j->child("body")->text == "hello <world>");

  publish("a/b/c", "no match");
  publish("x/y", "no match");
  CHECK(take().empty());

  // items on the node returns the retained message.
  feed("<iq type='get' id='i1' from='u@localhost/r' to='gw.localhost'>"
       "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='a/r'/></pubsub></iq>");
  Element r = one();
  const Element* its = r.child("pubsub")->child("items");
  REQUIRE(its->children.size() == 1);
  CHECK(its->children[0].child("junction")->child("body")->text == "retained");

  feed("<iq type='get' id='l1' from='u@localhost/r' to='gw.localhost'>"
       "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions/></pubsub></iq>");
  r = one();
  REQUIRE(r.child("pubsub")->child("subscriptions")->children.size() == 1);

  const char* unsub = "<iq type='set' id='u1' from='u@localhost/r' to='gw.localhost'>"
                      "<pubsub xmlns='http://jabber.org/protocol/pubsub'><unsubscribe node='a/+' jid='u@localhost'/>"
                      "</pubsub></iq>";
  feed(unsub);
  CHECK(one().attr_or("type") == "result");
  CHECK(broker->find_session("xmpp:u@localhost") == nullptr);  // nothing left: session ended
  feed(unsub);
  r = one();
  CHECK(error_condition(r) == "unexpected-request");
  publish("a/b", "after");
  CHECK(take().empty());
}

TEST_CASE_METHOD(Fixture, "PubSub refusals", "[xmpp][bridge][pubsub]") {
  connect();
  feed("<iq type='set' id='1' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<subscribe node='a/b' jid='evil@localhost'/></pubsub></iq>");
  Element r = one();
  CHECK(error_condition(r) == "bad-request");
  CHECK(r.child("error")->child("invalid-jid"));
  feed("<iq type='set' id='2' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<subscribe node='b/c' jid='u@localhost'/></pubsub></iq>");
  CHECK(error_condition(one()) == "forbidden");
  feed("<iq type='set' id='3' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<subscribe node='a/#/x' jid='u@localhost'/></pubsub></iq>");
  CHECK(error_condition(one()) == "item-not-found");
  feed("<iq type='set' id='4' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<publish node='a/+'><item/></publish></pubsub></iq>");
  CHECK(error_condition(one()) == "bad-request");
  feed("<iq type='set' id='5' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<publish node='b'><item/></publish></pubsub></iq>");
  CHECK(error_condition(one()) == "forbidden");
  feed("<iq type='set' id='6' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<subscribe jid='u@localhost'/></pubsub></iq>");
  r = one();
  CHECK(r.child("error")->child("nodeid-required"));
  // A filter in scope: s/+ covers s/x but not s/x/y.
  feed("<iq type='set' id='7' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<subscribe node='s/x' jid='u@localhost'/></pubsub></iq>");
  CHECK(one().attr_or("type") == "result");
  feed("<iq type='set' id='8' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<subscribe node='s/#' jid='u@localhost'/></pubsub></iq>");
  CHECK(error_condition(one()) == "forbidden");
}

TEST_CASE_METHOD(Fixture, "PubSub publish reaches core subscribers with payload and properties",
                 "[xmpp][bridge][pubsub]") {
  connect();
  Collect sink;
  core::ConnectRequest req;
  req.client_id = "watcher";
  req.sink = &sink;
  core::Session* s = broker->attach(req).session;
  broker->subscribe(s, "#", core::SubscriptionOptions{});

  // Binary payload, content type, correlation data and user properties: out and back.
  core::Message m;
  m.id = 9;
  m.topic = "x/bin";
  m.payload = std::string("\x00\xFF\x01zz", 5);
  m.mutable_props().content_type = "application/octet-stream";
  m.mutable_props().correlation_data = std::string("\x01\x02", 2);
  m.mutable_props().user_properties = {{"k", "v"}, {"ctl", std::string("\x01", 1)}};
  std::string body;
  Element j = encode_payload(m, true, body);
  CHECK(j.child("binary"));
  Element item(kNsComponent, "item");
  item.children.push_back(j);
  std::string xml;
  serialize(item, xml, kNsComponent);

  feed("<iq type='set' id='p1' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<publish node='x/bin'>" + xml + "</publish></pubsub></iq>");
  Element r = one();
  CHECK(r.attr_or("type") == "result");
  REQUIRE(sink.got.size() == 1);
  const core::Message& got = *sink.got[0];
  CHECK(got.topic == "x/bin");
  CHECK(got.payload == m.payload);
  CHECK(got.props().content_type == m.props().content_type);
  CHECK(got.props().correlation_data == m.props().correlation_data);
  REQUIRE(got.props().user_properties.size() == 2);
  CHECK(got.props().user_properties[1].value == std::string("\x01", 1));
  CHECK(got.retain);  // a PubSub publish is the node's last item
  CHECK(got.origin_protocol == kXmppProtocol);
  CHECK(broker->retained().find("x/bin"));

  // A foreign payload travels as its XML text.
  feed("<iq type='set' id='p2' from='u@localhost/r' to='gw.localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
       "<publish node='x/atom'><item id='i'><entry xmlns='http://www.w3.org/2005/Atom'><title>T &amp; U</title></entry>"
       "</item></publish></pubsub></iq>");
  r = one();
  CHECK(r.child("pubsub")->child("publish")->child("item")->attr_or("id") == "i");
  REQUIRE(sink.got.size() == 2);
  CHECK(sink.got[1]->payload == "<entry xmlns='http://www.w3.org/2005/Atom'><title>T &amp; U</title></entry>");
  CHECK(sink.got[1]->props().content_type == "application/xml");

  // A message to <topic>@component publishes its body.
  feed("<message from='u@localhost/r' to='x\\2fchat@gw.localhost' type='chat'><body>hi</body></message>");
  REQUIRE(sink.got.size() == 3);
  CHECK(sink.got[2]->topic == "x/chat");
  CHECK(sink.got[2]->payload == "hi");
  CHECK_FALSE(sink.got[2]->retain);
  feed("<message from='u@localhost/r' to='zz@gw.localhost'><body>hi</body></message>");
  CHECK(error_condition(one()) == "forbidden");
  feed("<message from='u@localhost/r' to='x\\2fchat@gw.localhost'><composing xmlns='x'/></message>");
  CHECK(sink.got.size() == 3);
  CHECK(take().empty());
  broker->detach(s, core::DetachKind::Normal, 0);
}

TEST_CASE_METHOD(Fixture, "presence subscription: chat messages while available", "[xmpp][bridge][chat]") {
  connect();
  feed("<presence type='subscribe' from='u@localhost' to='a\\2fc@gw.localhost'/>");
  auto out = take();
  REQUIRE(out.size() == 3);
  CHECK(out[0].attr_or("type") == "subscribed");
  CHECK(out[0].attr_or("from") == "a\\2fc@gw.localhost");
  CHECK(out[1].attr("type") == nullptr);
  CHECK(out[2].attr_or("type") == "subscribe");

  publish("a/c", "not yet available");
  CHECK(take().empty());
  feed("<presence from='u@localhost/r' to='a\\2fc@gw.localhost'/>");
  publish("a/c", "\xC3\xA9t\xC3\xA9");
  Element m = one();
  CHECK(m.attr_or("type") == "chat");
  CHECK(m.attr_or("from") == "a\\2fc@gw.localhost");
  CHECK(m.attr_or("to") == "u@localhost");
  CHECK(m.child("body")->text == "\xC3\xA9t\xC3\xA9");
  CHECK(m.child("junction", kNsJunction)->attr_or("topic") == "a/c");

  publish("a/c", std::string("\x00\x01", 2));  // binary: base64 body with the marker
  m = one();
  CHECK(m.child("body")->text == "AAE=");
  CHECK(m.child("junction")->child("binary"));

  feed("<presence type='probe' from='u@localhost/r' to='a\\2fc@gw.localhost'/>");
  CHECK(one().attr("type") == nullptr);

  feed("<presence type='unavailable' from='u@localhost/r' to='a\\2fc@gw.localhost'/>");
  publish("a/c", "gone");
  CHECK(take().empty());

  feed("<presence type='subscribe' from='u@localhost' to='zz@gw.localhost'/>");
  CHECK(one().attr_or("type") == "unsubscribed");

  feed("<presence type='unsubscribe' from='u@localhost' to='a\\2fc@gw.localhost'/>");
  out = take();
  REQUIRE(!out.empty());
  CHECK(out[0].attr_or("type") == "unsubscribed");
  CHECK(broker->find_session("xmpp:u@localhost") == nullptr);
}

TEST_CASE_METHOD(Fixture, "subscriptions survive a restart; offline deliveries are bounded", "[xmpp][bridge][durable]") {
  options.offline_limit = 3;
  bridge = std::make_unique<XmppBridge>(*broker, options);
  connect();
  feed(kSubscribe);
  take();
  stop();
  start();
  CHECK(bridge->jid_count() == 1);
  CHECK(broker->subscription_count() == 1);
  for (int i = 0; i < 5; ++i) publish("a/q", std::to_string(i));  // component down: kept, at most 3
  connect();
  auto out = take();
  REQUIRE(out.size() == 3);
  publish("a/q", "live");
  CHECK(one().child("event")->child("items")->children.at(0).child("junction")->child("body")->text == "live");
}

TEST_CASE_METHOD(Fixture, "stream errors: the server's logged and closed, ours sent", "[xmpp][bridge][stream]") {
  SECTION("refused handshake") {
    handler = bridge->create(conn);
    feed(kServerHeader);
    feed("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
         "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Given token does not match</text></stream:error>"
         "</stream:stream>");
    CHECK(conn.closed);
    CHECK_FALSE(bridge->online());
    CHECK(conn.out.ends_with("</stream:stream>"));
  }
  SECTION("bad XML from the server") {
    connect();
    feed("<message><!-- x --></message>");
    CHECK(conn.closed);
    CHECK(conn.out.find("<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>") != std::string::npos);
    CHECK(conn.out.ends_with("</stream:stream>"));
    CHECK_FALSE(bridge->online());
  }
  SECTION("server closes the stream") {
    connect();
    feed("</stream:stream>");
    CHECK(conn.closed);
    CHECK(conn.out == "</stream:stream>");
    CHECK_FALSE(bridge->online());
  }
  SECTION("whitespace keep-alive on an idle stream") {
    connect();
    handler->on_tick(1000);
    handler->on_tick(30000);
    CHECK(conn.out.empty());
    handler->on_tick(61000);
    CHECK(conn.out == " ");
    CHECK_FALSE(conn.closed);
  }
  SECTION("handshake timeout") {
    handler = bridge->create(conn);
    handler->on_tick(0);
    handler->on_tick(5000);
    CHECK_FALSE(conn.closed);
    handler->on_tick(11000);
    CHECK(conn.closed);
  }
  handler->on_closed();
  handler.reset();
}
