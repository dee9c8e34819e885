// AmqpBridge over a real core Broker (memory store, manual clock) with a
// fake sink playing RabbitMQ: the outbox (the bridge's persistent session)
// keeps messages in order until confirms, survives reconnects and restarts,
// honours its limits; inbound deliveries are acked after the commit; our
// own exports coming back are dropped (loop prevention).
#include <catch2/catch.hpp>

#include "amqp_bridge.h"
#include "amqp_message_map.h"
#include "amqp_testkit.h"
#include "amqp_uri.h"
#include "mem_store.h"

using namespace amqp_testkit;
using namespace junction;

namespace {

class ServerSink final : public core::ConnectionSink {
 public:
  void write(std::string_view b) override { out += b; }
  std::size_t queued_bytes() const override { return 0; }
  void close_after_flush() override { closed = true; }
  void abort() override { closed = true; }
  void pause_reading(bool) override {}
  const core::ConnectionInfo& info() const override { return info_; }
  std::string out;
  bool closed = false;
  core::ConnectionInfo info_;
};

struct Published {
  BasicPublish method;
  ContentHeader header;
  std::string body;
};

// Decodes what the client wrote since `from`: publishes and acks.
struct Seen {
  std::vector<Published> publishes;
  std::vector<std::uint64_t> acks, nacks;
};

Seen decode(std::string_view out) {
  Seen s;
  if (out.substr(0, 8) == kProtocolHeader) out.remove_prefix(8);
  FrameParser p(1u << 20);
  while (!out.empty()) {
    Frame f;
    Error e;
    REQUIRE(p.next(bytes_of(out), f, e) == ParseResult::Frame);
    if (f.type == FrameType::Method) {
      Method m;
      REQUIRE(decode_method(f.payload, m) == Error::None);
      if (auto* bp = std::get_if<BasicPublish>(&m)) s.publishes.push_back(Published{*bp, {}, {}});
      if (auto* a = std::get_if<BasicAck>(&m)) s.acks.push_back(a->delivery_tag);
      if (auto* n = std::get_if<BasicNack>(&m)) s.nacks.push_back(n->delivery_tag);
    } else if (f.type == FrameType::Header) {
      REQUIRE(decode_content_header(f.payload, s.publishes.back().header) == Error::None);
    } else if (f.type == FrameType::Body) {
      s.publishes.back().body.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
    }
    out.remove_prefix(f.total_size);
  }
  return s;
}

std::string frame(std::uint16_t ch, const Method& m) {
  std::string s;
  REQUIRE(encode_method(ch, m, s) == Error::None);
  return s;
}

class MqttSink final : public core::SessionSink {
 public:
  core::DeliverResult deliver(const core::Delivery& d) override {
    got.push_back(d.msg.topic + "=" + d.msg.payload);
    props.push_back(d.msg.props());
    return core::DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<std::string> got;
  std::vector<core::MessageProperties> props;
};

struct Fixture {
  store::MemStore store;
  core::ManualClock clock;
  core::BrokerConfig config;
  std::unique_ptr<core::Broker> broker;
  amqp::BridgeOptions opt;
  std::unique_ptr<amqp::AmqpBridge> bridge;
  ServerSink sink;
  std::unique_ptr<core::ProtocolHandler> conn;

  Fixture() {
    opt.name = "b";
    opt.node_id = "node-A";
    std::string err;
    opt.upstreams.push_back(*amqp::parse_amqp_uri("amqp://u:p@127.0.0.1:5672/vh", err));
    opt.outbound.push_back(amqp::OutboundRule{"s/#", "ex", "{topic}", 1, false});
    opt.inbound.push_back(amqp::InboundRule{"", "ex", "c.#", "in/", "", 1});
    opt.exchanges.push_back(amqp::ExchangeDecl{"ex", "topic", true});
    opt.max_unconfirmed = 3;
    start_broker();
  }
  void start_broker() {
    bridge.reset();
    broker = std::make_unique<core::Broker>(config, store, clock);
    broker->restore();
    bridge = std::make_unique<amqp::AmqpBridge>(*broker, opt);
    bridge->start();
  }
  // Connects and plays the server through the handshake.
  void connect() {
    sink = ServerSink{};
    conn = bridge->create(sink);
    ConnectionStart s;
    s.mechanisms = "PLAIN";
    std::string in = frame(0, s) + frame(0, ConnectionTune{0, 131072, 0}) + frame(0, ConnectionOpenOk{}) +
                     frame(1, ChannelOpenOk{}) + frame(1, ExchangeDeclareOk{}) + frame(1, QueueDeclareOk{}) +
                     frame(1, QueueBindOk{}) + frame(1, BasicQosOk{}) + frame(1, ConfirmSelectOk{}) +
                     frame(1, BasicConsumeOk{"junction-0"});
    REQUIRE(conn->on_bytes(bytes_of(in)) == in.size());
    broker->flush();
    REQUIRE(bridge->connected());
    sink.out.clear();
  }
  void server(const std::string& bytes) {
    REQUIRE(conn->on_bytes(bytes_of(bytes)) == bytes.size());
    broker->flush();
  }
  void disconnect() {
    conn->on_closed();
    conn.reset();
    broker->flush();
  }
  void publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 1) {
    core::MessageRef m = broker->make_message();
    m->topic = topic;
    m->payload = payload;
    m->qos = qos;
    broker->publish(m, nullptr);
    broker->flush();
  }
};

std::vector<std::string> bodies(const Seen& s) {
  std::vector<std::string> out;
  for (const auto& p : s.publishes) out.push_back(p.body);
  return out;
}

}  // namespace

