// MQTT front-end in-process: QoS 1 and QoS 2 flows in both directions
// (answers held until the store commit, exactly-once on resend) and topic
// aliases both ways. Limits and back-pressure: test_mqtt_fe_limits.cpp.
#include <catch2/catch.hpp>

#include "mqtt_kit.h"

using namespace junction;
using namespace junction::fetest;

namespace {

mqtt::Properties alias(std::uint16_t a) {
  mqtt::Properties p;
  p.topic_alias = a;
  return p;
}

}  // namespace

// ---------------------------------------------------------------- incoming ----

TEST_CASE("SUBACK of a persistent session waits for the store commit", "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient c(w);
  c.connect(Version::V311, "keeper", false);
  c.send_subscribe(3, "t/#", 1);
  CHECK(c.silent());
  w.commit();
  CHECK(hex(c.take_output()) == hex(bytes({0x90, 0x03, 0x00, 0x03, 0x01})));
}

TEST_CASE("incoming QoS 1: PUBACK only after the commit that stored the message", "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient sub(w);
  durable_subscriber(sub);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/1", "hello", 1, 7);
  CHECK(pub.silent());
  // Routed at once (the subscriber is online), acknowledged only once durable.
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].topic == "t/1");
  CHECK(got[0].payload == "hello");
  CHECK(got[0].qos == 1);
  w.commit();
  CHECK(hex(pub.take_output()) == hex(bytes({0x40, 0x02, 0x00, 0x07})));
}

TEST_CASE("PUBACKs leave in arrival order: one that needs no store waits behind one that does",
          "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient sub(w);
  durable_subscriber(sub);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/1", "durable", 1, 7);
  pub.publish("nobody/listens", "volatile", 1, 8);
  CHECK(pub.silent());
  w.commit();
  CHECK(hex(pub.take_output()) == hex(bytes({0x40, 0x02, 0x00, 0x07, 0x40, 0x02, 0x00, 0x08})));
}

TEST_CASE("v5 QoS 1 publish without subscribers: PUBACK 0x10 at once", "[mqtt_fe][qos][v5]") {
  MqttWorld w;
  MqttClient pub(w);
  pub.connect(Version::V5, "pub");
  pub.publish("nobody/listens", "x", 1, 5);
  CHECK(hex(pub.take_output()) == hex(bytes({0x40, 0x03, 0x00, 0x05, 0x10})));
}

TEST_CASE("incoming QoS 2: PUBREC, a resent PUBLISH is not routed twice, PUBREL -> PUBCOMP", "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(Version::V311, "sub");
  sub.subscribe("t/#", 2);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/2", "once", 2, 9);
  CHECK(hex(pub.take_output()) == hex(bytes({0x50, 0x02, 0x00, 0x09})));
  REQUIRE(sub.publishes().size() == 1);
  CHECK(w.broker->inbound_held(w.session("pub"), 9));

  // The resend is answered once the batch that may hold its id (the first
  // copy may have arrived in this same read) is committed.
  pub.publish("t/2", "once", 2, 9, {}, /*dup=*/true);
  CHECK(pub.silent());
  w.commit();
  CHECK(hex(pub.take_output()) == hex(bytes({0x50, 0x02, 0x00, 0x09})));
  CHECK(sub.publishes().empty());

  pub.send_ack(PacketType::Pubrel, 9);
  CHECK(hex(pub.take_output()) == hex(bytes({0x70, 0x02, 0x00, 0x09})));
  CHECK_FALSE(w.broker->inbound_held(w.session("pub"), 9));

  // The id is free again: the next PUBLISH with it is a new message.
  pub.publish("t/2", "again", 2, 9);
  CHECK(hex(pub.take_output()) == hex(bytes({0x50, 0x02, 0x00, 0x09})));
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "again");
}

TEST_CASE("incoming QoS 2 of a persistent session: PUBREC and PUBCOMP wait for the commit", "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient pub(w);
  pub.connect(Version::V311, "stored", false);
  w.commit();
  pub.publish("t/2", "x", 2, 4);
  CHECK(pub.silent());  // the held id is written to the store
  w.commit();
  CHECK(hex(pub.take_output()) == hex(bytes({0x50, 0x02, 0x00, 0x04})));
  pub.send_ack(PacketType::Pubrel, 4);
  CHECK(pub.silent());
  w.commit();
  CHECK(hex(pub.take_output()) == hex(bytes({0x70, 0x02, 0x00, 0x04})));
}

TEST_CASE("v5 PUBREL of an unknown id: PUBCOMP 0x92", "[mqtt_fe][qos][v5]") {
  MqttWorld w;
  MqttClient pub(w);
  pub.connect(Version::V5, "pub");
  pub.send_ack(PacketType::Pubrel, 11);
  CHECK(hex(pub.take_output()) == hex(bytes({0x70, 0x03, 0x00, 0x0B, 0x92})));
  CHECK(pub.sink.close_calls == 0);
}

// ---------------------------------------------------------------- outgoing ----

TEST_CASE("outgoing QoS 1: PUBACK completes the delivery", "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(Version::V311, "sub");
  sub.subscribe("t/#", 1);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/1", "m", 1, 1);
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].qos == 1);
  CHECK_FALSE(got[0].dup);
  REQUIRE(got[0].packet_id != 0);
  CHECK(w.session("sub")->inflight().size() == 1);
  sub.send_ack(PacketType::Puback, got[0].packet_id);
  CHECK(w.session("sub")->inflight().size() == 0);
  CHECK(sub.silent());
  CHECK(sub.sink.close_calls == 0);
}

