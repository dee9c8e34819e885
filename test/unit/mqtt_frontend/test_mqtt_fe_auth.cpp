// MQTT front-end in-process: MQTT 5 enhanced authentication [MQTT-4.12] and
// re-authentication [MQTT-4.12.1], against a fake AccessControl whose method
// "TEST" takes two steps (START -> Continue "challenge"; "response" ->
// Success "ok"; "again" -> another Continue; anything else -> Failed).
// Also: the Credentials the MQTT front-end hands to authenticate().
#include <catch2/catch.hpp>

#include "access_control.h"
#include "mqtt_kit.h"

using namespace junction;
using namespace junction::fetest;

namespace {

constexpr int kMember = 7;  // what the fake answers Continue with; it must come back

class FakeAuth final : public core::AccessControl {
 public:
  struct Step {
    std::string method;
    std::string data;
    std::string client_id;
    std::string user;
    bool has_user = false;
    int member = -1;
    core::ProtocolId protocol{};
    std::uint8_t version = 0;
    bool has_info = false;
  };
  std::vector<Step> steps;  // every extended_auth() call
  struct Login {
    core::ProtocolId protocol{};
    std::uint8_t version = 0;
  };
  std::vector<Login> logins;  // every authenticate() call

  core::AuthResult authenticate(const core::Credentials& c, const core::ConnectionInfo& info,
                                bool allow_anonymous) override {
    logins.push_back(Login{c.protocol, c.protocol_version});
    return core::authenticate_builtin(this, c, info, allow_anonymous);
  }

  core::ExtAuthAnswer extended_auth(const core::ExtAuthRequest& r) override {
    const std::string data(reinterpret_cast<const char*>(r.data.data()), r.data.size());
    steps.push_back(Step{std::string(r.method), data, std::string(r.client_id), std::string(r.user), r.has_user,
                         r.member, r.protocol, r.protocol_version, r.info != nullptr});
    core::ExtAuthAnswer a;
    if (r.method != "TEST") return a;  // UnknownMethod
    a.status = core::ExtAuthAnswer::Status::Failed;
    if (r.member == -1) {
      if (data == "START") {
        a.status = core::ExtAuthAnswer::Status::Continue;
        a.data = "challenge";
        a.member = kMember;
      } else {
        a.reason = "expected START";
      }
    } else if (r.member != kMember) {
      a.reason = "wrong member";
    } else if (data == "response") {
      a.status = core::ExtAuthAnswer::Status::Success;
      a.data = "ok";
    } else if (data == "again") {
      a.status = core::ExtAuthAnswer::Status::Continue;
      a.data = "challenge";
      a.member = kMember;
    } else {
      a.reason = "wrong response";
    }
    return a;
  }

  core::AuthResult check_password(std::string_view user, std::span<const std::uint8_t>, std::string_view,
                                  const core::ConnectionInfo&) override {
    core::AuthResult r;
    r.identity.user = std::string(user);
    r.identity.anonymous = false;
    return r;
  }
  bool still_valid(const core::ClientIdentity&) const override { return true; }
  bool has_acl() const override { return false; }
  bool allowed(const core::Principal&, std::string_view, core::Access) const override { return true; }
  core::FilterAccess subscribe_access(const core::Principal&, std::string_view) const override {
    return core::FilterAccess::Whole;
  }
  std::uint64_t generation() const override { return 1; }
};

// The broker with the fake as its access control (declared first: it
// outlives the broker and every connection).
struct AuthWorld {
  FakeAuth ac;
  MqttWorld w;
  explicit AuthWorld(const mqtt::MqttOptions& o = {}) : w(o) { w.broker->set_access_control(&ac); }
};

ConnectOpts test_connect(std::string id = "ea") {
  ConnectOpts o;
  o.v = Version::V5;
  o.id = std::move(id);
  o.props.authentication_method = "TEST";
  o.props.authentication_data = "START";
  return o;
}

// The server's AUTH: its reason, method and data.
void check_auth(const Packet& p, Reason reason, std::string_view data) {
  const mqtt::Auth a = p.auth();
  CHECK(a.reason == reason);
  CHECK(a.properties.authentication_method == std::optional<std::string_view>("TEST"));
  if (data.empty()) {
    CHECK_FALSE(a.properties.authentication_data);
  } else {
    CHECK(a.properties.authentication_data == std::optional<std::string_view>(data));
  }
}

// CONNECT with method TEST and START; the server must answer AUTH 0x18 "challenge".
void begin(MqttClient& c, const ConnectOpts& o) {
  c.send_connect(o);
  check_auth(c.next(), Reason::ContinueAuthentication, "challenge");
  CHECK(c.sink.close_calls == 0);
  CHECK(c.sink.abort_calls == 0);
}

// The whole exchange, then CONNACK 0 with method TEST and data "ok".
void connect_enhanced(MqttClient& c, const ConnectOpts& o) {
  begin(c, o);
  c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
  const Packet p = c.next();
  const mqtt::Connack a = p.connack();
  REQUIRE(a.code == 0);
  CHECK(a.properties.authentication_method == std::optional<std::string_view>("TEST"));
  CHECK(a.properties.authentication_data == std::optional<std::string_view>("ok"));
}

void check_refused(MqttClient& c, MqttWorld& w, Reason reason) {
  const Packet p = c.next();
  CHECK(p.connack().code == std::uint8_t(reason));
  CHECK(c.sink.close_calls == 1);
  CHECK(w.broker->session_count() == 0);
}

}  // namespace