TEST_CASE("outbox: kept in order while the upstream is away, sent on connect, removed on confirm", "[amqp][bridge]") {
  Fixture fx;
  fx.publish("s/1", "one");
  fx.publish("s/2", "two");
  fx.publish("other", "not exported");
  CHECK(fx.bridge->outbox_depth() == 2);
  fx.connect();
  CHECK(fx.bridge->client_options().user == "u");
  CHECK(fx.bridge->client_options().vhost == "vh");
  CHECK(fx.bridge->confirms_pending() == 2);  // one, two went out when the channel was ready
  Seen s;
  fx.publish("s/3", "three");
  fx.publish("s/4", "four");  // window of 3 unconfirmed: waits
  s = decode(fx.sink.out);
  REQUIRE(bodies(s) == std::vector<std::string>{"three"});
  CHECK(fx.bridge->confirms_pending() == 3);
  CHECK(fx.bridge->outbox_depth() == 4);
  fx.sink.out.clear();
  fx.server(frame(1, BasicAck{2, true}));  // one, two confirmed
  CHECK(fx.bridge->outbox_depth() == 2);
  s = decode(fx.sink.out);
  REQUIRE(bodies(s) == std::vector<std::string>{"four"});
  CHECK(s.publishes[0].method.exchange == "ex");
  CHECK(s.publishes[0].method.routing_key == "s.4");
  CHECK(s.publishes[0].header.properties.delivery_mode == 2);
  CHECK(amqp::origin_of(s.publishes[0].header.properties) == "node-A");
  fx.server(frame(1, BasicAck{4, true}));
  CHECK(fx.bridge->outbox_depth() == 0);
  CHECK(fx.bridge->confirms_pending() == 0);
}

TEST_CASE("outbox: unconfirmed messages are sent again after a reconnect and a restart, same message-id",
          "[amqp][bridge]") {
  Fixture fx;
  fx.connect();
  fx.publish("s/a", "A");
  fx.publish("s/b", "B");
  Seen first = decode(fx.sink.out);
  REQUIRE(first.publishes.size() == 2);
  fx.server(frame(1, BasicAck{1, false}));
  fx.disconnect();
  CHECK_FALSE(fx.bridge->connected());
  fx.publish("s/c", "C");
  CHECK(fx.bridge->outbox_depth() == 2);

  SECTION("reconnect") {}
  SECTION("restart from the store") {
    fx.start_broker();
    CHECK(fx.bridge->outbox_depth() == 2);
  }
  fx.sink = ServerSink{};
  fx.conn = fx.bridge->create(fx.sink);
  ConnectionStart st;
  st.mechanisms = "PLAIN";
  std::string in = frame(0, st) + frame(0, ConnectionTune{0, 131072, 0}) + frame(0, ConnectionOpenOk{}) +
                   frame(1, ChannelOpenOk{}) + frame(1, ExchangeDeclareOk{}) + frame(1, QueueDeclareOk{}) +
                   frame(1, QueueBindOk{}) + frame(1, BasicQosOk{}) + frame(1, ConfirmSelectOk{}) +
                   frame(1, BasicConsumeOk{"junction-0"});
  fx.server(in);
  const Seen again = decode(fx.sink.out);
  REQUIRE(bodies(again) == std::vector<std::string>{"B", "C"});
  CHECK(again.publishes[0].header.properties.message_id == first.publishes[1].header.properties.message_id);
  fx.server(frame(1, BasicAck{2, true}));
  CHECK(fx.bridge->outbox_depth() == 0);
}

