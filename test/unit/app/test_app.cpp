// The whole application in-process: App on port-0 listeners, driven over
// real loopback sockets with the project's own codecs (a STOMP SEND reaches
// an MQTT 5 subscriber), a reload, and a shutdown after which every handle
// is closed (run() returns 0 only if uv_loop_close succeeded); and the
// bridges' reload rules on a loop of their own.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "app.h"
#include "config.h"
#include "mqtt_codec.h"
#include "stomp_codec.h"
#include "bridges.h"
#include "loop.h"
#include "mem_store.h"

using namespace junction;

namespace {

// A blocking loopback client with a receive timeout.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { ::close(fd_); }
  void send(const std::string& bytes) { REQUIRE(::write(fd_, bytes.data(), bytes.size()) == ssize_t(bytes.size())); }
  // More bytes (appended to buf); false on EOF or timeout.
  bool read_more() {
    char tmp[4096];
    const ssize_t n = ::read(fd_, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, std::size_t(n));
    return true;
  }
  std::string buf;

 private:
  int fd_ = -1;
};

mqtt::ByteSpan bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// The next whole MQTT packet from `c` (its type and body copied out).
struct Packet {
  mqtt::PacketType type{};
  std::uint8_t flags = 0;
  std::string raw;
};
Packet next_mqtt(Client& c) {
  const mqtt::MqttFrameParser parser;
  for (;;) {
    mqtt::Frame f;
    mqtt::Status st;
    if (parser.next(bytes(c.buf), f, st) == mqtt::FrameResult::Frame) {
      Packet p{f.type, f.flags, c.buf.substr(0, f.total_size)};
      c.buf.erase(0, f.total_size);
      return p;
    }
    REQUIRE(c.read_more());
  }
}
mqtt::Frame frame_of(const Packet& p) {
  const mqtt::MqttFrameParser parser;
  mqtt::Frame f;
  mqtt::Status st;
  REQUIRE(parser.next(bytes(p.raw), f, st) == mqtt::FrameResult::Frame);
  return f;
}

void mqtt_connect(Client& c, const char* id, mqtt::Version v) {
  mqtt::Connect cn;
  cn.version = v;
  cn.protocol_name = "MQTT";
  cn.clean_start = true;
  cn.keep_alive = 30;
  cn.client_id = id;
  std::string out;
  mqtt::encode_connect(cn, out);
  c.send(out);
  const Packet p = next_mqtt(c);
  REQUIRE(p.type == mqtt::PacketType::Connack);
  mqtt::Connack ack;
  REQUIRE(mqtt::decode_connack(frame_of(p), v, ack).ok());
  CHECK(ack.code == 0);
}

// The next STOMP frame from `c`, heart-beats skipped.
stomp::Command next_stomp(Client& c, std::string* body = nullptr) {
  stomp::StompFrameParser parser({}, stomp::Version::V1_2);
  for (;;) {
    stomp::StompFrame f;
    stomp::Status st;
    const stomp::ParseResult r = parser.next(stomp::ByteSpan(reinterpret_cast<const std::uint8_t*>(c.buf.data()), c.buf.size()), f, st);
    if (r == stomp::ParseResult::Frame) {
      const stomp::Command cmd = f.command;
      if (body) body->assign(reinterpret_cast<const char*>(f.body.data()), f.body.size());
      c.buf.erase(0, f.total_size);
      return cmd;
    }
    if (r == stomp::ParseResult::Heartbeat) {
      c.buf.erase(0, 1);
      continue;
    }
    REQUIRE(r == stomp::ParseResult::NeedMore);
    REQUIRE(c.read_more());
  }
}
std::string stomp_frame(stomp::Command cmd, std::initializer_list<stomp::Header> h, const std::string& body = {}) {
  std::string out;
  REQUIRE(stomp::encode_frame(cmd, std::span<const stomp::Header>(h.begin(), h.size()), bytes(body), stomp::Version::V1_2, out).ok());
  return out;
}

Config test_config(const std::string& extra = "") {
  return parse_config("listeners:\n"
                      "  - {protocol: mqtt, transport: tcp, bind: 127.0.0.1, port: 0}\n"
                      "  - {protocol: stomp, transport: tcp, bind: 127.0.0.1, port: 0}\n"
                      "store: {durability: memory}\n"
                      "sys: {interval_s: 0}\n"
                      "log: {level: warning}\n" + extra,
                      "test.yaml");
}

// Runs the app's loop on a thread; the destructor asks for a shutdown and
// checks that run() ended cleanly.
struct Running {
  app::App& a;
  int rc = -1;
  std::thread t;
  explicit Running(app::App& app) : a(app), t([this] { rc = a.run(); }) {}
  int stop() {
    a.request_shutdown();
    t.join();
    return rc;
  }
};

}  // namespace

