// MQTT front-end in-process: CONNECT / CONNACK, the connect timeout,
// keep-alive, session takeover, wills and shutdown. The real MqttConnection
// over a fake transport (frontend_testkit.h); every byte the server writes
// is checked exactly or decoded with the real decoders.
#include <catch2/catch.hpp>

#include "mqtt_kit.h"

using namespace junction;
using namespace junction::fetest;

TEST_CASE("v3.1.1 CONNECT with clean session gets CONNACK 0 without session present", "[mqtt_fe][connect]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.id = "plain";
  c.send_connect(o);
  CHECK(hex(c.take_output()) == hex(bytes({0x20, 0x02, 0x00, 0x00})));
  CHECK(c.sink.close_calls == 0);
  CHECK(c.sink.abort_calls == 0);
  REQUIRE(w.session("plain") != nullptr);
  CHECK(w.session("plain")->online());
  CHECK(w.proto->counters().connections == 1);
}

TEST_CASE("v5 CONNACK announces the listener's limits", "[mqtt_fe][connect][v5]") {
  mqtt::MqttOptions opt;
  opt.receive_maximum = 7;
  opt.topic_alias_maximum = 5;
  opt.max_packet_size = 4096;
  MqttWorld w(opt);
  MqttClient c(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "five";
  o.keep_alive = 30;
  const Packet p = c.connect(o);
  const mqtt::Connack a = p.connack();
  CHECK_FALSE(a.session_present);
  CHECK(a.properties.receive_maximum == std::optional<std::uint16_t>(7));
  CHECK(a.properties.topic_alias_maximum == std::optional<std::uint16_t>(5));
  CHECK(a.properties.maximum_packet_size == std::optional<std::uint32_t>(4096));
  CHECK_FALSE(a.properties.assigned_client_identifier);
  CHECK_FALSE(a.properties.server_keep_alive);  // 30 s is within max_keepalive (600)
  CHECK_FALSE(a.properties.retain_available);    // only sent when retain is not available
  CHECK_FALSE(a.properties.session_expiry_interval);
}

TEST_CASE("v5 keep-alive 0 or above max_keepalive comes back as Server Keep Alive", "[mqtt_fe][connect][v5]") {
  mqtt::MqttOptions opt;
  opt.max_keepalive = 120;
  MqttWorld w(opt);
  MqttClient c(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.keep_alive = GENERATE(std::uint16_t(0), std::uint16_t(121), std::uint16_t(3600));
  const Packet p = c.connect(o);
  CHECK(p.connack().properties.server_keep_alive == std::optional<std::uint16_t>(120));
}

TEST_CASE("a resumed session is announced with session present", "[mqtt_fe][connect]") {
  MqttWorld w;
  {
    MqttClient c(w);
    CHECK(c.connect(Version::V311, "durable", false).connack().session_present == false);
    c.send_disconnect();
    CHECK(c.sink.close_calls == 1);
  }
  REQUIRE(w.session("durable") != nullptr);
  CHECK_FALSE(w.session("durable")->online());
  {
    MqttClient c(w);
    ConnectOpts o;
    o.id = "durable";
    o.clean = false;
    c.send_connect(o);
    CHECK(hex(c.take_output()) == hex(bytes({0x20, 0x02, 0x01, 0x00})));
    c.send_disconnect();
  }
  SECTION("clean session ends it: no session present") {
    MqttClient c(w);
    ConnectOpts o;
    o.id = "durable";
    o.clean = true;
    c.send_connect(o);
    CHECK(hex(c.take_output()) == hex(bytes({0x20, 0x02, 0x00, 0x00})));
  }
  SECTION("v5 clean start 0 resumes it too") {
    MqttClient c(w);
    ConnectOpts o;
    o.v = Version::V5;
    o.id = "durable";
    o.clean = false;
    o.props.session_expiry_interval = 60;
    CHECK(c.connect(o).connack().session_present);
  }
}

TEST_CASE("v5 empty client id gets an assigned client identifier", "[mqtt_fe][connect][v5]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "";
  const Packet p = c.connect(o);
  const mqtt::Connack a = p.connack();
  REQUIRE(a.properties.assigned_client_identifier);
  const std::string id(*a.properties.assigned_client_identifier);
  CHECK(id.size() == 21);  // "auto-" + 16 hex digits
  CHECK(id.rfind("auto-", 0) == 0);
  REQUIRE(w.session(id) != nullptr);
  CHECK(w.session(id)->online());
}

TEST_CASE("v3.1.1 empty client id with clean session 0 is refused with return code 2", "[mqtt_fe][connect]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.id = "";
  o.clean = false;
  c.send_connect(o);
  CHECK(hex(c.take_output()) == hex(bytes({0x20, 0x02, 0x00, 0x02})));
  CHECK(c.sink.close_calls == 1);
  CHECK(w.broker->session_count() == 0);
}

TEST_CASE("v3.1.1 empty client id with clean session 1 is accepted", "[mqtt_fe][connect]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.id = "";
  c.send_connect(o);
  CHECK(hex(c.take_output()) == hex(bytes({0x20, 0x02, 0x00, 0x00})));
  CHECK(w.broker->session_count() == 1);
}

TEST_CASE("an unsupported protocol level is refused with the v3 CONNACK code 1", "[mqtt_fe][connect]") {
  MqttWorld w;
  MqttClient c(w);
  mqtt::Connect con;
  con.version = GENERATE(Version::V311, Version::V5);
  con.clean_start = true;
  con.client_id = "lvl";
  std::string wire;
  mqtt::encode_connect(con, wire);
  // fixed header (2) + name length (2) + "MQTT" (4): the protocol level byte.
  REQUIRE(wire[8] == char(con.version));
  wire[8] = 6;
  c.feed(wire);
  // Answered in the form every version understands [MQTT-3.1.2-2].
  CHECK(hex(c.take_output()) == hex(bytes({0x20, 0x02, 0x00, 0x01})));
  CHECK(c.sink.close_calls == 1);
  CHECK(w.broker->session_count() == 0);
}

TEST_CASE("a second CONNECT is a protocol error", "[mqtt_fe][connect]") {
  MqttWorld w;
  MqttClient c(w);
  SECTION("v5: DISCONNECT 0x82, then close") {
    c.connect(Version::V5, "twice");
    ConnectOpts o;
    o.v = Version::V5;
    o.id = "twice";
    c.send_connect(o);
    const Packet p = c.next();
    CHECK(p.disconnect().reason == Reason::ProtocolError);
    CHECK(p.disconnect().properties.reason_string == std::optional<std::string_view>("second CONNECT"));
  }
  SECTION("v3.1.1: closed without a packet") {
    c.connect(Version::V311, "twice");
    ConnectOpts o;
    o.id = "twice";
    c.send_connect(o);
    CHECK(c.silent());
  }
  CHECK(c.sink.close_calls == 1);
  c.transport_closed();
  CHECK(w.session("twice") == nullptr);
}

TEST_CASE("a first packet other than CONNECT closes the connection at once", "[mqtt_fe][connect]") {
  MqttWorld w;
  MqttClient c(w);
  c.send_pingreq();
  CHECK(c.silent());
  CHECK(c.sink.abort_calls == 1);
  CHECK(c.sink.close_calls == 0);
  CHECK(w.broker->session_count() == 0);
}

TEST_CASE("no CONNECT within connect_timeout_ms: the connection is aborted", "[mqtt_fe][connect][timer]") {
  mqtt::MqttOptions opt;
  opt.client.connect_timeout_ms = 5000;
  MqttWorld w(opt);
  MqttClient c(w);
  SECTION("silence") {
    w.clock.advance(5000);
    c.tick();
    CHECK(c.sink.abort_calls == 0);
    w.clock.advance(1);
    c.tick();
    CHECK(c.sink.abort_calls == 1);
  }
  SECTION("a partial CONNECT restarts the connect timer") {
    mqtt::Connect con;
    con.client_id = "slow";
    std::string wire;
    mqtt::encode_connect(con, wire);
    w.clock.advance(3000);
    c.feed(wire.substr(0, 5));
    w.clock.advance(5000);
    c.tick();
    CHECK(c.sink.abort_calls == 0);
    w.clock.advance(1);
    c.tick();
    CHECK(c.sink.abort_calls == 1);
  }
  SECTION("connected in time: the timeout no longer applies") {
    c.connect(Version::V311, "quick");
    w.clock.advance(5001);
    c.tick();
    CHECK(c.sink.abort_calls == 0);
    CHECK(c.sink.close_calls == 0);
  }
  CHECK(c.silent());
}

TEST_CASE("keep-alive: one and a half periods of silence end the connection", "[mqtt_fe][keepalive][timer]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.id = "ka";
  o.keep_alive = 10;
  o.v = GENERATE(Version::V311, Version::V5);
  c.connect(o);
  w.clock.advance(9000);
  c.send_pingreq();
  CHECK(hex(c.take_output()) == hex(bytes({0xD0, 0x00})));  // PINGRESP; and the silence starts again
  w.clock.advance(15000);
  c.tick();
  CHECK(c.sink.close_calls == 0);
  w.clock.advance(1);
  c.tick();
  CHECK(c.sink.close_calls == 1);
  if (o.v == Version::V5) {
    CHECK(c.next().disconnect().reason == Reason::KeepAliveTimeout);
  } else {
    CHECK(c.silent());
  }
}

TEST_CASE("keep-alive 0 in v3.1.1 means no timeout", "[mqtt_fe][keepalive][timer]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.keep_alive = 0;
  c.connect(o);
  w.clock.advance(24 * 3600 * 1000);
  c.tick();
  CHECK(c.sink.close_calls == 0);
  CHECK(c.silent());
}

TEST_CASE("a second connection with the same client id takes the session over", "[mqtt_fe][takeover]") {
  MqttWorld w;
  MqttClient first(w);
  const Version v = GENERATE(Version::V311, Version::V5);
  ConnectOpts o;
  o.v = v;
  o.id = "same";
  o.clean = false;
  if (v == Version::V5) o.props.session_expiry_interval = 60;
  first.connect(o);
  MqttClient second(w);
  CHECK(second.connect(o).connack().session_present);
  CHECK(first.sink.close_calls == 1);
  if (v == Version::V5) {
    CHECK(first.next().disconnect().reason == Reason::SessionTakenOver);
  } else {
    CHECK(first.silent());
  }
  // The old transport goes away later: it must not detach the new owner.
  first.transport_closed();
  REQUIRE(w.session("same") != nullptr);
  CHECK(w.session("same")->online());
  second.subscribe("after/takeover", 0);
}

TEST_CASE("the will is published when the connection ends without DISCONNECT", "[mqtt_fe][will]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(Version::V311, "watcher");
  sub.subscribe("will/#", 1);
  MqttClient c(w);
  ConnectOpts o;
  o.id = "mortal";
  o.will_topic = "will/mortal";
  o.will_payload = "gone";
  o.will_qos = 1;
  c.connect(o);
  CHECK(sub.silent());
  c.transport_closed();  // network loss
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].topic == "will/mortal");
  CHECK(got[0].payload == "gone");
  CHECK(got[0].qos == 1);
  CHECK(w.broker->stats().wills_published == 1);
}

