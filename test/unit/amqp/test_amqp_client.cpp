// AmqpClient state machine against a scripted server: a fake ConnectionSink
// records what the client writes; the test feeds it server frames.
#include <catch2/catch.hpp>

#include "amqp_client.h"
#include "amqp_testkit.h"

using namespace amqp_testkit;
using namespace junction;

namespace {

class FakeSink final : public core::ConnectionSink {
 public:
  void write(std::string_view b) override { out += b; }
  std::size_t queued_bytes() const override { return queued; }
  void close_after_flush() override { closed_after_flush = true; }
  void abort() override { aborted = true; }
  void pause_reading(bool) override {}
  const core::ConnectionInfo& info() const override { return info_; }

  std::string out;
  std::size_t queued = 0;
  bool closed_after_flush = false, aborted = false;
  core::ConnectionInfo info_;
};

struct Events final : amqp::ClientEvents {
  int ready = 0;
  std::vector<std::tuple<std::uint64_t, bool, bool>> confirms;
  std::vector<amqp::BasicReturn> returns;
  std::vector<amqp::IncomingMessage> deliveries;
  std::vector<bool> blocked;
  std::vector<std::string> closed;
  void amqp_ready() override { ++ready; }
  void amqp_confirm(std::uint64_t s, bool a, bool m) override { confirms.emplace_back(s, a, m); }
  void amqp_returned(const amqp::BasicReturn& r) override { returns.push_back(r); }
  void amqp_delivery(amqp::IncomingMessage& m) override { deliveries.push_back(m); }
  void amqp_blocked(bool b, const std::string&) override { blocked.push_back(b); }
  void amqp_closed(const std::string& why) override { closed.push_back(why); }
};

// What the client wrote, decoded: methods in order (content frames skipped,
// their bodies collected).
struct Written {
  std::vector<Method> methods;
  std::vector<ContentHeader> headers;
  std::string bodies;
  std::size_t heartbeats = 0;
};

Written decode_written(std::string_view out) {
  Written w;
  REQUIRE(out.substr(0, 8) == kProtocolHeader);
  out.remove_prefix(8);
  FrameParser p(1u << 20);
  while (!out.empty()) {
    Frame f;
    Error e;
    REQUIRE(p.next(bytes_of(out), f, e) == ParseResult::Frame);
    if (f.type == FrameType::Method) {
      Method m;
      REQUIRE(decode_method(f.payload, m) == Error::None);
      w.methods.push_back(m);
    } else if (f.type == FrameType::Header) {
      ContentHeader h;
      REQUIRE(decode_content_header(f.payload, h) == Error::None);
      w.headers.push_back(h);
    } else if (f.type == FrameType::Body) {
      w.bodies.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
    } else {
      ++w.heartbeats;
    }
    out.remove_prefix(f.total_size);
  }
  return w;
}

std::string frame(std::uint16_t ch, const Method& m) {
  std::string s;
  REQUIRE(encode_method(ch, m, s) == Error::None);
  return s;
}

std::size_t feed(amqp::AmqpClient& c, const std::string& bytes) {
  return c.on_bytes(bytes_of(bytes));
}

struct Fixture {
  FakeSink sink;
  Events ev;
  amqp::ClientOptions opt;
  std::unique_ptr<amqp::AmqpClient> client;

  Fixture() {
    opt.user = "u";
    opt.password = "p";
    opt.vhost = "/v";
    opt.frame_max = 65536;
    opt.heartbeat_s = 30;
    opt.prefetch = 10;
    opt.exchanges = {amqp::ExchangeDecl{"ex", "topic", true}};
    opt.queues = {amqp::QueueDecl{"q", true}};
    opt.bindings = {amqp::BindingDecl{"q", "ex", "#"}};
    opt.consume = {"q"};
    client = std::make_unique<amqp::AmqpClient>(sink, opt, ev, 0);
  }

  void handshake() {
    ConnectionStart s;
    s.server_properties = {Field{"product", FieldValue::string("RabbitMQ")}};
    s.mechanisms = "AMQPLAIN PLAIN";
    s.locales = "en_US";
    std::string in = frame(0, s) + frame(0, ConnectionTune{2047, 131072, 60}) + frame(0, ConnectionOpenOk{}) +
                     frame(1, ChannelOpenOk{}) + frame(1, ExchangeDeclareOk{}) + frame(1, QueueDeclareOk{"q", 0, 0}) +
                     frame(1, QueueBindOk{}) + frame(1, BasicQosOk{}) + frame(1, ConfirmSelectOk{}) +
                     frame(1, BasicConsumeOk{"junction-0"});
    REQUIRE(feed(*client, in) == in.size());
    REQUIRE(client->ready());
    REQUIRE(ev.ready == 1);
  }
};

}  // namespace