TEST_CASE("the application starts on port-0 listeners, serves MQTT and STOMP, reloads and shuts down cleanly",
          "[app]") {
  app::App a(test_config(), "", nullptr);
  a.start();
  const auto ports = a.listener_ports();
  REQUIRE(ports.size() == 2);
  REQUIRE(ports[0] != 0);
  REQUIRE(ports[1] != 0);
  CHECK(a.bridge_status().empty());
  Running run(a);

  Client sub(ports[0]);
  mqtt_connect(sub, "sub", mqtt::Version::V5);
  mqtt::Subscribe s;
  s.packet_id = 1;
  s.topics.push_back(mqtt::SubscribeTopic{"app/t", 1});
  std::string out;
  mqtt::encode_subscribe(mqtt::Version::V5, s, out);
  sub.send(out);
  CHECK(next_mqtt(sub).type == mqtt::PacketType::Suback);

  // A STOMP SEND with a receipt reaches the MQTT subscriber at QoS 1.
  Client st(ports[1]);
  st.send(stomp_frame(stomp::Command::Connect, {{"accept-version", "1.2"}, {"host", "localhost"}}));
  CHECK(next_stomp(st) == stomp::Command::Connected);
  st.send(stomp_frame(stomp::Command::Send, {{"destination", "/topic/app/t"}, {"receipt", "r1"}}, "hello"));
  CHECK(next_stomp(st) == stomp::Command::Receipt);
  const Packet pub = next_mqtt(sub);
  REQUIRE(pub.type == mqtt::PacketType::Publish);
  mqtt::Publish p;
  REQUIRE(mqtt::decode_publish(frame_of(pub), mqtt::Version::V5, p).ok());
  CHECK(p.topic == "app/t");
  CHECK(std::string(reinterpret_cast<const char*>(p.payload.data()), p.payload.size()) == "hello");
  REQUIRE(p.qos == 1);  // a STOMP SEND is QoS 1 unless its qos header says otherwise
  mqtt::Ack ack;
  ack.type = mqtt::PacketType::Puback;
  ack.packet_id = p.packet_id;
  out.clear();
  mqtt::encode_ack(mqtt::Version::V5, ack, out);
  sub.send(out);

  // SIGHUP's work with no file: nothing changes, everything keeps serving.
  a.request_reload();
  Client again(ports[0]);
  mqtt_connect(again, "again", mqtt::Version::V311);

  CHECK(run.stop() == app::kExitOk);
  // The MQTT 5 subscriber was told the server is going away.
  const Packet bye = next_mqtt(sub);
  CHECK(bye.type == mqtt::PacketType::Disconnect);
}

TEST_CASE("a reload applies bridges: added ones start, changed ones restart, removed ones stop, the rest stay",
          "[app][bridges]") {
  // Bridges to a port where nothing listens stay "connecting" and retry:
  // enough to see them come and go. Everything runs on the loop thread.
  const std::string base =
      "listeners:\n  - {protocol: mqtt, transport: tcp, bind: 127.0.0.1, port: 0}\n"
      "store: {durability: memory}\n";
  const std::string a = "  - {name: a, uris: [\"amqp://127.0.0.1:9\"], outbound: [{filter: \"x/#\"}]}\n";
  const std::string a2 = "  - {name: a, uris: [\"amqp://127.0.0.1:9\"], outbound: [{filter: \"z/#\"}]}\n";
  const std::string b = "  - {name: b, uris: [\"amqp://127.0.0.1:9\"], outbound: [{filter: \"y/#\"}]}\n";
  const std::string xmpp = "xmpp: {enabled: true, host: 127.0.0.1, port: 9, component: gw.test, secret: s}\n";
  auto cfg = [&](const std::string& extra) { return parse_config(base + extra, "test.yaml"); };

  core::SystemClock clock;
  net::Loop loop(clock);
  store::MemStore store;
  core::Broker broker(core::BrokerConfig{}, store, clock);
  broker.restore();
  app::BridgeSet set(loop, broker);
  auto state = [&] {
    std::map<std::string, std::pair<std::string, std::int64_t>> m;
    for (const auto& st : set.status()) m[st.name] = {st.state, st.started_ms};
    return m;
  };

  set.start(cfg("bridges:\n" + a));
  CHECK(state().size() == 1);
  CHECK(state()["amqp:a"].first == "connecting");

  int step = 0;
  std::int64_t xmpp_started = 0, a_started = 0;
  loop.every(100, [&] {
    set.tick();
    switch (++step) {
      case 3:  // added: b and xmpp
        set.reload(cfg("bridges:\n" + a + b + xmpp));
        CHECK(set.size() == 3);
        break;
      case 12:  // a changed, b removed, xmpp unchanged
        xmpp_started = state()["xmpp"].second;
        a_started = state()["amqp:a"].second;
        set.reload(cfg("bridges:\n" + a2 + xmpp));
        break;
      case 20: {
        const auto m = state();
        CHECK(m.count("amqp:b") == 0);  // stopped and gone
        REQUIRE(m.count("amqp:a") == 1);
        CHECK(m.at("amqp:a").first == "connecting");
        CHECK(m.at("amqp:a").second > a_started);  // restarted: a new bridge object
        REQUIRE(m.count("xmpp") == 1);
        CHECK(m.at("xmpp").second == xmpp_started);  // the same bridge, untouched
        set.stop();
        break;
      }
      default:
        if (step > 20) set.poll();
        if (step > 20 && set.stopped()) loop.stop();
        if (step > 80) FAIL("bridges did not stop");
        break;
    }
  });
  CHECK(loop.run() == 0);
  CHECK(set.status().empty());
}
