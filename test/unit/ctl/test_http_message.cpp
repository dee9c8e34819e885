// The request ctl sends and the answer parser: golden answers fed whole,
// split at every index and one byte at a time (STYLE 2), each with the same
// result; cut-short, malformed and oversized answers are errors.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "http_message.h"

using namespace junction::ctl;
using Status = ResponseParser::Status;

namespace {

// Feeds `wire` split at `split` (or one byte at a time when split is
// npos), then end of stream when `eof`.
Status feed_split(ResponseParser& p, std::string_view wire, std::size_t split, bool eof) {
  Status s = Status::NeedMore;
  if (split == std::string_view::npos) {
    for (char c : wire) s = p.feed(std::span<const char>(&c, 1));
  } else {
    s = p.feed(std::span<const char>(wire.data(), split));
    s = p.feed(std::span<const char>(wire.data() + split, wire.size() - split));
  }
  if (eof) s = p.finish();
  return s;
}

struct Golden {
  const char* name;
  std::string wire;
  bool needs_eof;  // the body runs until the connection closes
  int status;
  std::string body;
};

}  // namespace

TEST_CASE("base64 and Basic authorization (RFC 4648 and RFC 7617 vectors)", "[ctl][http]") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\xfe\x00", 3)) == "//4A");
  CHECK(basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(basic_authorization("test", "123\xC2\xA3") == "Basic dGVzdDoxMjPCow==");
}

TEST_CASE("encode_request: GET without body, POST with JSON", "[ctl][http]") {
  const std::string get = encode_request({"GET", "/api/v1/broker", "", ""}, "127.0.0.1:8081");
  CHECK(get.rfind("GET /api/v1/broker HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n", 0) == 0);
  CHECK_THAT(get, Catch::Contains("Accept: application/json\r\n"));
  CHECK_THAT(get, Catch::Contains("Connection: close\r\n"));
  CHECK_THAT(get, !Catch::Contains("Content-Length"));
  CHECK_THAT(get, !Catch::Contains("Authorization"));
  CHECK(get.substr(get.size() - 4) == "\r\n\r\n");

  const std::string post =
      encode_request({"POST", "/api/v1/publish", R"({"topic":"a"})", "Basic eDp5"}, "[::1]:8081");
  CHECK_THAT(post, Catch::Contains("Host: [::1]:8081\r\n"));
  CHECK_THAT(post, Catch::Contains("Content-Type: application/json\r\n"));
  CHECK_THAT(post, Catch::Contains("Content-Length: 13\r\n"));
  CHECK_THAT(post, Catch::Contains("Authorization: Basic eDp5\r\n"));
  CHECK(post.substr(post.size() - 17) == "\r\n\r\n{\"topic\":\"a\"}");

  // An empty POST still says its length (servers may answer 411 otherwise).
  CHECK_THAT(encode_request({"POST", "/x", "", ""}, "h:1"), Catch::Contains("Content-Length: 0\r\n"));
  CHECK_THAT(encode_request({"DELETE", "/x", "", ""}, "h:1"), !Catch::Contains("Content-Length"));
}

TEST_CASE("ResponseParser: golden answers at every split", "[ctl][http][parser]") {
  const std::vector<Golden> golden = {
      {"content-length",
       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"items\":[1,2]}", false, 200,
       "{\"items\":[1,2]}"},
      {"chunked",
       "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{\"erro\r\n"
       "a\r\nr\":\"nope\"}\r\n0\r\n\r\n",
       false, 404, "{\"error\":\"nope\"}"},
      {"until-close", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}", true, 200, "{\"a\":1}"},
      {"no-content", "HTTP/1.1 204 No Content\r\n\r\n", false, 204, ""},
      {"empty-length", "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Basic\r\n\r\n", false, 401,
       ""},
  };
  for (const auto& g : golden) {
    // Every split index, then one byte at a time.
    for (std::size_t split = 0; split <= g.wire.size() + 1; ++split) {
      const std::size_t at = split <= g.wire.size() ? split : std::string_view::npos;
      INFO(g.name << " split " << split);
      ResponseParser p;
      REQUIRE(feed_split(p, g.wire, at, g.needs_eof) == Status::Done);
      CHECK(p.response().status == g.status);
      CHECK(p.response().body == g.body);
    }
  }
}

TEST_CASE("ResponseParser: every split of one answer, headers kept", "[ctl][http][parser]") {
  const std::string wire =
      "HTTP/1.1 403 Forbidden\r\ncOnTeNt-TyPe: application/json\r\nX-Long: a b c\r\nContent-Length: 20\r\n\r\n"
      "{\"error\":\"no admin\"}";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    ResponseParser p;
    INFO("split " << split);
    REQUIRE(feed_split(p, wire, split, false) == Status::Done);
    CHECK(p.response().status == 403);
    CHECK(p.response().reason == "Forbidden");
    REQUIRE(p.response().header("content-type"));
    CHECK(*p.response().header("content-type") == "application/json");
    REQUIRE(p.response().header("x-long"));
    CHECK(*p.response().header("x-long") == "a b c");
    CHECK(p.response().header("missing") == nullptr);
    CHECK(p.response().body == "{\"error\":\"no admin\"}");
  }
}

TEST_CASE("ResponseParser: bytes after the answer are ignored", "[ctl][http][parser]") {
  ResponseParser p;
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 500 Oops\r\n\r\n";
  CHECK(p.feed(wire) == Status::Done);
  CHECK(p.finish() == Status::Done);
  CHECK(p.response().status == 200);
  CHECK(p.response().body == "{}");
}

TEST_CASE("ResponseParser: cut short, malformed, too large", "[ctl][http][parser]") {
  SECTION("nothing at all") {
    ResponseParser p;
    CHECK(p.finish() == Status::Error);
    CHECK_THAT(p.error(), Catch::Contains("closed the connection"));
  }
  SECTION("body shorter than Content-Length") {
    ResponseParser p;
    CHECK(p.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")) == Status::NeedMore);
    CHECK(p.finish() == Status::Error);
    CHECK_THAT(p.error(), Catch::Contains("closed the connection"));
  }
  SECTION("headers cut short") {
    ResponseParser p;
    CHECK(p.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Le")) == Status::NeedMore);
    CHECK(p.finish() == Status::Error);
  }
  SECTION("not HTTP") {
    ResponseParser p;
    CHECK(p.feed(std::string_view("\x10\x0c\x00\x04MQTT", 8)) == Status::Error);
    CHECK_THAT(p.error(), Catch::Contains("malformed HTTP answer"));
    CHECK(p.feed(std::string_view("HTTP/1.1 200 OK\r\n\r\n")) == Status::Error);  // stays in error
  }
  SECTION("Content-Length over the limit, refused before the body") {
    ResponseParser p(100);
    CHECK(p.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n")) == Status::Error);
    CHECK_THAT(p.error(), Catch::Contains("too large"));
  }
  SECTION("chunks over the limit") {
    ResponseParser p(8);
    CHECK(p.feed(std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n")) ==
          Status::NeedMore);
    CHECK(p.feed(std::string_view("5\r\n67890\r\n")) == Status::Error);
    CHECK_THAT(p.error(), Catch::Contains("too large"));
  }
  SECTION("read-until-close body over the limit") {
    ResponseParser p(4);
    CHECK(p.feed(std::string_view("HTTP/1.0 200 OK\r\n\r\n12345")) == Status::Error);
  }
}
