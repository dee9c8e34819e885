// The HTTP/1.1 upgrade parser and the upgrade decision (RFC 6455 §4.2):
// golden requests whole, byte by byte and split at every offset; malformed
// and oversize heads; each refusal's status; the RFC's accept example.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "http_upgrade.h"

using namespace junction::net;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

const std::string kRequest =
    "GET /mqtt?client=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: mqttv5, mqtt\r\n"
    "Origin: http://app.example\r\n"
    "\r\n";

struct Fed {
  HttpRequestParser::Status status;
  std::size_t used_total;
};

// Feeds `text` in the given pieces; returns the last status and bytes used.
Fed feed_pieces(HttpRequestParser& p, std::string_view text, const std::vector<std::size_t>& cuts) {
  std::size_t start = 0, used_total = 0;
  HttpRequestParser::Status st = HttpRequestParser::Status::NeedMore;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(text.size());
  for (std::size_t end : ends) {
    std::size_t used = 0;
    st = p.feed(bytes(text.substr(start, end - start)), used);
    used_total += used;
    if (st != HttpRequestParser::Status::NeedMore) break;
    start = end;
  }
  return {st, used_total};
}

void check_golden(const HttpRequestParser& p) {
  const HttpRequest& r = p.request();
  CHECK(r.method == "GET");
  CHECK(r.target == "/mqtt?client=1");
  CHECK(r.path() == "/mqtt");
  CHECK(r.version == "HTTP/1.1");
  REQUIRE(r.header("host") != nullptr);
  CHECK(*r.header("host") == "127.0.0.1:8080");
  CHECK(r.list("connection") == std::vector<std::string>{"keep-alive", "Upgrade"});
  CHECK(r.list("sec-websocket-protocol") == std::vector<std::string>{"mqttv5", "mqtt"});
  CHECK(r.headers.size() == 7);
}

UpgradeDecision decide(const std::string& text, std::vector<WsEndpoint> endpoints,
                       std::vector<std::string> origins = {}) {
  HttpRequestParser p;
  std::size_t used = 0;
  auto st = p.feed(bytes(text), used);
  REQUIRE(st == HttpRequestParser::Status::Done);
  return decide_upgrade(p.request(), UpgradePolicy{endpoints, origins});
}