TEST_CASE("handshake: PLAIN, tune, open, topology, qos, confirms, consume", "[amqp][client]") {
  Fixture fx;
  fx.handshake();
  const Written w = decode_written(fx.sink.out);
  REQUIRE(w.methods.size() == 10);
  const auto& so = std::get<ConnectionStartOk>(w.methods[0]);
  CHECK(so.mechanism == "PLAIN");
  CHECK(so.response == std::string("\0u\0p", 4));
  const auto& tune = std::get<ConnectionTuneOk>(w.methods[1]);
  CHECK(tune.frame_max == 65536);  // the lower of both
  CHECK(tune.heartbeat == 30);
  CHECK(tune.channel_max == 2047);
  CHECK(std::get<ConnectionOpen>(w.methods[2]).virtual_host == "/v");
  CHECK(std::holds_alternative<ChannelOpen>(w.methods[3]));
  CHECK(std::get<ExchangeDeclare>(w.methods[4]).type == "topic");
  CHECK(std::get<ExchangeDeclare>(w.methods[4]).durable);
  CHECK(std::get<QueueDeclare>(w.methods[5]).queue == "q");
  CHECK(std::get<QueueBind>(w.methods[6]).routing_key == "#");
  CHECK(std::get<BasicQos>(w.methods[7]).prefetch_count == 10);
  CHECK(std::holds_alternative<ConfirmSelect>(w.methods[8]));
  const auto& consume = std::get<BasicConsume>(w.methods[9]);
  CHECK(consume.queue == "q");
  CHECK_FALSE(consume.no_ack);  // manual acks
  CHECK(fx.client->negotiated_frame_max() == 65536);
  CHECK(fx.client->server_product() == "RabbitMQ");
}

TEST_CASE("handshake bytes may arrive one at a time", "[amqp][client]") {
  FakeSink sink;
  Events ev;
  amqp::ClientOptions opt;
  amqp::AmqpClient c(sink, opt, ev, 0);
  ConnectionStart s;
  s.mechanisms = "PLAIN";
  const std::string in = frame(0, s) + frame(0, ConnectionTune{0, 0, 0}) + frame(0, ConnectionOpenOk{}) +
                         frame(1, ChannelOpenOk{}) + frame(1, BasicQosOk{}) + frame(1, ConfirmSelectOk{});
  std::string buf;
  for (char ch : in) {
    buf.push_back(ch);
    buf.erase(0, c.on_bytes(bytes_of(buf)));
  }
  CHECK(buf.empty());
  CHECK(c.ready());
  CHECK(c.negotiated_frame_max() == 131072);  // server said 0 (no limit): ours
  CHECK(c.negotiated_heartbeat() == 30);
}

TEST_CASE("publish with confirms, returns and deliveries", "[amqp][client]") {
  Fixture fx;
  fx.handshake();
  fx.sink.out.resize(8);  // keep the protocol header only

  BasicProperties props;
  props.content_type = "text/plain";
  props.message_id = "m1";
  const std::string big(70000, 'b');  // over frame-max: several body frames
  CHECK(fx.client->publish("ex", "a.b", props, "hello", false) == 1);
  CHECK(fx.client->publish("ex", "a.c", props, big, true) == 2);
  CHECK(fx.client->publish("ex", "a.d", props, "", false) == 3);
  Written w = decode_written(fx.sink.out);
  REQUIRE(w.methods.size() == 3);
  CHECK(std::get<BasicPublish>(w.methods[1]).mandatory);
  CHECK(std::get<BasicPublish>(w.methods[1]).routing_key == "a.c");
  REQUIRE(w.headers.size() == 3);
  CHECK(w.headers[1].body_size == big.size());
  CHECK(w.headers[0].properties.content_type == "text/plain");
  CHECK(w.bodies == "hello" + big);

  std::string in = frame(1, BasicReturn{312, "NO_ROUTE", "ex", "a.c"});
  ContentHeader rh;
  rh.body_size = 3;
  REQUIRE(encode_content_header(1, rh, in) == Error::None);
  encode_body(1, "abc", 4096, in);
  in += frame(1, BasicAck{2, true}) + frame(1, BasicNack{3, false, false});
  REQUIRE(feed(*fx.client, in) == in.size());
  REQUIRE(fx.ev.returns.size() == 1);
  CHECK(fx.ev.returns[0].reply_code == 312);
  REQUIRE(fx.ev.confirms.size() == 2);
  CHECK(fx.ev.confirms[0] == std::make_tuple(std::uint64_t{2}, true, true));
  CHECK(fx.ev.confirms[1] == std::make_tuple(std::uint64_t{3}, false, false));

  // A delivery in pieces: method, header, two body frames, fed byte by byte.
  std::string d = frame(1, BasicDeliver{"junction-0", 42, true, "ex", "x.y"});
  ContentHeader h;
  h.body_size = 6;
  h.properties = full_properties();
  REQUIRE(encode_content_header(1, h, d) == Error::None);
  encode_body(1, "123", 4096, d);
  encode_body(1, "456", 4096, d);
  std::string buf;
  for (char ch : d) {
    buf.push_back(ch);
    buf.erase(0, fx.client->on_bytes(bytes_of(buf)));
  }
  REQUIRE(fx.ev.deliveries.size() == 1);
  const auto& m = fx.ev.deliveries[0];
  CHECK(m.delivery_tag == 42);
  CHECK(m.redelivered);
  CHECK(m.routing_key == "x.y");
  CHECK(m.body == "123456");
  CHECK(m.properties == full_properties());
  CHECK(m.consumer == 0);

  fx.sink.out.resize(8);
  fx.client->ack(42);
  fx.client->nack(43, true);
  w = decode_written(fx.sink.out);
  REQUIRE(w.methods.size() == 2);
  CHECK(std::get<BasicAck>(w.methods[0]).delivery_tag == 42);
  CHECK(std::get<BasicNack>(w.methods[1]).requeue);
}