TEST_CASE("enhanced auth: CONNECT, AUTH 0x18 both ways, CONNACK with the method and data", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  ConnectOpts o = test_connect();
  SECTION("with a user name: it is the identity") {
    o.username = "alice";
    connect_enhanced(c, o);
    REQUIRE(aw.w.session("ea") != nullptr);
    CHECK(aw.w.session("ea")->identity().user == "alice");
    CHECK_FALSE(aw.w.session("ea")->identity().anonymous);
    CHECK(aw.ac.steps.at(0).has_user);
    CHECK(aw.ac.steps.at(0).user == "alice");
  }
  SECTION("without: an authenticated identity with an empty user name") {
    connect_enhanced(c, o);
    REQUIRE(aw.w.session("ea") != nullptr);
    CHECK(aw.w.session("ea")->identity().user.empty());
    CHECK_FALSE(aw.w.session("ea")->identity().anonymous);
    CHECK_FALSE(aw.ac.steps.at(0).has_user);
  }
  CHECK(aw.w.session("ea")->online());
  REQUIRE(aw.ac.steps.size() == 2);
  const FakeAuth::Step& first = aw.ac.steps[0];
  CHECK(first.method == "TEST");
  CHECK(first.data == "START");
  CHECK(first.member == -1);
  CHECK(first.client_id == "ea");
  CHECK(first.protocol == mqtt::kMqttProtocol);
  CHECK(first.version == 5);
  CHECK(first.has_info);
  CHECK(aw.ac.steps[1].data == "response");
  CHECK(aw.ac.steps[1].member == kMember);  // the member that answered Continue gets the next step
  CHECK(aw.ac.logins.empty());              // no password check
  c.send_pingreq();                         // connected: ordinary packets are served
  CHECK(c.next().type == PacketType::Pingresp);
}

TEST_CASE("enhanced auth: the server's AUTH is exact on the wire", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  c.send_connect(test_connect());
  // AUTH, remaining 21: reason 0x18, properties 19: method "TEST", data "challenge".
  CHECK(hex(c.take_output()) == hex(bytes({0xF0, 21, 0x18, 19, 0x15, 0, 4, 'T', 'E', 'S', 'T', 0x16, 0, 9, 'c', 'h', 'a',
                                           'l', 'l', 'e', 'n', 'g', 'e'})));
}

TEST_CASE("enhanced auth: an assigned client id is the one the method saw and the CONNACK names", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  ConnectOpts o = test_connect("");
  begin(c, o);
  c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
  const Packet p = c.next();
  const mqtt::Connack a = p.connack();
  REQUIRE(a.code == 0);
  REQUIRE(a.properties.assigned_client_identifier);
  CHECK(*a.properties.assigned_client_identifier == aw.ac.steps.at(0).client_id);
  CHECK(aw.ac.steps.at(1).client_id == aw.ac.steps.at(0).client_id);
  CHECK(aw.w.session(aw.ac.steps.at(0).client_id) != nullptr);
}

TEST_CASE("enhanced auth: a wrong response gets CONNACK 0x87 and the connection is closed", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  ConnectOpts o = test_connect();
  SECTION("reason string from the access control") {
    begin(c, o);
    c.send_auth(Reason::ContinueAuthentication, "TEST", "guess");
    const Packet p = c.next();
    CHECK(p.connack().code == 0x87);
    CHECK(p.connack().properties.reason_string == std::optional<std::string_view>("wrong response"));
  }
  SECTION("no reason string when the client asked for no problem information") {
    o.props.request_problem_information = 0;
    begin(c, o);
    c.send_auth(Reason::ContinueAuthentication, "TEST", "guess");
    const Packet p = c.next();
    CHECK(p.connack().code == 0x87);
    CHECK_FALSE(p.connack().properties.reason_string);
  }
  SECTION("failed at the first step") {
    o.props.authentication_data = "nonsense";
    c.send_connect(o);
    const Packet p = c.next();
    CHECK(p.connack().code == 0x87);
    CHECK(p.connack().properties.reason_string == std::optional<std::string_view>("expected START"));
  }
  CHECK(c.sink.close_calls == 1);
  CHECK(aw.w.broker->session_count() == 0);
}

