// MQTT side of the front-end test kit: a world (broker + MqttProtocol), a
// client that encodes its packets with the project's codec, and the server's
// packets split and decoded with the real decoders.
//
// Decoded structs (Connack, Ack, Disconnect...) hold views into their
// Packet's bytes: keep the Packet alive while using them. PUBLISH is copied
// out (Pub) since tests keep those longest.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontend_testkit.h"
#include "mqtt_codec.h"
#include "mqtt_protocol.h"

namespace junction::fetest {

using mqtt::PacketType;
using mqtt::Reason;
using mqtt::Version;

struct MqttWorld : BrokerWorld {
  std::unique_ptr<mqtt::MqttProtocol> proto;
  explicit MqttWorld(const mqtt::MqttOptions& o = {}, const core::BrokerConfig& c = {}) : BrokerWorld(c) {
    proto = std::make_unique<mqtt::MqttProtocol>(*broker, o);
  }
  core::Session* session(std::string_view id) const { return broker->find_session(id); }
};

// One server packet, bytes owned.
struct Packet {
  PacketType type{};
  std::uint8_t flags = 0;
  std::string raw;
  Version v = Version::V311;

  mqtt::Frame frame() const {
    const mqtt::MqttFrameParser parser(268435455u + 5u, v);
    mqtt::Frame f;
    mqtt::Status st;
    REQUIRE(parser.next(span_of(raw), f, st) == mqtt::FrameResult::Frame);
    return f;
  }
  mqtt::Connack connack() const {
    REQUIRE(type == PacketType::Connack);
    mqtt::Connack c;
    REQUIRE(mqtt::decode_connack(frame(), v, c).ok());
    return c;
  }
  mqtt::Ack ack() const {
    mqtt::Ack a;
    REQUIRE(mqtt::decode_ack(frame(), v, a).ok());
    return a;
  }
  mqtt::SubAck suback() const {
    mqtt::SubAck s;
    REQUIRE(mqtt::decode_suback(frame(), v, s).ok());
    return s;
  }
  mqtt::Disconnect disconnect() const {
    REQUIRE(type == PacketType::Disconnect);
    mqtt::Disconnect d;
    REQUIRE(mqtt::decode_disconnect(frame(), v, d).ok());
    return d;
  }
  mqtt::Auth auth() const {
    REQUIRE(type == PacketType::Auth);
    mqtt::Auth a;
    REQUIRE(mqtt::decode_auth(frame(), v, a).ok());
    return a;
  }
};

// An outgoing PUBLISH, copied out of its packet.
struct Pub {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool dup = false;
  bool retain = false;
  std::uint16_t packet_id = 0;
  std::optional<std::uint16_t> topic_alias;
};

inline std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}
// Bytes written as hex, for exact comparisons: bytes({0x20, 2, 0, 0}).
inline std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(char(b));
  return s;
}

struct ConnectOpts {
  Version v = Version::V311;
  std::string id = "c1";
  bool clean = true;
  std::uint16_t keep_alive = 30;
  mqtt::Properties props;            // v5 CONNECT properties
  std::optional<std::string> username;
  std::optional<std::string> will_topic;
  std::string will_payload;
  std::uint8_t will_qos = 0;
};

class MqttClient : public Conn {
 public:
  explicit MqttClient(MqttWorld& w, Version v = Version::V311) : Conn(*w.proto, w.clock), world_(w), v_(v) {}

  Version version() const { return v_; }

