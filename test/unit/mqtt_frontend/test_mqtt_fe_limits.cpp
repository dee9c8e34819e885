// MQTT front-end in-process: limits and back-pressure. Receive Maximum both
// ways, max_publish_rate, the delivery window (queued_bytes over
// outbound_limit), answers owed to the store (reading pauses past 4096),
// a failed store commit (never a positive answer), and the client's
// Maximum Packet Size.
#include <catch2/catch.hpp>

#include "mqtt_kit.h"

using namespace junction;
using namespace junction::fetest;

// --------------------------------------------------------- receive maximum ----

TEST_CASE("the broker sends no more QoS 1 than the client's Receive Maximum until an ack",
          "[mqtt_fe][flow][v5]") {
  MqttWorld w;
  MqttClient sub(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "sub";
  o.props.receive_maximum = 2;
  sub.connect(o);
  sub.subscribe("t/#", 1);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  for (const char* m : {"1", "2", "3"}) pub.publish("t/1", m, 1, 1);
  std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 2);
  CHECK(got[0].payload == "1");
  CHECK(got[1].payload == "2");
  CHECK(w.session("sub")->pending().size() == 1);
  sub.send_ack(PacketType::Puback, got[1].packet_id);
  got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "3");
}

TEST_CASE("a client over the broker's receive_maximum: DISCONNECT 0x93", "[mqtt_fe][flow][v5]") {
  mqtt::MqttOptions opt;
  opt.receive_maximum = 2;
  MqttWorld w(opt);
  MqttClient pub(w);
  pub.connect(Version::V5, "pub");
  SECTION("QoS 2 slots are held until PUBCOMP") {
    pub.publish("t", "1", 2, 1);
    pub.publish("t", "2", 2, 2);
    CHECK(pub.packets().size() == 2);  // PUBREC, PUBREC
    SECTION("a third one is refused") {
      pub.publish("t", "3", 2, 3);
      CHECK(pub.next().disconnect().reason == Reason::ReceiveMaximumExceeded);
      CHECK(pub.sink.close_calls == 1);
    }
    SECTION("after PUBREL -> PUBCOMP there is room again") {
      pub.send_ack(PacketType::Pubrel, 1);
      CHECK(hex(pub.take_output()) == hex(bytes({0x70, 0x02, 0x00, 0x01})));
      pub.publish("t", "3", 2, 3);
      CHECK(hex(pub.take_output()) == hex(bytes({0x50, 0x03, 0x00, 0x03, 0x10})));
      CHECK(pub.sink.close_calls == 0);
    }
  }
  SECTION("QoS 1 PUBACKs still waiting for the store count too") {
    MqttClient sub(w);
    durable_subscriber(sub);
    pub.publish("t/1", "1", 1, 1);
    pub.publish("t/1", "2", 1, 2);
    CHECK(pub.silent());
    pub.publish("t/1", "3", 1, 3);
    CHECK(pub.next().disconnect().reason == Reason::ReceiveMaximumExceeded);
    w.commit();
    CHECK(pub.silent());  // the owed PUBACKs are not sent once the connection ends
    CHECK(pub.sink.late_writes == 0);
  }
}

// ------------------------------------------------------------ publish rate ----

TEST_CASE("max_publish_rate pauses reading; a tick with a token resumes it", "[mqtt_fe][rate][timer]") {
  mqtt::MqttOptions opt;
  opt.client.max_publish_rate = 2;
  MqttWorld w(opt);
  MqttClient sub(w);
  sub.connect(Version::V311, "sub");
  sub.subscribe("t/#", 0);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  std::string three;
  for (const char* m : {"1", "2", "3"}) three += MqttClient::encode_publish(Version::V311, "t/1", m, 0, 0);
  pub.feed(three);
  CHECK(sub.publishes().size() == 2);
  CHECK(pub.sink.pauses == std::vector<bool>{true});
  CHECK(pub.unconsumed_input() == three.size() / 3);  // the third waits unread
  CHECK(w.proto->counters().rate_limited == 1);

  w.clock.advance(100);  // 0.2 token: not yet
  pub.tick();
  CHECK(pub.sink.pauses == std::vector<bool>{true});
  w.clock.advance(400);
  pub.tick();
  CHECK(pub.sink.pauses == std::vector<bool>{true, false});
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "3");
  CHECK(pub.unconsumed_input() == 0);
  CHECK(pub.sink.close_calls == 0);
  CHECK(pub.silent());
}

TEST_CASE("max_publish_rate counts PUBLISH only: PINGREQ and SUBSCRIBE pass", "[mqtt_fe][rate]") {
  mqtt::MqttOptions opt;
  opt.client.max_publish_rate = 1;
  MqttWorld w(opt);
  MqttClient c(w);
  c.connect(Version::V311, "c");
  c.publish("t", "1");
  c.send_pingreq();
  c.send_pingreq();
  CHECK(hex(c.take_output()) == hex(bytes({0xD0, 0x00, 0xD0, 0x00})));
  CHECK(c.sink.pauses.empty());
  c.subscribe("t", 0, 2);
  CHECK(c.sink.pauses.empty());
}

// ---------------------------------------------------------- delivery window ----