TEST_CASE("outgoing QoS 1 not acknowledged is resent with DUP to the resumed session", "[mqtt_fe][qos]") {
  MqttWorld w;
  std::uint16_t pid = 0;
  {
    MqttClient sub(w);
    durable_subscriber(sub);
    MqttClient pub(w);
    pub.connect(Version::V311, "pub");
    pub.publish("t/1", "m", 1, 1);
    const std::vector<Pub> got = sub.publishes();
    REQUIRE(got.size() == 1);
    pid = got[0].packet_id;
    w.commit();
  }  // both connections drop
  MqttClient sub(w);
  ConnectOpts o;
  o.id = "keeper";
  o.clean = false;
  sub.send_connect(o);
  std::vector<Packet> ps = sub.packets();
  REQUIRE(ps.size() == 2);
  CHECK(hex(ps[0].raw) == hex(bytes({0x20, 0x02, 0x01, 0x00})));
  const Pub again = sub.to_pub(ps[1]);
  CHECK(again.dup);
  CHECK(again.packet_id == pid);
  CHECK(again.payload == "m");
}

TEST_CASE("outgoing QoS 2: PUBREC -> PUBREL, PUBCOMP completes the delivery", "[mqtt_fe][qos]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(GENERATE(Version::V311, Version::V5), "sub");
  sub.subscribe("t/#", 2);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/2", "m", 2, 1);
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].qos == 2);
  const std::uint16_t pid = got[0].packet_id;
  sub.send_ack(PacketType::Pubrec, pid);
  CHECK(hex(sub.take_output()) == hex(bytes({0x62, 0x02, pid >> 8, pid & 0xFF})));
  CHECK(w.session("sub")->inflight().size() == 1);
  sub.send_ack(PacketType::Pubcomp, pid);
  CHECK(w.session("sub")->inflight().size() == 0);
  CHECK(sub.silent());
  CHECK(sub.sink.close_calls == 0);
}

TEST_CASE("v5 PUBACK for a QoS 2 delivery: DISCONNECT 0x82, the delivery is kept", "[mqtt_fe][qos][v5]") {
  MqttWorld w;
  MqttClient sub(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "sub";
  o.clean = false;
  o.props.session_expiry_interval = 300;
  sub.connect(o);
  sub.subscribe("t/#", 2);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/2", "m", 2, 1);
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  sub.send_ack(PacketType::Puback, got[0].packet_id);
  const Packet p = sub.next();
  CHECK(p.disconnect().reason == Reason::ProtocolError);
  CHECK(sub.sink.close_calls == 1);
  sub.transport_closed();
  REQUIRE(w.session("sub") != nullptr);
  CHECK(w.session("sub")->inflight().size() == 1);  // resent to the next connection
}

// ------------------------------------------------------------- topic alias ----

TEST_CASE("client topic alias: set with a topic, then used with an empty topic", "[mqtt_fe][alias][v5]") {
  mqtt::MqttOptions opt;
  opt.topic_alias_maximum = 4;
  MqttWorld w(opt);
  MqttClient sub(w);
  sub.connect(Version::V311, "sub");
  sub.subscribe("#", 0);
  MqttClient pub(w);
  pub.connect(Version::V5, "pub");
  pub.publish("a/b", "1", 0, 0, alias(3));
  pub.publish("", "2", 0, 0, alias(3));
  pub.publish("c", "3", 0, 0, alias(3));  // rebinds alias 3
  pub.publish("", "4", 0, 0, alias(3));
  pub.publish("", "5", 0, 0, alias(1));  // alias 1 was never set
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 4);
  CHECK(got[0].topic == "a/b");
  CHECK(got[1].topic == "a/b");
  CHECK(got[1].payload == "2");
  CHECK(got[2].topic == "c");
  CHECK(got[3].topic == "c");
  CHECK(got[3].payload == "4");
  CHECK(pub.next().disconnect().reason == Reason::ProtocolError);
  CHECK(pub.sink.close_calls == 1);
}

TEST_CASE("client topic alias 0 or above topic_alias_maximum: DISCONNECT 0x94", "[mqtt_fe][alias][v5]") {
  mqtt::MqttOptions opt;
  opt.topic_alias_maximum = 4;
  MqttWorld w(opt);
  MqttClient pub(w);
  pub.connect(Version::V5, "pub");
  pub.publish("a/b", "x", 1, 1, alias(GENERATE(std::uint16_t(0), std::uint16_t(5), std::uint16_t(65535))));
  const Packet p = pub.next();
  CHECK(p.disconnect().reason == Reason::TopicAliasInvalid);
  CHECK(pub.sink.close_calls == 1);
}

TEST_CASE("broker topic aliases: up to the client's maximum, then full topics", "[mqtt_fe][alias][v5]") {
  MqttWorld w;
  MqttClient sub(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "sub";
  o.props.topic_alias_maximum = 2;
  sub.connect(o);
  sub.subscribe("x/#", 0);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  for (const char* t : {"x/1", "x/1", "x/2", "x/3", "x/1", "x/3"}) pub.publish(t, t);
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 6);
  struct Want {
    const char* topic;
    std::optional<std::uint16_t> alias;
  };
  const Want want[] = {{"x/1", 1}, {"", 1}, {"x/2", 2}, {"x/3", std::nullopt}, {"", 1}, {"x/3", std::nullopt}};
  for (std::size_t i = 0; i < 6; ++i) {
    INFO("publish " << i);
    CHECK(got[i].topic == want[i].topic);
    CHECK(got[i].topic_alias == want[i].alias);
  }
}