std::vector<WsEndpoint> mqtt_and_stomp() {
  return {WsEndpoint{"/mqtt", {"mqtt", "mqttv3.1"}, true},
          WsEndpoint{"/stomp", {"v12.stomp", "v11.stomp", "v10.stomp"}, false}};
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("upgrade request parses whole", "[http]") {
  HttpRequestParser p;
  std::size_t used = 0;
  REQUIRE(p.feed(bytes(kRequest), used) == HttpRequestParser::Status::Done);
  CHECK(used == kRequest.size());
  check_golden(p);
}

TEST_CASE("upgrade request parses byte by byte", "[http]") {
  HttpRequestParser p;
  std::size_t total = 0;
  HttpRequestParser::Status st = HttpRequestParser::Status::NeedMore;
  for (std::size_t i = 0; i < kRequest.size(); ++i) {
    std::size_t used = 0;
    st = p.feed(bytes(std::string_view(kRequest).substr(i, 1)), used);
    total += used;
    if (i + 1 < kRequest.size()) REQUIRE(st == HttpRequestParser::Status::NeedMore);
  }
  REQUIRE(st == HttpRequestParser::Status::Done);
  CHECK(total == kRequest.size());
  check_golden(p);
}

TEST_CASE("upgrade request split at every offset, with frame bytes after it", "[http]") {
  const std::string wire = kRequest + "\x82\x80XXXX";  // a WebSocket frame follows
  auto cut = GENERATE(range(std::size_t{1}, kRequest.size() + 6));
  HttpRequestParser p;
  Fed f = feed_pieces(p, wire, {cut});
  REQUIRE(f.status == HttpRequestParser::Status::Done);
  CHECK(f.used_total == kRequest.size());  // the frame is left for the next layer
  check_golden(p);
}

TEST_CASE("bare LF line ends and leading blank lines are accepted", "[http]") {
  std::string text = "\r\nGET / HTTP/1.1\nHost: x\nUpgrade: websocket\n\n";
  HttpRequestParser p;
  std::size_t used = 0;
  REQUIRE(p.feed(bytes(text), used) == HttpRequestParser::Status::Done);
  CHECK(p.request().target == "/");
  CHECK(*p.request().header("upgrade") == "websocket");
}

TEST_CASE("malformed requests are errors with status 400", "[http]") {
  auto bad = GENERATE(as<std::string>{},
                      "GET /\r\n\r\n",                             // no version
                      "GET  / HTTP/1.1\r\n\r\n",                   // double space
                      "GET / HTTP/1.1 x\r\n\r\n",                  // extra token
                      "GET / HTTX/1.1\r\n\r\n",                    // not HTTP
                      "GET / HTTP/11\r\n\r\n",                     // no dot
                      "G(T / HTTP/1.1\r\n\r\n",                    // bad method char
                      "GET / HTTP/1.1\r\nHost x\r\n\r\n",          // no colon
                      "GET / HTTP/1.1\r\n: x\r\n\r\n",             // empty name
                      "GET / HTTP/1.1\r\nHo st: x\r\n\r\n",        // space in name
                      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",        // space before colon
                      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obs-fold
                      std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 30));  // NUL
  HttpRequestParser p;
  std::size_t used = 0;
  CHECK(p.feed(bytes(bad), used) == HttpRequestParser::Status::Error);
  CHECK(p.error_status() == 400);
  CHECK_FALSE(p.error().empty());
  // Stays failed.
  CHECK(p.feed(bytes("\r\n\r\n"), used) == HttpRequestParser::Status::Error);
}

TEST_CASE("oversize heads are refused before they grow past the limit", "[http]") {
  SECTION("too many bytes, never ending") {
    HttpRequestParser p(HttpLimits{512, 64});
    std::string junk = "GET / HTTP/1.1\r\nX-Long: " + std::string(4096, 'a');
    std::size_t used = 0;
    CHECK(p.feed(bytes(junk), used) == HttpRequestParser::Status::Error);
    CHECK(p.error_status() == 431);
    CHECK(used == 513);
    CHECK(p.size() == 513);
  }
  SECTION("too many header fields") {
    HttpRequestParser p(HttpLimits{65536, 4});
    std::string text = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 5; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
    text += "\r\n";
    std::size_t used = 0;
    CHECK(p.feed(bytes(text), used) == HttpRequestParser::Status::Error);
    CHECK(p.error_status() == 431);
  }
  SECTION("exactly at the limits is fine") {
    std::string text = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 4; ++i) text += "X-" + std::to_string(i) + ": v\r\n";
    text += "\r\n";
    HttpRequestParser p(HttpLimits{text.size(), 4});
    std::size_t used = 0;
    CHECK(p.feed(bytes(text), used) == HttpRequestParser::Status::Done);
  }
}