TEST_CASE("deliveries wait while the transport holds outbound_limit bytes; drained resumes them",
          "[mqtt_fe][window]") {
  mqtt::MqttOptions opt;
  opt.client.outbound_limit = 1000;
  MqttWorld w(opt);
  MqttClient sub(w);
  sub.connect(Version::V311, "sub");
  sub.subscribe("t/#", 1);
  sub.sink.queued = 1000;
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/1", "a", 1, 1);
  pub.publish("t/1", "b", 1, 2);
  CHECK(sub.silent());
  CHECK(w.session("sub")->pending().size() == 2);
  sub.sink.queued = 999;
  sub.drained();
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 2);
  CHECK(got[0].payload == "a");
  CHECK(got[1].payload == "b");
}

// ------------------------------------------------------- answers to the store ----

TEST_CASE("4096 answers owed to the store pause reading; the commit releases them in order",
          "[mqtt_fe][backpressure]") {
  MqttWorld w;
  MqttClient sub(w);
  durable_subscriber(sub);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  std::string burst;
  for (int i = 1; i <= 4096; ++i) burst += MqttClient::encode_publish(Version::V311, "t/1", "x", 1, std::uint16_t(i));
  pub.feed(burst);
  CHECK(pub.silent());
  CHECK(pub.sink.pauses == std::vector<bool>{true});
  w.commit();
  CHECK(pub.sink.pauses == std::vector<bool>{true, false});
  const std::vector<Packet> acks = pub.packets();
  REQUIRE(acks.size() == 4096);
  bool in_order = true;
  for (std::size_t i = 0; i < acks.size(); ++i) {
    in_order = in_order && acks[i].type == PacketType::Puback && acks[i].ack().packet_id == i + 1;
  }
  CHECK(in_order);
}

// ------------------------------------------------------------ store failure ----

TEST_CASE("a failed commit is never acknowledged as success", "[mqtt_fe][store]") {
  MqttWorld w;
  MqttClient sub(w);
  durable_subscriber(sub);
  MqttClient pub(w);
  SECTION("v5: PUBACK 0x97 quota exceeded") {
    pub.connect(Version::V5, "pub");
    pub.publish("t/1", "x", 1, 7);
    CHECK(pub.silent());
    w.store.fail_next(store::StoreError::Full);
    w.commit();
    CHECK(hex(pub.take_output()) == hex(bytes({0x40, 0x03, 0x00, 0x07, 0x97})));
    CHECK(pub.sink.close_calls == 0);
  }
  SECTION("v5: PUBREC 0x97 quota exceeded") {
    pub.connect(Version::V5, "pub");
    pub.publish("t/1", "x", 2, 8);
    w.store.fail_next(store::StoreError::Full);
    w.commit();
    CHECK(hex(pub.take_output()) == hex(bytes({0x50, 0x03, 0x00, 0x08, 0x97})));
  }
  SECTION("v3.1.1 has no negative PUBACK: the connection is closed instead") {
    pub.connect(Version::V311, "pub");
    pub.publish("t/1", "x", 1, 7);
    w.store.fail_next(store::StoreError::Io);
    w.commit();
    CHECK(pub.silent());
    CHECK(pub.sink.close_calls == 1);
  }
}

// ------------------------------------------------------- maximum packet size ----

TEST_CASE("a message larger than the client's Maximum Packet Size is not sent to it", "[mqtt_fe][v5]") {
  MqttWorld w;
  MqttClient sub(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "small";
  o.props.maximum_packet_size = 64;
  sub.connect(o);
  sub.subscribe("t/#", 1);
  MqttClient pub(w);
  pub.connect(Version::V311, "pub");
  pub.publish("t/1", std::string(100, 'x'), 1, 1);
  pub.publish("t/1", "fits", 1, 2);
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].payload == "fits");
  CHECK(w.session("small")->inflight().size() == 1);  // the large one is over for this client
}

TEST_CASE("a client whose Maximum Packet Size cannot take the CONNACK gets none", "[mqtt_fe][connect][v5]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "tiny";
  o.props.maximum_packet_size = 8;  // the CONNACK with our limits is larger
  c.send_connect(o);
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 1);
  CHECK(w.session("tiny") == nullptr);
}

// The keep-alive rule must not count a silence the broker made itself: while
// reading is paused (the store owes the client 4096 answers, or its publish
// rate is spent), the client's PINGREQs sit unread in the socket. STOMP's
// heart-beat check skips paused connections the same way, and reading
// resumes with last_rx reset ("the silence was ours").
TEST_CASE("keep-alive does not expire while the broker itself has stopped reading",
          "[mqtt_fe][keepalive][backpressure]") {
  MqttWorld w;
  MqttClient sub(w);
  durable_subscriber(sub);
  MqttClient pub(w);
  ConnectOpts o;
  o.id = "pub";
  o.keep_alive = 10;
  pub.connect(o);
  std::string burst;
  for (int i = 1; i <= 4096; ++i) burst += MqttClient::encode_publish(Version::V311, "t/1", "x", 1, std::uint16_t(i));
  pub.feed(burst);
  REQUIRE(pub.sink.pauses == std::vector<bool>{true});
  // The store stalls; the client keeps pinging, into the unread socket.
  for (int s = 0; s < 16; ++s) {
    w.clock.advance(1000);
    pub.send_pingreq();
    pub.tick();
  }
  CHECK(pub.sink.close_calls == 0);
  w.commit();
  pub.pump();  // reading resumed: the held PINGREQs are read
  CHECK(pub.sink.close_calls == 0);
}
