// parse_url: the forms --url accepts and the ones it refuses with a reason;
#include <catch2/catch.hpp>
#include <string>

#include "url.h"

using namespace junction::ctl;

namespace {

Url ok(const char* text) {
  std::string error;
  auto url = parse_url(text, error);
  INFO(text << ": " << error);
  REQUIRE(url);
  return *url;
}

std::string refused(const char* text) {
  std::string error;
  auto url = parse_url(text, error);
  INFO(text);
  REQUIRE_FALSE(url);
  REQUIRE_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("parse_url: http, https, ports, prefixes", "[ctl][url]") {
  Url u = ok("http://127.0.0.1:8081");
  CHECK_FALSE(u.tls);
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 8081);
  CHECK(u.base_path.empty());
  CHECK(u.authority() == "127.0.0.1:8081");

  u = ok("HTTPS://broker.example.com/");
  CHECK(u.tls);
  CHECK(u.host == "broker.example.com");
  CHECK(u.port == 443);
  CHECK(u.base_path.empty());

  u = ok("http://localhost");
  CHECK(u.port == 80);

  u = ok("http://proxy:8080/junction/admin//");
  CHECK(u.base_path == "/junction/admin");

  u = ok("localhost:9000");  // no scheme: http
  CHECK_FALSE(u.tls);
  CHECK(u.host == "localhost");
  CHECK(u.port == 9000);

  u = ok("http://[::1]:8081/x");
  CHECK(u.host == "::1");
  CHECK(u.port == 8081);
  CHECK(u.base_path == "/x");
  CHECK(u.authority() == "[::1]:8081");

  u = ok("https://[fe80::1]");
  CHECK(u.host == "fe80::1");
  CHECK(u.port == 443);

  CHECK(ok("http://h:65535").port == 65535);
  CHECK(ok("http://h:1").port == 1);
}

TEST_CASE("parse_url: refusals name the problem", "[ctl][url]") {
  CHECK_THAT(refused("ftp://h"), Catch::Contains("scheme"));
  CHECK_THAT(refused("http://admin:secret@h:8081"), Catch::Contains("--user"));
  CHECK_THAT(refused("http://h:8081/api?x=1"), Catch::Contains("query"));
  CHECK_THAT(refused("http://h/#frag"), Catch::Contains("fragment"));
  CHECK_THAT(refused("http://h:0"), Catch::Contains("port"));
  CHECK_THAT(refused("http://h:65536"), Catch::Contains("port"));
  CHECK_THAT(refused("http://h:80a"), Catch::Contains("port"));
  CHECK_THAT(refused("http://h:"), Catch::Contains("port"));
  CHECK_THAT(refused("http://[::1]:"), Catch::Contains("port"));
  CHECK_THAT(refused("http://[::1"), Catch::Contains("IPv6"));
  CHECK_THAT(refused("http://[::1]x"), Catch::Contains("IPv6"));
  CHECK_THAT(refused("http://"), Catch::Contains("host"));
  CHECK_THAT(refused("http://:8081"), Catch::Contains("host"));
  CHECK_THAT(refused(""), Catch::Contains("host"));
}

