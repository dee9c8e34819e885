// The admin API: HTTP Basic against the access control and http.admin_users.
#include "admin_fixture.h"

using namespace admin_test;

// ---------------------------------------------------------------- authentication

TEST_CASE("admin: HTTP Basic against the access control and http.admin_users", "[admin][auth]") {
  FakeAccess access;
  AdminOptions o;
  o.require_auth = true;
  o.admin_users = {"admin"};
  Fixture f(o);
  f.broker->set_access_control(&access);

  SECTION("no credentials: 401 with a Basic challenge") {
    auto r = f.get("/api/v1/broker");
    CHECK(r.status == 401);
    const std::string* w = header_of(r, "www-authenticate");
    REQUIRE(w != nullptr);
    CHECK(w->rfind("Basic ", 0) == 0);
    CHECK(w->find("realm=") != std::string::npos);
    CHECK(access.calls == 0);
    CHECK(f.get("/metrics").status == 401);
    CHECK(f.get("/").status == 401);
    CHECK(f.post("/api/v1/publish", json{{"topic", "t"}}).status == 401);
    CHECK(f.broker->stats().messages_in == 0);
  }
  SECTION("wrong password or unknown user: 401") {
    auto r = f.get("/api/v1/broker", {{"authorization", basic("admin:wrong")}});
    CHECK(r.status == 401);
    CHECK(header_of(r, "www-authenticate") != nullptr);
    CHECK(access.last_user == "admin");
    CHECK(access.last_password == "wrong");
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("eve:secret")}}).status == 401);
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("admin:")}}).status == 401);
  }
  SECTION("malformed credentials: 401 without asking the password file") {
    for (const char* h : {"Bearer abc", "Basic", "Basic !!!notbase64", "Digest username=admin"}) {
      INFO(h);
      CHECK(f.get("/api/v1/broker", {{"authorization", h}}).status == 401);
    }
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("nocolon")}}).status == 401);
    CHECK(f.get("/api/v1/broker", {{"authorization", basic(":secret")}}).status == 401);
    CHECK(access.calls == 0);
  }
  SECTION("a valid user who is not an administrator: 403") {
    auto r = f.get("/api/v1/broker", {{"authorization", basic("bob:pw")}});
    CHECK(r.status == 403);
    CHECK(header_of(r, "www-authenticate") == nullptr);
    CHECK(body_of(r)["error"].get<std::string>().find("bob") != std::string::npos);
    CHECK(f.get("/metrics", {{"authorization", basic("bob:pw")}}).status == 403);
    f.publish("$queue/q", "m");
    CHECK(f.call("DELETE", "/api/v1/queues/q/messages", {}, std::nullopt, {{"authorization", basic("bob:pw")}}).status ==
          403);
    CHECK(f.broker->queues().find("q")->ready_count() == 1);
  }
  SECTION("an administrator: 200") {
    auto r = f.get("/api/v1/broker", {{"authorization", basic("admin:secret")}});
    CHECK(r.status == 200);
    CHECK(body_of(r)["version"] == "9.8.7");
    CHECK(access.last_user == "admin");
    CHECK(access.last_password == "secret");
    // The scheme name is case-insensitive; the password may hold ':'.
    CHECK(f.get("/api/v1/broker", {{"authorization", "bAsIc " + basic("admin:secret").substr(6)}}).status == 200);
    CHECK(f.get("/metrics", {{"authorization", basic("admin:secret")}}).status == 200);
    f.get("/api/v1/broker", {{"authorization", basic("admin:sec:ret")}});
    CHECK(access.last_password == "sec:ret");
  }
  SECTION("without an access control nobody gets in") {
    f.broker->set_access_control(nullptr);
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("admin:secret")}}).status == 401);
  }
}

TEST_CASE("admin: public_metrics opens /metrics alone", "[admin][auth]") {
  FakeAccess access;
  AdminOptions o;
  o.require_auth = true;
  o.admin_users = {"admin"};
  o.public_metrics = true;
  Fixture f(o);
  f.broker->set_access_control(&access);

  auto r = f.get("/metrics");
  CHECK(r.status == 200);
  CHECK(r.body.find("junction_messages_received_total") != std::string::npos);
  CHECK(f.get("/api/v1/broker").status == 401);
  CHECK(f.get("/api/v1/queues").status == 401);
  CHECK(f.get("/").status == 401);
  CHECK(f.get("/metrics/").status == 401);  // only the exact path
  CHECK(f.get("/api/v1/broker", {{"authorization", basic("bob:pw")}}).status == 403);
  CHECK(f.get("/api/v1/broker", {{"authorization", basic("admin:secret")}}).status == 200);
  CHECK(access.calls == 2);
}

TEST_CASE("admin: without require_auth no credentials are asked", "[admin][auth]") {
  FakeAccess access;
  Fixture f;  // require_auth false (no password file)
  f.broker->set_access_control(&access);
  CHECK(f.get("/api/v1/broker").status == 200);
  CHECK(f.get("/metrics").status == 200);
  CHECK(f.get("/api/v1/broker", {{"authorization", basic("eve:nope")}}).status == 200);
  CHECK(access.calls == 0);
}