TEST_CASE("enhanced auth: an unknown method gets CONNACK 0x8C", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  ConnectOpts o = test_connect();
  o.props.authentication_method = "SCRAM-SHA-1";
  c.send_connect(o);
  check_refused(c, aw.w, Reason::BadAuthenticationMethod);
  REQUIRE(aw.ac.steps.size() == 1);
  CHECK(aw.ac.steps[0].method == "SCRAM-SHA-1");
}

TEST_CASE("enhanced auth without an access control: CONNACK 0x8C", "[mqtt_fe][auth][v5]") {
  MqttWorld w;
  MqttClient c(w);
  c.send_connect(test_connect());
  check_refused(c, w, Reason::BadAuthenticationMethod);
}

TEST_CASE("enhanced auth: packets other than AUTH and DISCONNECT before the CONNACK are a protocol error",
          "[mqtt_fe][auth][v5]") {
  // [MQTT-3.1.2-30]; answered with a CONNACK: no DISCONNECT before one [MQTT-3.14.0-1].
  AuthWorld aw;
  MqttClient c(aw.w);
  begin(c, test_connect());
  SECTION("PUBLISH") { c.publish("t/x", "early", 0); }
  SECTION("PINGREQ") { c.send_pingreq(); }
  SECTION("SUBSCRIBE") { c.send_subscribe(1, "t/#", 0); }
  SECTION("a second CONNECT") { c.send_connect(test_connect()); }
  check_refused(c, aw.w, Reason::ProtocolError);
  CHECK(aw.ac.steps.size() == 1);
}

TEST_CASE("enhanced auth: a client AUTH that breaks the exchange", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  begin(c, test_connect());
  SECTION("another method: 0x8C, it does not match the method in use [MQTT-4.12.0-5]") {
    c.send_auth(Reason::ContinueAuthentication, "OTHER", "response");
    check_refused(c, aw.w, Reason::BadAuthenticationMethod);
  }
  SECTION("no method: protocol error (3.15.2.2.2)") {
    c.send_auth(Reason::ContinueAuthentication, std::nullopt);
    check_refused(c, aw.w, Reason::ProtocolError);
  }
  SECTION("Re-authenticate before the CONNACK: protocol error") {
    c.send_auth(Reason::ReAuthenticate, "TEST", "response");
    check_refused(c, aw.w, Reason::ProtocolError);
  }
  SECTION("Success from the client: protocol error [MQTT-4.12.0-3]") {
    c.send_auth(Reason::Success, "TEST", "response");
    check_refused(c, aw.w, Reason::ProtocolError);
  }
  CHECK(aw.ac.steps.size() == 1);  // none of them reached the method
}

TEST_CASE("enhanced auth: DISCONNECT during the exchange closes quietly", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  begin(c, test_connect());
  c.send_disconnect();
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 1);
  CHECK(aw.w.broker->session_count() == 0);
}

TEST_CASE("enhanced auth: several rounds are allowed, up to 16", "[mqtt_fe][auth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  begin(c, test_connect());  // round 1
  for (int round = 2; round <= 16; ++round) {
    c.send_auth(Reason::ContinueAuthentication, "TEST", "again");
    check_auth(c.next(), Reason::ContinueAuthentication, "challenge");
  }
  SECTION("the response after 16 rounds: connected") {
    c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
    CHECK(c.next().connack().code == 0);
    CHECK(aw.w.session("ea") != nullptr);
  }
  SECTION("a 17th round: refused") {
    c.send_auth(Reason::ContinueAuthentication, "TEST", "again");
    check_refused(c, aw.w, Reason::NotAuthorized);
  }
}

