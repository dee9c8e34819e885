// The admin API: routing, request decoding and the list conventions.
#include "admin_fixture.h"

using namespace admin_test;

// ---------------------------------------------------------------- routing and decoding

TEST_CASE("admin: unknown paths answer 404 with a JSON error", "[admin][routing]") {
  Fixture f;
  for (const char* target : {"/api/v1/nope", "/api/v1/", "/api/v1/broker/extra", "/api/v1/queues/q/nothing",
                             "/no-such-page"}) {
    INFO(target);
    auto r = f.get(target);
    CHECK(r.status == 404);
    CHECK(r.content_type == "application/json");
    CHECK(body_of(r).at("error").is_string());
  }
  // /api/v2 is not the API: it is a dashboard path, which does not exist.
  CHECK(f.get("/api/v2/broker").status == 404);
  auto r = f.get("/api/v1/queues/none");
  CHECK(r.status == 404);
  CHECK(body_of(r)["error"].get<std::string>().find("none") != std::string::npos);
}

TEST_CASE("admin: a wrong method answers 405 with an Allow header", "[admin][routing]") {
  Fixture f;
  struct Case {
    const char* method;
    const char* target;
    const char* allow;
  };
  for (const Case& c : {Case{"DELETE", "/api/v1/broker", "GET"}, Case{"GET", "/api/v1/publish", "POST"},
                        Case{"PUT", "/api/v1/queues/q", "GET, DELETE"},
                        Case{"PATCH", "/api/v1/queues/q/messages", "GET, DELETE"},
                        Case{"GET", "/api/v1/queues/q/move", "POST"}, Case{"DELETE", "/api/v1/queues", "GET"},
                        Case{"POST", "/api/v1/retained/a/b", "GET, DELETE"},
                        Case{"POST", "/api/v1/clients/c1", "GET, DELETE"}}) {
    INFO(c.method << " " << c.target);
    const bool with_body = std::string_view(c.method) == "PUT" || std::string_view(c.method) == "PATCH" ||
                           std::string_view(c.method) == "POST";
    auto r = with_body ? f.call(c.method, c.target, "{}", std::string("application/json")) : f.call(c.method, c.target);
    CHECK(r.status == 405);
    const std::string* allow = header_of(r, "allow");
    REQUIRE(allow != nullptr);
    CHECK(*allow == c.allow);
  }
  CHECK(f.call("DELETE", "/metrics").status == 405);
  CHECK(f.call("DELETE", "/").status == 405);
}

TEST_CASE("admin: request bodies must be JSON with a JSON content type", "[admin][routing]") {
  Fixture f;
  const std::string ok = R"({"topic":"t","payload":"x"})";
  // No content type, or another one: 415, and nothing is published.
  CHECK(f.call("POST", "/api/v1/publish", ok).status == 415);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("text/plain")).status == 415);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/x-www-form-urlencoded")).status == 415);
  CHECK(f.broker->stats().messages_in == 0);
  // Not JSON: 400.
  auto r = f.call("POST", "/api/v1/publish", "{\"topic\": ", std::string("application/json"));
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"].get<std::string>().find("JSON") != std::string::npos);
  CHECK(f.call("POST", "/api/v1/publish", "", std::string("application/json")).status == 400);
  CHECK(f.broker->stats().messages_in == 0);
  // A charset parameter is fine.
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/json; charset=utf-8")).status == 200);
  CHECK(f.broker->stats().messages_in == 1);
}

TEST_CASE("admin: bad percent-encoding in the path or query answers 400", "[admin][routing]") {
  Fixture f;
  f.publish("$queue/a/b", "m");  // queue "a/b": reachable only as a%2Fb
  CHECK(f.get("/api/v1/queues/a%zz").status == 400);
  CHECK(f.get("/api/v1/queues/a%2").status == 400);
  CHECK(f.get("/api/v1/retained/x/%G1").status == 400);
  CHECK(f.get("/api/v1/queues?limit=%zz").status == 400);
  CHECK(f.get("/api/v1/queues?%").status == 400);
  // Well-formed escapes decode: the queue's name has an encoded '/'.
  auto r = f.get("/api/v1/queues/a%2Fb");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["name"] == "a/b");
  CHECK(body_of(r)["messages"] == 1);
}