TEST_CASE("the will is published after a protocol error", "[mqtt_fe][will]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(Version::V311, "watcher");
  sub.subscribe("will/#", 0);
  MqttClient c(w);
  ConnectOpts o;
  o.id = "sloppy";
  o.will_topic = "will/sloppy";
  o.will_payload = "x";
  c.connect(o);
  c.send_connect(o);  // second CONNECT
  CHECK(c.sink.close_calls == 1);
  c.transport_closed();
  const std::vector<Pub> got = sub.publishes();
  REQUIRE(got.size() == 1);
  CHECK(got[0].topic == "will/sloppy");
}

TEST_CASE("DISCONNECT discards the will; v5 DISCONNECT 0x04 publishes it", "[mqtt_fe][will]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(Version::V311, "watcher");
  sub.subscribe("will/#", 0);
  MqttClient c(w);
  ConnectOpts o;
  o.id = "polite";
  o.will_topic = "will/polite";
  o.will_payload = "bye";
  SECTION("v3.1.1 DISCONNECT") {
    c.connect(o);
    c.send_disconnect();
    CHECK(c.sink.close_calls == 1);
    c.transport_closed();
    CHECK(sub.silent());
    CHECK(w.broker->stats().wills_published == 0);
  }
  SECTION("v5 DISCONNECT normal") {
    o.v = Version::V5;
    c.connect(o);
    c.send_disconnect(Reason::Success);
    c.transport_closed();
    CHECK(sub.silent());
  }
  SECTION("v5 DISCONNECT with will message") {
    o.v = Version::V5;
    c.connect(o);
    c.send_disconnect(Reason::DisconnectWithWill);
    CHECK(c.sink.close_calls == 1);
    c.transport_closed();
    const std::vector<Pub> got = sub.publishes();
    REQUIRE(got.size() == 1);
    CHECK(got[0].topic == "will/polite");
    CHECK(got[0].payload == "bye");
  }
  CHECK(c.silent());  // DISCONNECT is never answered
}