TEST_CASE("Sec-WebSocket-Accept: the RFC 6455 example", "[http]") {
  CHECK(websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("upgrade decision: accepted, routed by path, subprotocol chosen", "[http]") {
  UpgradeDecision d = decide(kRequest, mqtt_and_stomp());
  REQUIRE(d.accepted);
  CHECK(d.status == 101);
  CHECK(d.endpoint == 0);
  CHECK(d.subprotocol == "mqtt");
  CHECK(d.response ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");

  std::string stomp = replace(replace(kRequest, "/mqtt?client=1", "/stomp"), "mqttv5, mqtt", "v10.stomp, v12.stomp");
  d = decide(stomp, mqtt_and_stomp());
  REQUIRE(d.accepted);
  CHECK(d.endpoint == 1);
  CHECK(d.subprotocol == "v10.stomp");  // the client's first choice
}

TEST_CASE("upgrade decision: subprotocol rules", "[http]") {
  std::string none = replace(kRequest, "Sec-WebSocket-Protocol: mqttv5, mqtt\r\n", "");
  SECTION("MQTT requires one") {
    UpgradeDecision d = decide(none, mqtt_and_stomp());
    CHECK_FALSE(d.accepted);
    CHECK(d.status == 400);
  }
  SECTION("STOMP accepts none, and answers without the header") {
    UpgradeDecision d = decide(replace(none, "/mqtt?client=1", "/stomp"), mqtt_and_stomp());
    REQUIRE(d.accepted);
    CHECK(d.subprotocol.empty());
    CHECK(d.response.find("Sec-WebSocket-Protocol") == std::string::npos);
  }
  SECTION("a wrong one is refused") {
    UpgradeDecision d = decide(replace(kRequest, "mqttv5, mqtt", "v12.stomp"), mqtt_and_stomp());
    CHECK_FALSE(d.accepted);
    CHECK(d.status == 400);
    CHECK(d.response.find("Connection: close\r\n") != std::string::npos);
  }
}

TEST_CASE("upgrade decision: refusals", "[http]") {
  SECTION("plain HTTP gets 426") {
    UpgradeDecision d = decide("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n", mqtt_and_stomp());
    CHECK(d.status == 426);
    CHECK(d.response.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0) == 0);
    CHECK(d.response.find("Connection: close\r\n") != std::string::npos);
    CHECK(d.response.find("Upgrade: websocket\r\n") != std::string::npos);
  }
  SECTION("unknown path gets 404") {
    CHECK(decide(replace(kRequest, "/mqtt?client=1", "/amqp"), mqtt_and_stomp()).status == 404);
  }
  SECTION("a catch-all endpoint takes unknown paths") {
    std::vector<WsEndpoint> any{WsEndpoint{"", {"mqtt"}, true}};
    CHECK(decide(replace(kRequest, "/mqtt?client=1", "/whatever"), any).accepted);
  }
  SECTION("Origin not in the allow-list gets 403") {
    CHECK(decide(kRequest, mqtt_and_stomp(), {"https://good.example"}).status == 403);
    CHECK(decide(kRequest, mqtt_and_stomp(), {"https://good.example", "http://APP.example"}).accepted);
    CHECK(decide(kRequest, mqtt_and_stomp(), {"*"}).accepted);
    CHECK(decide(replace(kRequest, "Origin: http://app.example\r\n", ""), mqtt_and_stomp(), {"https://good.example"}).accepted);
  }
  SECTION("version 8 gets 426 naming 13") {
    UpgradeDecision d = decide(replace(kRequest, "Version: 13", "Version: 8"), mqtt_and_stomp());
    CHECK(d.status == 426);
    CHECK(d.response.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  }
  SECTION("bad or missing key gets 400") {
    CHECK(decide(replace(kRequest, "dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), mqtt_and_stomp()).status == 400);
    CHECK(decide(replace(kRequest, "dGhlIHNhbXBsZSBub25jZQ==", "!!!!!!!!!!!!!!!!!!!!!!!!"), mqtt_and_stomp()).status == 400);
    CHECK(decide(replace(kRequest, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), mqtt_and_stomp()).status == 400);
  }
  SECTION("POST gets 405, HTTP/1.0 and a missing Connection token get 400") {
    CHECK(decide(replace(kRequest, "GET", "POST"), mqtt_and_stomp()).status == 405);
    CHECK(decide(replace(kRequest, "HTTP/1.1", "HTTP/1.0"), mqtt_and_stomp()).status == 400);
    CHECK(decide(replace(kRequest, "keep-alive, Upgrade", "keep-alive"), mqtt_and_stomp()).status == 400);
    CHECK(decide(replace(kRequest, "Host: 127.0.0.1:8080\r\n", ""), mqtt_and_stomp()).status == 400);
  }
}