// ---------------------------------------------------------------- list conventions

TEST_CASE("admin: lists are {items,total} with limit, offset and sort", "[admin][list]") {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.publish("$queue/qa", "a" + std::to_string(i));
  f.publish("$queue/qb", "b0");
  for (int i = 0; i < 2; ++i) f.publish("$queue/qc", "c" + std::to_string(i));

  auto r = f.get("/api/v1/queues");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  REQUIRE(j.is_object());
  CHECK(j.size() == 2);
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qa", "qb", "qc"});

  j = body_of(f.get("/api/v1/queues?sort=messages"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qb", "qc", "qa"});
  j = body_of(f.get("/api/v1/queues?sort=-messages"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qa", "qc", "qb"});
  j = body_of(f.get("/api/v1/queues?sort=-name"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qc", "qb", "qa"});

  // Paging happens after sorting; total counts everything.
  j = body_of(f.get("/api/v1/queues?sort=-messages&offset=1&limit=1"));
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qc"});
  j = body_of(f.get("/api/v1/queues?limit=2"));
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qa", "qb"});
  j = body_of(f.get("/api/v1/queues?offset=2"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qc"});
  j = body_of(f.get("/api/v1/queues?offset=10"));
  CHECK(j["total"] == 3);
  CHECK(j["items"].empty());
  j = body_of(f.get("/api/v1/queues?limit=0"));
  CHECK(j["total"] == 3);
  CHECK(j["items"].empty());
  // Filter (MQTT filter syntax over the names).
  f.publish("$queue/other", "o");
  CHECK(f.get("/api/v1/queues?filter=q%2B").status == 400);  // "q+" is not a filter
  j = body_of(f.get("/api/v1/queues?filter=other"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"other"});

  // Bad parameters: 400.
  r = f.get("/api/v1/queues?sort=nosuchfield");
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"].get<std::string>().find("nosuchfield") != std::string::npos);
  CHECK(f.get("/api/v1/queues?sort=-nosuchfield").status == 400);
  CHECK(f.get("/api/v1/queues?limit=x").status == 400);
  CHECK(f.get("/api/v1/queues?limit=-1").status == 400);
  CHECK(f.get("/api/v1/queues?offset=1x").status == 400);
  CHECK(f.get("/api/v1/queues?offset=").status == 400);
}

TEST_CASE("admin: empty lists are still {items: [], total: 0}", "[admin][list]") {
  Fixture f;
  for (const char* target : {"/api/v1/queues", "/api/v1/retained", "/api/v1/clients", "/api/v1/subscriptions",
                             "/api/v1/bridges", "/api/v1/queues?sort=anything"}) {
    INFO(target);
    auto r = f.get(target);
    REQUIRE(r.status == 200);
    json j = body_of(r);
    CHECK(j["items"] == json::array());
    CHECK(j["total"] == 0);
  }
}

// Found by review of the first version: each of these failed before its fix.
TEST_CASE("admin: media types compare without case; a longer type is not JSON", "[admin][routing]") {
  Fixture f;
  const std::string ok = R"({"topic":"t","payload":"x"})";
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("Application/JSON")).status == 200);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/jsonx")).status == 415);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/json-patch+json")).status == 415);
}

TEST_CASE("admin: an empty path segment names no endpoint (the retained topic stays what the segments say)",
          "[admin][routing]") {
  Fixture f;
  f.publish("a/b", "keep", 1, true);
  f.publish("/a/b", "other", 1, true);
  CHECK(f.call("DELETE", "/api/v1//retained/a/b").status == 404);
  CHECK(f.call("GET", "/api/v1//retained/a/b").status == 404);
  CHECK(f.broker->retained().find("a/b"));
  CHECK(f.broker->retained().find("/a/b"));
}

TEST_CASE("admin: 405 outside the API has an Allow header too", "[admin][routing]") {
  Fixture f;
  for (const char* path : {"/metrics", "/"}) {
    auto r = f.call("DELETE", path);
    CHECK(r.status == 405);
    REQUIRE(header_of(r, "allow") != nullptr);
    CHECK(*header_of(r, "allow") == "GET, HEAD");
  }
}