TEST_CASE("v5 DISCONNECT may shorten the session expiry, not revive a session set to end", "[mqtt_fe][v5]") {
  MqttWorld w;
  MqttClient c(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "exp";
  mqtt::Properties later;
  later.session_expiry_interval = 30;
  SECTION("expiry 0 in CONNECT, 30 in DISCONNECT: protocol error") {
    c.connect(o);
    c.send_disconnect(Reason::Success, later);
    CHECK(c.next().disconnect().reason == Reason::ProtocolError);
    c.transport_closed();
    CHECK(w.session("exp") == nullptr);
  }
  SECTION("expiry 600 in CONNECT, 30 in DISCONNECT: kept for 30 s") {
    o.props.session_expiry_interval = 600;
    c.connect(o);
    c.send_disconnect(Reason::Success, later);
    CHECK(c.silent());
    c.transport_closed();
    REQUIRE(w.session("exp") != nullptr);
    CHECK(w.session("exp")->expiry_interval_s == 30);
  }
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("DISCONNECT ends the session at once, not when the transport gets round to closing", "[mqtt_fe][v5][takeover]") {
  // A client that DISCONNECTs and reconnects at once may be read by the
  // loop before the old socket's close is reaped: the new CONNECT must find
  // the session as the DISCONNECT left it, not take over a live one.
  MqttWorld w;
  MqttClient first(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "quick";
  o.clean = false;
  o.props.session_expiry_interval = 300;
  first.connect(o);
  first.subscribe("quick/t", 1);
  SECTION("expiry set to 0 in DISCONNECT: the next CONNECT finds no session") {
    mqtt::Properties none;
    none.session_expiry_interval = 0;
    first.send_disconnect(Reason::Success, none);
    MqttClient second(w);
    CHECK_FALSE(second.connect(o).connack().session_present);
    CHECK(first.silent());  // no takeover DISCONNECT for a client that already left
    first.transport_closed();
    REQUIRE(w.session("quick") != nullptr);
    CHECK(w.session("quick")->online());
  }
  SECTION("expiry kept: the session is resumed, and the old close leaves it alone") {
    first.send_disconnect(Reason::Success);
    MqttClient second(w);
    CHECK(second.connect(o).connack().session_present);
    CHECK(first.silent());
    first.transport_closed();
    REQUIRE(w.session("quick") != nullptr);
    CHECK(w.session("quick")->online());
  }
}

TEST_CASE("shutdown: v5 clients get DISCONNECT 0x8B, v3 clients are closed, no will is published", "[mqtt_fe][shutdown]") {
  MqttWorld w;
  MqttClient sub(w);
  sub.connect(Version::V311, "watcher");
  sub.subscribe("will/#", 0);
  MqttClient five(w);
  ConnectOpts o;
  o.v = Version::V5;
  o.id = "five";
  o.will_topic = "will/five";
  five.connect(o);
  MqttClient waiting(w);  // never sent CONNECT
  w.proto->shutdown();
  CHECK(five.next().disconnect().reason == Reason::ServerShuttingDown);
  CHECK(five.sink.close_calls == 1);
  CHECK(sub.sink.close_calls == 1);
  CHECK(waiting.sink.close_calls == 1);
  CHECK(waiting.silent());
  five.transport_closed();
  std::vector<Packet> rest = sub.packets();
  CHECK(rest.empty());  // no will: a server shutdown is not the client's fault
}