TEST_CASE("enhanced auth: the connect timeout runs from the CONNECT through the exchange", "[mqtt_fe][auth][v5][timer]") {
  mqtt::MqttOptions opt;
  opt.client.connect_timeout_ms = 5000;
  AuthWorld aw(opt);
  MqttClient c(aw.w);
  begin(c, test_connect());
  aw.w.clock.advance(3000);
  c.send_auth(Reason::ContinueAuthentication, "TEST", "again");  // does not restart it
  check_auth(c.next(), Reason::ContinueAuthentication, "challenge");
  aw.w.clock.advance(2000);
  c.tick();
  CHECK(c.sink.abort_calls == 0);
  SECTION("too late") {
    aw.w.clock.advance(1);
    c.tick();
    CHECK(c.sink.abort_calls == 1);
    CHECK(c.silent());
    CHECK(aw.w.broker->session_count() == 0);
  }
  SECTION("in time: connected, keep-alive from the CONNACK") {
    c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
    CHECK(c.next().connack().code == 0);
    aw.w.clock.advance(30 * 1500);  // keep alive 30 s
    c.tick();
    CHECK(c.sink.abort_calls == 0);
    CHECK(c.sink.close_calls == 0);
  }
}

TEST_CASE("re-authentication: AUTH 0x19, AUTH 0x18 both ways, AUTH 0x00", "[mqtt_fe][auth][reauth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  connect_enhanced(c, test_connect());
  c.subscribe("t/#", 0);
  c.send_auth(Reason::ReAuthenticate, "TEST", "START");
  check_auth(c.next(), Reason::ContinueAuthentication, "challenge");
  REQUIRE(aw.ac.steps.size() == 3);
  CHECK(aw.ac.steps[2].member == -1);  // a new exchange
  c.publish("t/during", "x", 0);       // other packets go on meanwhile
  CHECK(c.publishes().size() == 1);
  c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
  check_auth(c.next(), Reason::Success, "ok");
  CHECK(aw.ac.steps.at(3).member == kMember);
  CHECK(c.sink.close_calls == 0);
  SECTION("and again") {
    c.send_auth(Reason::ReAuthenticate, "TEST", "START");
    check_auth(c.next(), Reason::ContinueAuthentication, "challenge");
    c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
    check_auth(c.next(), Reason::Success, "ok");
  }
  SECTION("Continue with no re-authentication running: protocol error") {
    c.send_auth(Reason::ContinueAuthentication, "TEST", "response");
    CHECK(c.next().disconnect().reason == Reason::ProtocolError);
    CHECK(c.sink.close_calls == 1);
  }
}

TEST_CASE("re-authentication that fails: DISCONNECT 0x87 and close", "[mqtt_fe][auth][reauth][v5]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  connect_enhanced(c, test_connect());
  SECTION("wrong response") {
    c.send_auth(Reason::ReAuthenticate, "TEST", "START");
    check_auth(c.next(), Reason::ContinueAuthentication, "challenge");
    c.send_auth(Reason::ContinueAuthentication, "TEST", "guess");
    const Packet p = c.next();
    CHECK(p.disconnect().reason == Reason::NotAuthorized);
    CHECK(p.disconnect().properties.reason_string == std::optional<std::string_view>("wrong response"));
  }
  SECTION("refused at once") {
    c.send_auth(Reason::ReAuthenticate, "TEST", "nonsense");
    CHECK(c.next().disconnect().reason == Reason::NotAuthorized);
  }
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("re-authentication by a client that may not: DISCONNECT 0x82", "[mqtt_fe][auth][reauth][v5]") {
  // [MQTT-4.12.1-1]: only with the CONNECT's method, by a client that used one.
  AuthWorld aw;
  MqttClient c(aw.w);
  SECTION("no method at CONNECT") {
    c.connect(Version::V5, "plain");
    c.send_auth(Reason::ReAuthenticate, "TEST", "START");
  }
  SECTION("another method") {
    connect_enhanced(c, test_connect());
    c.send_auth(Reason::ReAuthenticate, "OTHER", "START");
  }
  SECTION("no method") {
    connect_enhanced(c, test_connect());
    c.send_auth(Reason::ReAuthenticate, std::nullopt);
  }
  CHECK(c.next().disconnect().reason == Reason::ProtocolError);
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("AUTH from an MQTT 3 client closes the connection without a packet", "[mqtt_fe][auth]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  c.connect(Version::V311, "old");
  c.send_auth(Reason::ReAuthenticate, "TEST", "START");
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 1);
  CHECK(aw.ac.steps.empty());
}

TEST_CASE("password logins tell the access control the protocol and its version", "[mqtt_fe][auth]") {
  AuthWorld aw;
  MqttClient c(aw.w);
  const Version v = GENERATE(Version::V31, Version::V311, Version::V5);
  ConnectOpts o;
  o.v = v;
  o.id = "who";
  o.username = "bob";
  c.connect(o);
  REQUIRE(aw.ac.logins.size() == 1);
  CHECK(aw.ac.logins[0].protocol == mqtt::kMqttProtocol);
  CHECK(aw.ac.logins[0].version == std::uint8_t(v));
  CHECK(aw.w.session("who")->identity().user == "bob");
}