  // ---- client -> server ----
  void send_connect(const ConnectOpts& o) {
    v_ = o.v;
    mqtt::Connect c;
    c.version = o.v;
    c.clean_start = o.clean;
    c.keep_alive = o.keep_alive;
    c.client_id = o.id;
    c.properties = o.props;
    if (o.username) c.username = *o.username;
    if (o.will_topic) {
      mqtt::Will w;
      w.topic = *o.will_topic;
      w.payload = span_of(o.will_payload);
      w.qos = o.will_qos;
      c.will = w;
    }
    std::string out;
    mqtt::encode_connect(c, out);
    feed(out);
  }
  // CONNECT and the CONNACK it must get (accepted); returns the CONNACK packet.
  Packet connect(const ConnectOpts& o) {
    send_connect(o);
    Packet p = next();
    REQUIRE(p.type == PacketType::Connack);
    REQUIRE(p.connack().code == 0);
    return p;
  }
  Packet connect(Version v, std::string id, bool clean = true) {
    ConnectOpts o;
    o.v = v;
    o.id = std::move(id);
    o.clean = clean;
    return connect(o);
  }
  static std::string encode_publish(Version v, std::string_view topic, std::string_view payload, std::uint8_t qos,
                                    std::uint16_t pid, const mqtt::Properties& props = {}, bool dup = false,
                                    bool retain = false) {
    mqtt::Publish p;
    p.topic = topic;
    p.payload = span_of(payload);
    p.qos = qos;
    p.packet_id = qos ? pid : 0;
    p.dup = dup;
    p.retain = retain;
    p.properties = props;
    std::string out;
    mqtt::encode_publish(v, p, out);
    return out;
  }
  void publish(std::string_view topic, std::string_view payload, std::uint8_t qos = 0, std::uint16_t pid = 0,
               const mqtt::Properties& props = {}, bool dup = false, bool retain = false) {
    feed(encode_publish(v_, topic, payload, qos, pid, props, dup, retain));
  }
  void send_subscribe(std::uint16_t pid, std::string_view filter, std::uint8_t qos) {
    mqtt::Subscribe s;
    s.packet_id = pid;
    mqtt::SubscribeTopic t;
    t.filter = filter;
    t.qos = qos;
    s.topics.push_back(t);
    std::string out;
    mqtt::encode_subscribe(v_, s, out);
    feed(out);
  }
  // SUBSCRIBE and its SUBACK granting `qos` (committed first: a persistent
  // session's SUBACK waits for the store).
  void subscribe(std::string_view filter, std::uint8_t qos, std::uint16_t pid = 1) {
    send_subscribe(pid, filter, qos);
    world_.commit();
    Packet p = next();
    REQUIRE(p.type == PacketType::Suback);
    const mqtt::SubAck s = p.suback();
    REQUIRE(s.packet_id == pid);
    REQUIRE(s.codes == std::vector<std::uint8_t>{qos});
  }
  void send_ack(PacketType type, std::uint16_t pid, Reason reason = Reason::Success) {
    mqtt::Ack a;
    a.type = type;
    a.packet_id = pid;
    a.reason = reason;
    std::string out;
    mqtt::encode_ack(v_, a, out);
    feed(out);
  }
  void send_disconnect(Reason reason = Reason::Success, const mqtt::Properties& props = {}) {
    mqtt::Disconnect d;
    d.reason = reason;
    d.properties = props;
    std::string out;
    mqtt::encode_disconnect(v_, d, out);
    feed(out);
  }
  // AUTH (v5; the codec encodes it whatever the connection's version).
  void send_auth(Reason reason, std::optional<std::string_view> method, std::optional<std::string_view> data = {}) {
    mqtt::Auth a;
    a.reason = reason;
    a.properties.authentication_method = method;
    a.properties.authentication_data = data;
    std::string out;
    mqtt::encode_auth(a, out);
    feed(out);
  }
  void send_pingreq() {
    std::string out;
    mqtt::encode_pingreq(out);
    feed(out);
  }

  // ---- server -> client ----
  // Every whole packet written since the previous call.
  std::vector<Packet> packets() {
    pending_ += take_output();
    std::vector<Packet> out;
    const mqtt::MqttFrameParser parser(268435455u + 5u, v_);
    for (;;) {
      mqtt::Frame f;
      mqtt::Status st;
      const mqtt::FrameResult r = parser.next(span_of(pending_), f, st);
      REQUIRE(r != mqtt::FrameResult::Error);
      if (r == mqtt::FrameResult::NeedMore) break;
      out.push_back(Packet{f.type, f.flags, pending_.substr(0, f.total_size), v_});
      pending_.erase(0, f.total_size);
    }
    return out;
  }
  // Exactly one packet is waiting; returns it.
  Packet next() {
    std::vector<Packet> ps = packets();
    INFO("server wrote " << ps.size() << " packets");
    REQUIRE(ps.size() == 1);
    return std::move(ps[0]);
  }
  // Nothing was written.
  bool silent() {
    pending_ += take_output();
    return pending_.empty();
  }
  // Every packet is a PUBLISH: copied out.
  std::vector<Pub> publishes() {
    std::vector<Pub> out;
    for (const Packet& p : packets()) out.push_back(to_pub(p));
    return out;
  }
  Pub to_pub(const Packet& p) const {
    REQUIRE(p.type == PacketType::Publish);
    mqtt::Publish d;
    REQUIRE(mqtt::decode_publish(p.frame(), v_, d).ok());
    Pub out;
    out.topic.assign(d.topic);
    out.payload.assign(reinterpret_cast<const char*>(d.payload.data()), d.payload.size());
    out.qos = d.qos;
    out.dup = d.dup;
    out.retain = d.retain;
    out.packet_id = d.packet_id;
    out.topic_alias = d.properties.topic_alias;
    return out;
  }

 private:
  MqttWorld& world_;
  Version v_;
  std::string pending_;  // written, not yet split into packets
};

// A connected v3.1.1 subscriber "keeper" with a persistent session: its QoS 1
// copies are written to the store, so publishes to it wait for the commit.
inline void durable_subscriber(MqttClient& sub, std::string_view filter = "t/#") {
  sub.connect(Version::V311, "keeper", false);
  sub.subscribe(filter, 1);
}

}  // namespace junction::fetest