TEST_CASE("outbox limit: refuse, or drop the oldest", "[amqp][bridge]") {
  Fixture fx;
  fx.opt.outbox_max = 2;
  SECTION("refuse") {
    fx.start_broker();
    fx.publish("s/1", "1");
    fx.publish("s/2", "2");
    core::MessageRef m = fx.broker->make_message();
    m->topic = "s/3";
    m->qos = 1;
    CHECK(fx.broker->publish(m, nullptr).quota_exceeded);
    CHECK(fx.bridge->outbox_depth() == 2);
  }
  SECTION("drop-oldest") {
    fx.opt.outbox_drop_oldest = true;
    fx.start_broker();
    for (int i = 1; i <= 5; ++i) fx.publish("s/" + std::to_string(i), std::to_string(i));
    CHECK(fx.bridge->outbox_depth() == 2);
    CHECK(fx.broker->stats().dropped_oldest == 3);
    fx.connect();
    fx.sink.out.clear();
    fx.disconnect();
    fx.sink = ServerSink{};
    fx.conn = fx.bridge->create(fx.sink);
    ConnectionStart st;
    st.mechanisms = "PLAIN";
    std::string in = frame(0, st) + frame(0, ConnectionTune{0, 131072, 0}) + frame(0, ConnectionOpenOk{}) +
                     frame(1, ChannelOpenOk{}) + frame(1, ExchangeDeclareOk{}) + frame(1, QueueDeclareOk{}) +
                     frame(1, QueueBindOk{}) + frame(1, BasicQosOk{}) + frame(1, ConfirmSelectOk{}) +
                     frame(1, BasicConsumeOk{"junction-0"});
    fx.server(in);
    CHECK(bodies(decode(fx.sink.out)) == std::vector<std::string>{"4", "5"});
  }
}

TEST_CASE("inbound: published locally, acked after the commit; own exports dropped", "[amqp][bridge]") {
  Fixture fx;
  MqttSink local;
  core::ConnectRequest r;
  r.client_id = "local";
  r.sink = &local;
  core::Session* s = fx.broker->attach(r).session;
  fx.broker->start_delivery(s);
  core::SubscriptionOptions o;
  o.qos = 1;
  REQUIRE(fx.broker->subscribe(s, "#", o) == core::SubscribeStatus::Granted);
  fx.connect();

  auto delivery = [&](std::uint64_t tag, const std::string& key, const BasicProperties& p, const std::string& body) {
    std::string d = frame(1, BasicDeliver{"junction-0", tag, false, "ex", key});
    ContentHeader h;
    h.body_size = body.size();
    h.properties = p;
    REQUIRE(encode_content_header(1, h, d) == Error::None);
    encode_body(1, body, 4096, d);
    return d;
  };
  BasicProperties p;
  p.content_type = "text/plain";
  p.reply_to = "r.s";
  p.headers = FieldTable{Field{"h", FieldValue::string("v")}};
  fx.server(delivery(7, "c.x%2Ey", p, "hello"));
  REQUIRE(local.got == std::vector<std::string>{"in/c/x.y=hello"});
  CHECK(local.props[0].content_type == "text/plain");
  CHECK(local.props[0].response_topic == "r/s");
  // The memory store commits inline at flush(): the ack went out.
  CHECK(decode(fx.sink.out).acks == std::vector<std::uint64_t>{7});
  // Not re-exported upstream (no-local).
  CHECK(decode(fx.sink.out).publishes.empty());

  fx.sink.out.clear();
  BasicProperties mine;
  mine.headers = FieldTable{Field{std::string(amqp::kOriginHeader), FieldValue::string("node-A")}};
  fx.server(delivery(8, "c.loop", mine, "echo"));
  CHECK(local.got.size() == 1);  // dropped
  CHECK(decode(fx.sink.out).acks == std::vector<std::uint64_t>{8});
  CHECK(fx.bridge->stats().looped == 1);
}

TEST_CASE("message properties map both ways", "[amqp][bridge]") {
  core::Message m;
  m.id = 42;
  m.created_ms = 1700000000123;
  m.expiry_ms = m.created_ms + 5000;
  m.qos = 1;
  m.mutable_props().content_type = "application/json";
  m.mutable_props().correlation_data = "c1";
  m.mutable_props().response_topic = "reply/to.me";
  m.mutable_props().user_properties = {{"a", "1"}, {"message-id", "given"}};
  BasicProperties p = amqp::to_amqp_properties(m, "n1", m.created_ms);
  CHECK(p.content_type == "application/json");
  CHECK(p.correlation_id == "c1");
  CHECK(p.reply_to == "reply.to%2Eme");
  CHECK(p.expiration == "5000");
  CHECK(p.message_id == "given");
  CHECK(p.timestamp == 1700000000u);
  REQUIRE(p.headers);
  CHECK(find_field(*p.headers, "a")->s == "1");
  CHECK(amqp::origin_of(p) == "n1");

  m.mutable_props().user_properties.clear();
  CHECK(amqp::to_amqp_properties(m, "n1", 0).message_id == "n1:1700000000123:42");

  core::Message back;
  amqp::from_amqp_properties(p, back, 1000);
  CHECK(back.props().content_type == "application/json");
  CHECK(back.props().response_topic == "reply/to.me");
  CHECK(back.expiry_ms == 6000);
  bool has_a = false;
  for (const auto& up : back.props().user_properties) {
    has_a |= up.name == "a" && up.value == "1";
    CHECK(up.name != amqp::kOriginHeader);
  }
  CHECK(has_a);
}