TEST_CASE("connection.blocked stops publishing until unblocked", "[amqp][client]") {
  Fixture fx;
  fx.handshake();
  CHECK(fx.client->can_publish());
  feed(*fx.client, frame(0, ConnectionBlocked{"low on memory"}));
  CHECK_FALSE(fx.client->can_publish());
  feed(*fx.client, frame(0, ConnectionUnblocked{}));
  CHECK(fx.client->can_publish());
  CHECK(fx.ev.blocked == std::vector<bool>{true, false});
  fx.sink.queued = amqp::AmqpClient::kMaxQueuedBytes;  // socket behind
  CHECK_FALSE(fx.client->can_publish());
}

TEST_CASE("server close: reply code logged, close-ok sent, connection closed", "[amqp][client]") {
  Fixture fx;
  fx.handshake();
  fx.sink.out.resize(8);
  SECTION("connection.close") {
    feed(*fx.client, frame(0, ConnectionClose{320, "CONNECTION_FORCED - shutdown", 0, 0}));
    const Written w = decode_written(fx.sink.out);
    REQUIRE(w.methods.size() == 1);
    CHECK(std::holds_alternative<ConnectionCloseOk>(w.methods[0]));
    CHECK(fx.sink.closed_after_flush);
    fx.client->on_closed();
    REQUIRE(fx.ev.closed.size() == 1);
    CHECK(fx.ev.closed[0].find("320 CONNECTION_FORCED") != std::string::npos);
  }
  SECTION("channel.close: close-ok, then the connection is closed politely") {
    feed(*fx.client, frame(1, ChannelClose{404, "NOT_FOUND - no exchange", 60, 40}));
    Written w = decode_written(fx.sink.out);
    REQUIRE(w.methods.size() == 2);
    CHECK(std::holds_alternative<ChannelCloseOk>(w.methods[0]));
    CHECK(std::get<ConnectionClose>(w.methods[1]).reply_code == 200);
    CHECK_FALSE(fx.client->can_publish());
    CHECK_FALSE(fx.sink.closed_after_flush);
    feed(*fx.client, frame(0, ConnectionCloseOk{}));
    CHECK(fx.sink.closed_after_flush);
    fx.client->on_closed();
    CHECK(fx.ev.closed.at(0).find("404 NOT_FOUND") != std::string::npos);
  }
}

TEST_CASE("heartbeats both ways", "[amqp][client]") {
  Fixture fx;
  fx.handshake();  // heartbeat 30 s
  fx.sink.out.resize(8);
  fx.client->on_tick(10000);
  CHECK(decode_written(fx.sink.out).heartbeats == 0);
  fx.client->on_tick(15000);
  CHECK(decode_written(fx.sink.out).heartbeats == 1);
  feed(*fx.client, [] { std::string s; encode_heartbeat(s); return s; }());  // received at 15 s
  fx.client->on_tick(70000);
  CHECK_FALSE(fx.sink.aborted);
  fx.client->on_tick(75001);  // > 2 intervals since the last frame
  CHECK(fx.sink.aborted);
  fx.client->on_closed();
  CHECK(fx.ev.closed.at(0).find("heartbeat") != std::string::npos);
}

TEST_CASE("protocol errors close the connection with a reason", "[amqp][client]") {
  Fixture fx;
  SECTION("garbage") {
    CHECK(feed(*fx.client, "\x07garbage") == 8);
    CHECK(fx.sink.closed_after_flush);
    const Written w = decode_written(fx.sink.out);
    REQUIRE(w.methods.size() == 1);
    CHECK(std::get<ConnectionClose>(w.methods[0]).reply_code == 505);
  }
  SECTION("server refuses the protocol version") {
    feed(*fx.client, std::string(kProtocolHeader));
    CHECK(fx.sink.closed_after_flush);
  }
  SECTION("no PLAIN mechanism") {
    ConnectionStart s;
    s.mechanisms = "EXTERNAL";
    feed(*fx.client, frame(0, s));
    CHECK(fx.sink.closed_after_flush);
  }
  SECTION("unexpected method during the handshake") {
    feed(*fx.client, frame(0, ConnectionTune{}));
    CHECK(fx.sink.closed_after_flush);
  }
  SECTION("content without a method") {
    fx.handshake();
    std::string s;
    encode_body(1, "x", 4096, s);
    feed(*fx.client, s);
    CHECK(fx.sink.closed_after_flush);
  }
  SECTION("handshake timeout") {
    fx.client->on_tick(29000);
    CHECK_FALSE(fx.sink.aborted);
    fx.client->on_tick(31000);
    CHECK(fx.sink.aborted);
  }
}
