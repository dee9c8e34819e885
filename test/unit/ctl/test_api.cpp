// The admin API contract as ctl sees it: the request of each command
// (method, percent-encoded target, JSON body) and the meaning of each kind
// of answer (exit code, the error line).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "api.h"

using namespace junction::ctl;
using nlohmann::json;

namespace {

HttpResponse answer(int status, std::string body, std::string reason = "") {
  HttpResponse r;
  r.status = status;
  r.reason = std::move(reason);
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("requests: targets are percent-encoded segments", "[ctl][api]") {
  auto r = get_request("/api/v1/clients");
  CHECK(r.method == "GET");
  CHECK(r.target == "/api/v1/clients");
  CHECK(r.body.empty());

  CHECK(retained_request("").target == "/api/v1/retained");
  CHECK(retained_request("sensors/+/temp").target == "/api/v1/retained?filter=sensors%2F%2B%2Ftemp");
  CHECK(retained_request("a b/#").target == "/api/v1/retained?filter=a%20b%2F%23");

  r = kick_request("room/42 #a", false);
  CHECK(r.method == "DELETE");
  CHECK(r.target == "/api/v1/clients/room%2F42%20%23a");
  r = kick_request("c1", true);
  CHECK(r.target == "/api/v1/clients/c1?session=true");

  r = purge_request("orders?x");
  CHECK(r.method == "DELETE");
  CHECK(r.target == "/api/v1/queues/orders%3Fx/messages");

  r = move_request("orders.dlq", "orders", std::nullopt);
  CHECK(r.method == "POST");
  CHECK(r.target == "/api/v1/queues/orders.dlq/move");
  CHECK(json::parse(r.body) == json{{"to", "orders"}});
  r = move_request("a%b", "c/d", 25);
  CHECK(r.target == "/api/v1/queues/a%25b/move");
  CHECK(json::parse(r.body) == json{{"to", "c/d"}, {"limit", 25}});
}

TEST_CASE("publish request: JSON body, UTF-8 only", "[ctl][api]") {
  std::string error;
  auto r = publish_request("sensors/1/temp", "21.5 \xC2\xB0""C", 1, true, error);
  REQUIRE(r);
  CHECK(r->method == "POST");
  CHECK(r->target == "/api/v1/publish");
  CHECK(json::parse(r->body) ==
        json{{"topic", "sensors/1/temp"}, {"payload", "21.5 \xC2\xB0""C"}, {"qos", 1}, {"retain", true}});

  CHECK_FALSE(publish_request("t", "\xff\xfe", 0, false, error));
  CHECK_THAT(error, Catch::Contains("UTF-8"));
}

TEST_CASE("interpret: success, errors, auth", "[ctl][api]") {
  Answer a = interpret(answer(200, R"({"items":[],"total":0})"));
  CHECK(a.exit_code == kExitOk);
  CHECK(a.body_is_json);
  CHECK(a.body["total"] == 0);

  a = interpret(answer(404, R"({"error":"no such client: c9"})", "Not Found"));
  CHECK(a.exit_code == kExitServerError);
  CHECK(a.error == "no such client: c9 (HTTP 404)");
  CHECK(a.body_is_json);  // --json prints it too

  a = interpret(answer(500, "", "Internal Server Error"));
  CHECK(a.exit_code == kExitServerError);
  CHECK(a.error == "Internal Server Error (HTTP 500)");
  CHECK_FALSE(a.body_is_json);

  a = interpret(answer(502, "bad\ngateway", ""));
  CHECK(a.error == "bad gateway (HTTP 502)");

  // What the server says reaches a terminal: no escape sequences through.
  a = interpret(answer(400, "{\"error\":\"bad \\u001b[2J name\"}", "Bad Request"));
  CHECK(a.error == "bad \\x1b[2J name (HTTP 400)");

  a = interpret(answer(401, R"({"error":"authentication required"})", "Unauthorized"));
  CHECK(a.exit_code == kExitAuth);
  CHECK_THAT(a.error, Catch::StartsWith("authentication failed: authentication required"));

  a = interpret(answer(403, R"({"error":"user bob is not an admin"})", "Forbidden"));
  CHECK(a.exit_code == kExitAuth);
  CHECK(a.error == "not allowed: user bob is not an admin");

  a = interpret(answer(401, "", "Unauthorized"));
  CHECK(a.exit_code == kExitAuth);
  CHECK_THAT(a.error, Catch::Contains("Unauthorized"));
}

TEST_CASE("interpret: a 2xx that is not JSON is an error", "[ctl][api]") {
  Answer a = interpret(answer(200, "<html>hello</html>"));
  CHECK(a.exit_code == kExitServerError);
  CHECK_THAT(a.error, Catch::Contains("not JSON"));
  a = interpret(answer(200, ""));
  CHECK(a.exit_code == kExitServerError);
}

TEST_CASE("interpret: no answer at all is exit 3", "[ctl][api]") {
  Answer a = interpret(TransportError{TransportError::Stage::Connect, "cannot connect to 127.0.0.1:1: refused"});
  CHECK(a.exit_code == kExitConnect);
  CHECK(a.error == "cannot connect to 127.0.0.1:1: refused");
}