TEST_CASE("amqp URIs", "[amqp][uri]") {
  std::string err;
  auto u = amqp::parse_amqp_uri("amqp://us%40r:p%3Ass@host.example:5673/my%2Fvhost", err);
  REQUIRE(u);
  CHECK(u->user == "us@r");
  CHECK(u->password == "p:ss");
  CHECK(u->host == "host.example");
  CHECK(u->port == 5673);
  CHECK(u->vhost == "my/vhost");
  u = amqp::parse_amqp_uri("amqp://[::1]", err);
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == 5672);
  CHECK(u->vhost == "/");
  CHECK(u->user == "guest");
  CHECK(amqp::parse_amqp_uri("amqp://h/", err)->vhost == "/");
  CHECK(amqp::parse_amqp_uri("amqp://h/%2F", err)->vhost == "/");
  CHECK_FALSE(u->tls);
  u = amqp::parse_amqp_uri("amqps://bob:pw@rabbit.example/v", err);
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->port == 5671);
  CHECK(u->host == "rabbit.example");
  CHECK(u->user == "bob");
  CHECK(u->vhost == "v");
  CHECK(amqp::parse_amqp_uri("amqps://[::1]:5999", err)->port == 5999);
  CHECK_FALSE(amqp::parse_amqp_uri("amqps://", err));
  CHECK_FALSE(amqp::parse_amqp_uri("amqpx://h", err));
  CHECK_FALSE(amqp::parse_amqp_uri("amqp://", err));
  CHECK_FALSE(amqp::parse_amqp_uri("amqp://h:99999", err));
  CHECK_FALSE(amqp::parse_amqp_uri("amqp://h:0", err));
  CHECK_FALSE(amqp::parse_amqp_uri("amqp://h/a/b", err));
  CHECK_FALSE(amqp::parse_amqp_uri("amqp://h/%zz", err));
}

TEST_CASE("inbound: a delivery a full local session refuses goes back upstream at the next tick", "[amqp][bridge]") {
  Fixture fx;
  fx.config.max_queued_messages = 1;
  fx.start_broker();
  MqttSink local;
  core::ConnectRequest r;
  r.client_id = "offline";
  r.clean_start = false;
  r.session_expiry_s = 3600;
  r.sink = &local;
  core::Session* s = fx.broker->attach(r).session;
  core::SubscriptionOptions o;
  o.qos = 1;
  REQUIRE(fx.broker->subscribe(s, "in/#", o) == core::SubscribeStatus::Granted);
  fx.broker->detach(s, core::DetachKind::Normal, 3600);
  fx.connect();
  auto delivery = [&](std::uint64_t tag) {
    std::string d = frame(1, BasicDeliver{"junction-0", tag, false, "ex", "c.q"});
    ContentHeader h;
    h.body_size = 1;
    REQUIRE(encode_content_header(1, h, d) == Error::None);
    encode_body(1, "x", 4096, d);
    return d;
  };
  fx.server(delivery(1) + delivery(2));
  Seen seen = decode(fx.sink.out);
  CHECK(seen.acks == std::vector<std::uint64_t>{1});
  CHECK(seen.nacks.empty());
  fx.sink.out.clear();
  fx.bridge->tick();
  seen = decode(fx.sink.out);
  CHECK(seen.nacks == std::vector<std::uint64_t>{2});
  CHECK(fx.bridge->stats().refused_inbound == 1);
}

// Issue 18: a long upstream outage must not start refusing publishers at an
// arbitrary count; the outbox lives on disk, so the store's disk limits
// (store.max_disk_bytes, store.min_free_disk_bytes) are what bound it.
TEST_CASE("outbox: unlimited by default (past 100,000 and the per-session limit)", "[amqp][bridge]") {
  Fixture fx;
  CHECK(amqp::BridgeOptions{}.outbox_max == 0);
  fx.config.max_queued_messages = 10;  // ordinary sessions' limit: not the outbox's
  fx.start_broker();
  constexpr int kMessages = 100'050;
  int refused = 0;
  for (int i = 0; i < kMessages; ++i) {
    core::MessageRef m = fx.broker->make_message();
    m->topic = "s/x";
    m->payload = "p";
    m->qos = 1;
    if (fx.broker->publish(m, nullptr).quota_exceeded) ++refused;
    if (i % 1000 == 999) fx.broker->flush();
  }
  fx.broker->flush();
  CHECK(refused == 0);
  CHECK(fx.bridge->outbox_depth() == kMessages);
}
