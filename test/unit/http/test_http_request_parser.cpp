// HttpRequestParser: golden requests at every split point and byte by byte,
// pipelining, keep-alive, chunked bodies, and every limit and error status.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http_request_parser.h"

using junction::http::HttpLimits;
using junction::http::HttpRequest;
using junction::http::HttpRequestParser;
using Status = HttpRequestParser::Status;
using namespace std::string_literals;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// What a connection sees: the requests in order, then how the stream ended.
struct Outcome {
  std::vector<HttpRequest> requests;
  Status last = Status::NeedMore;
  int error_status = 0;
  std::string error;
  std::size_t pending = 0;  // bytes fed but not yet part of a request
};

// Feeds `stream` in pieces ending at `cuts` (then the rest), like a
// connection: unparsed bytes stay buffered and are offered again with the
// next piece; after each Request the buffer's rest is parsed at once.
Outcome drive(std::string_view stream, const std::vector<std::size_t>& cuts, const HttpLimits& limits = {}) {
  HttpRequestParser parser(limits);
  Outcome out;
  std::string buffer;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(stream.size());
  for (const std::size_t to : ends) {
    buffer.append(stream.substr(from, to - from));
    from = to;
    while (!buffer.empty()) {
      const auto r = parser.consume(bytes(buffer));
      REQUIRE(r.consumed <= buffer.size());
      out.last = r.status;
      if (r.status == Status::Error) {
        out.error_status = r.error_status;
        out.error = r.error;
        return out;
      }
      if (r.status == Status::NeedMore) {
        REQUIRE(r.consumed == buffer.size());
        out.pending += r.consumed;
        buffer.clear();
        break;
      }
      REQUIRE_FALSE(parser.in_request());
      out.requests.push_back(parser.request());
      out.pending = 0;
      buffer.erase(0, r.consumed);
    }
  }
  return out;
}

Outcome whole(std::string_view s, const HttpLimits& l = {}) { return drive(s, {}, l); }

Outcome bytewise(std::string_view s, const HttpLimits& l = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
  return drive(s, cuts, l);
}

Outcome split_at(std::string_view s, std::size_t at, const HttpLimits& l = {}) { return drive(s, {at}, l); }

bool same(const HttpRequest& a, const HttpRequest& b) {
  if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query ||
      a.version_major != b.version_major || a.version_minor != b.version_minor || a.keep_alive != b.keep_alive ||
      a.body != b.body || a.headers.size() != b.headers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

bool same(const Outcome& a, const Outcome& b) {
  if (a.requests.size() != b.requests.size() || a.last != b.last || a.error_status != b.error_status) return false;
  for (std::size_t i = 0; i < a.requests.size(); ++i) {
    if (!same(a.requests[i], b.requests[i])) return false;
  }
  return true;
}

// Whole, byte by byte and at every single split: the same outcome.
void require_split_invariant(std::string_view s, const Outcome& expected, const HttpLimits& l = {}) {
  REQUIRE(same(bytewise(s, l), expected));
  for (std::size_t at = 0; at <= s.size(); ++at) {
    CAPTURE(at);
    REQUIRE(same(split_at(s, at, l), expected));
  }
}

Outcome one_error(std::string_view s, const HttpLimits& l = {}) {
  HttpRequestParser p(l);
  const auto r = p.consume(bytes(s));
  Outcome o;
  o.last = r.status;
  o.error_status = r.error_status;
  o.error = r.error;
  return o;
}

}  // namespace

TEST_CASE("a simple GET", "[http][parser]") {
  const std::string req = "GET /api/v1/queues/a%2Fb/messages?limit=5 HTTP/1.1\r\nHost: localhost\r\n\r\n";
  HttpRequestParser p;
  REQUIRE_FALSE(p.in_request());
  const auto r = p.consume(bytes(req));
  REQUIRE(r.status == Status::Request);
  REQUIRE(r.consumed == req.size());
  const HttpRequest& q = p.request();
  CHECK(q.method == "GET");
  CHECK(q.target == "/api/v1/queues/a%2Fb/messages?limit=5");
  CHECK(q.path == "/api/v1/queues/a%2Fb/messages");
  CHECK(q.query == "limit=5");
  CHECK(q.version_major == 1);
  CHECK(q.version_minor == 1);
  CHECK(q.keep_alive);
  CHECK(q.body.empty());
  REQUIRE(q.headers.size() == 1);
  CHECK(q.headers[0].name == "host");
  CHECK(q.headers[0].value == "localhost");
  CHECK_FALSE(p.in_request());
}

TEST_CASE("header() finds the first header of a lower-case name", "[http][parser]") {
  HttpRequestParser p;
  const std::string req =
      "GET / HTTP/1.1\r\nX-Token:   abc  \r\nACCEPT: a\r\nx-token: second\r\nEmpty:\r\nTab:\tv\t\r\n\r\n";
  REQUIRE(p.consume(bytes(req)).status == Status::Request);
  const HttpRequest& q = p.request();
  REQUIRE(q.header("x-token") != nullptr);
  CHECK(*q.header("x-token") == "abc");
  REQUIRE(q.header("accept") != nullptr);
  CHECK(*q.header("accept") == "a");
  REQUIRE(q.header("empty") != nullptr);
  CHECK(q.header("empty")->empty());
  REQUIRE(q.header("tab") != nullptr);
  CHECK(*q.header("tab") == "v");
  CHECK(q.header("missing") == nullptr);
  CHECK(q.header("X-Token") == nullptr);  // names are stored lower-case; lookups take lower-case
  CHECK(q.headers.size() == 5);
  CHECK(q.query.empty());
}

TEST_CASE("a request with headers and a body, at every split and byte by byte", "[http][parser]") {
  const std::string req =
      "POST /api/v1/topics/a/b?retain=1&qos=1 HTTP/1.1\r\n"
      "Host: broker.example\r\n"
      "Content-Type: application/json\r\n"
      "Authorization: Bearer s3cr3t-token-value\r\n"
      "X-Folded: one\r\n two\r\n"
      "Content-Length: 17\r\n"
      "\r\n"
      "{\"payload\":\"hi\"}\n";
  const Outcome w = whole(req);
  REQUIRE(w.requests.size() == 1);
  REQUIRE(w.last == Status::Request);
  const HttpRequest& q = w.requests[0];
  CHECK(q.method == "POST");
  CHECK(q.path == "/api/v1/topics/a/b");
  CHECK(q.query == "retain=1&qos=1");
  CHECK(q.body == "{\"payload\":\"hi\"}\n");
  REQUIRE(q.headers.size() == 5);
  CHECK(q.headers[1].name == "content-type");
  CHECK(q.headers[2].value == "Bearer s3cr3t-token-value");
  CHECK(q.headers[3].name == "x-folded");
  CHECK(q.headers[3].value.find("one") == 0);
  CHECK(q.headers[3].value.find("two") != std::string::npos);
  CHECK(q.headers[4].value == "17");
  require_split_invariant(req, w);
}

TEST_CASE("in_request spans the first byte to the end of a request", "[http][parser]") {
  HttpRequestParser p;
  CHECK(p.consume(bytes("\r\n")).status == Status::NeedMore);
  CHECK_FALSE(p.in_request());  // blank lines between requests are not a request
  auto r = p.consume(bytes("G"));
  CHECK(r.status == Status::NeedMore);
  CHECK(r.consumed == 1);
  CHECK(p.in_request());
  r = p.consume(bytes("ET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nx"));
  CHECK(r.status == Status::NeedMore);
  CHECK(p.in_request());
  r = p.consume(bytes("y"));
  CHECK(r.status == Status::Request);
  CHECK(r.consumed == 1);
  CHECK(p.request().body == "xy");
  CHECK_FALSE(p.in_request());
}

TEST_CASE("pipelined requests: one per consume, the rest left", "[http][parser]") {
  const std::string first = "GET /api/v1/stats HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /api/v1/topics/x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  const std::string both = first + second;
  HttpRequestParser p;
  auto r = p.consume(bytes(both));
  REQUIRE(r.status == Status::Request);
  REQUIRE(r.consumed == first.size());
  CHECK(p.request().path == "/api/v1/stats");
  CHECK(p.request().body.empty());
  r = p.consume(bytes(std::string_view(both).substr(r.consumed)));
  REQUIRE(r.status == Status::Request);
  REQUIRE(r.consumed == second.size());
  CHECK(p.request().method == "POST");
  CHECK(p.request().path == "/api/v1/topics/x");
  CHECK(p.request().body == "abc");
  CHECK(p.request().headers.size() == 1);  // nothing left over from the first request

  const Outcome w = whole(both);
  REQUIRE(w.requests.size() == 2);
  require_split_invariant(both, w);
}

TEST_CASE("keep-alive rules", "[http][parser]") {
  auto keep = [](const std::string& req) {
    HttpRequestParser p;
    const auto r = p.consume(bytes(req));
    REQUIRE(r.status == Status::Request);
    return p.request().keep_alive;
  };
  CHECK(keep("GET / HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));

  HttpRequestParser p;
  REQUIRE(p.consume(bytes("GET / HTTP/1.0\r\n\r\n")).status == Status::Request);
  CHECK(p.request().version_major == 1);
  CHECK(p.request().version_minor == 0);
}

TEST_CASE("a chunked body is de-chunked, trailers dropped", "[http][parser]") {
  const std::string req =
      "POST /api/v1/queues/q/messages HTTP/1.1\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n"
      "5\r\nhello\r\n"
      "1;ext=1\r\n,\r\n"
      "A\r\n 012345678\r\n"  // hex size: 10 bytes
      "0\r\n"
      "X-Trailer: t\r\n"
      "\r\n"
      "GET /next HTTP/1.1\r\n\r\n";
  const Outcome w = whole(req);
  REQUIRE(w.requests.size() == 2);
  CHECK(w.requests[0].body == "hello, 012345678");
  CHECK(w.requests[0].header("x-trailer") == nullptr);
  CHECK(w.requests[0].headers.size() == 1);
  CHECK(w.requests[0].keep_alive);
  CHECK(w.requests[1].path == "/next");
  require_split_invariant(req, w);
}

TEST_CASE("Connection: Upgrade is parsed as an ordinary request", "[http][parser]") {
  const std::string req =
      "GET /api/v1/ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "GET /api/v1/stats HTTP/1.1\r\n\r\n";
  const Outcome w = whole(req);
  REQUIRE(w.requests.size() == 2);
  CHECK(w.requests[0].path == "/api/v1/ws");
  REQUIRE(w.requests[0].header("upgrade") != nullptr);
  CHECK(w.requests[1].path == "/api/v1/stats");
  require_split_invariant(req, w);
}

TEST_CASE("targets: absolute form, asterisk, fragment", "[http][parser]") {
  HttpRequestParser p;
  REQUIRE(p.consume(bytes("GET http://h:8080/api/v1/x?a=1 HTTP/1.1\r\n\r\n")).status == Status::Request);
  CHECK(p.request().path == "/api/v1/x");
  CHECK(p.request().query == "a=1");
  REQUIRE(p.consume(bytes("OPTIONS * HTTP/1.1\r\n\r\n")).status == Status::Request);
  CHECK(p.request().path == "*");
  REQUIRE(p.consume(bytes("GET /a?b=1#frag HTTP/1.1\r\n\r\n")).status == Status::Request);
  CHECK(p.request().path == "/a");
  CHECK(p.request().query == "b=1");
  REQUIRE(p.consume(bytes("GET /a? HTTP/1.1\r\n\r\n")).status == Status::Request);
  CHECK(p.request().path == "/a");
  CHECK(p.request().query.empty());
}

TEST_CASE("431: a head over max_head_bytes", "[http][parser][limits]") {
  const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n";
  HttpRequestParser p;
  const auto r = p.consume(bytes(big));
  REQUIRE(r.status == Status::Error);
  CHECK(r.error_status == 431);
  CHECK(r.consumed == 16 * 1024);  // refused at the first byte past the limit
  CHECK_FALSE(p.in_request());
  const Outcome b = bytewise(big);
  CHECK(b.last == Status::Error);
  CHECK(b.error_status == 431);

  // Exactly at the limit is fine; one byte more is not, whatever the split.
  const std::string head = "GET /x HTTP/1.1\r\nA: 1\r\n\r\n";
  HttpLimits l;
  l.max_head_bytes = head.size();
  const Outcome ok = whole(head, l);
  REQUIRE(ok.requests.size() == 1);
  require_split_invariant(head, ok, l);
  const std::string longer = "GET /x HTTP/1.1\r\nA: 12\r\n\r\n";
  const Outcome too = whole(longer, l);
  CHECK(too.requests.empty());
  CHECK(too.error_status == 431);
  require_split_invariant(longer, too, l);
}

TEST_CASE("431: more than max_headers header fields", "[http][parser][limits]") {
  auto with_headers = [](std::size_t n) {
    std::string s = "GET / HTTP/1.1\r\n";
    for (std::size_t i = 0; i < n; ++i) s += "H" + std::to_string(i) + ": v\r\n";
    return s + "\r\n";
  };
  const Outcome ok = whole(with_headers(64));
  REQUIRE(ok.requests.size() == 1);
  CHECK(ok.requests[0].headers.size() == 64);
  const Outcome too = whole(with_headers(65));
  CHECK(too.last == Status::Error);
  CHECK(too.error_status == 431);
  CHECK(bytewise(with_headers(65)).error_status == 431);

  // The same status at every split, whether the field past the limit is
  // well-formed (431) or broken (400: the syntax error wins, as fed whole).
  HttpLimits two;
  two.max_headers = 2;
  const std::string third_ok = "GET / HTTP/1.1\r\nA: 1\r\nB:\r\nC: 3\r\n\r\n";
  const Outcome o1 = whole(third_ok, two);
  CHECK(o1.error_status == 431);
  require_split_invariant(third_ok, o1, two);
  const std::string third_bad = "GET / HTTP/1.1\r\nA: 1\r\nB:\r\nCcc\r\n\r\n";
  const Outcome o2 = whole(third_bad, two);
  CHECK(o2.error_status == 400);
  require_split_invariant(third_bad, o2, two);

  // Trailers count too.
  HttpLimits l;
  l.max_headers = 2;
  const std::string chunked =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT1: a\r\nT2: b\r\n\r\n";
  CHECK(whole(chunked, l).error_status == 431);
}

TEST_CASE("413: Content-Length over the limit, before the body", "[http][parser][limits]") {
  const std::string head = "POST /api/v1/topics/t HTTP/1.1\r\nContent-Length: 2097152\r\n\r\n";
  HttpRequestParser p;
  const auto r = p.consume(bytes(head));  // no body byte sent
  REQUIRE(r.status == Status::Error);
  CHECK(r.error_status == 413);
  CHECK(std::string(r.error) == "request body too large");

  // Exactly the limit is accepted.
  HttpLimits l;
  l.max_body_bytes = 4;
  const Outcome ok = whole("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", l);
  REQUIRE(ok.requests.size() == 1);
  CHECK(ok.requests[0].body == "abcd");
  CHECK(whole("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", l).error_status == 413);
}

TEST_CASE("413: a chunked body over the limit", "[http][parser][limits]") {
  // One chunk declared larger than the limit: refused at its size line.
  const std::string huge = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n200001\r\n";
  HttpRequestParser p;
  const auto r = p.consume(bytes(huge));
  REQUIRE(r.status == Status::Error);
  CHECK(r.error_status == 413);

  // Small chunks adding up past the limit.
  HttpLimits l;
  l.max_body_bytes = 8;
  const std::string fits = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n";
  const Outcome ok = whole(fits, l);
  REQUIRE(ok.requests.size() == 1);
  CHECK(ok.requests[0].body == "abcdefgh");
  const std::string over = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n1\r\ni\r\n0\r\n\r\n";
  const Outcome o = whole(over, l);
  CHECK(o.requests.empty());
  CHECK(o.error_status == 413);
  require_split_invariant(over, o, l);
}

TEST_CASE("400: malformed requests; the error sticks", "[http][parser][errors]") {
  const std::vector<std::string> bad = {
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s,             // a TLS ClientHello
      "hello world\r\n\r\n",                                        // no version
      "FOO / HTTP/1.1\r\n\r\n",                                     // unknown method
      "GET /a b HTTP/1.1\r\n\r\n",                                  // space in the target
      "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",                    // header without ':'
      "GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n",                     // control byte in a value
      "GET / HTTP/x.1\r\n\r\n",                                     // version syntax
      "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",              // bad length
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",  // two lengths
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",  // both
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",         // not chunked last
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  // chunk size
  };
  for (const auto& s : bad) {
    CAPTURE(s);
    HttpRequestParser p;
    const auto r = p.consume(bytes(s));
    REQUIRE(r.status == Status::Error);
    CHECK(r.error_status == 400);
    CHECK(std::string(r.error).size() > 0);
    const Outcome b = bytewise(s);
    CHECK(b.last == Status::Error);
    CHECK(b.error_status == 400);
    const auto again = p.consume(bytes("GET / HTTP/1.1\r\n\r\n"));
    CHECK(again.status == Status::Error);
    CHECK(again.error_status == 400);
    CHECK(again.consumed == 0);
  }
  HttpRequestParser p;
  const auto r = p.consume(bytes("FOO / HTTP/1.1\r\n\r\n"));
  CHECK(std::string(r.error) == "invalid HTTP method");  // http_errno_description
}

TEST_CASE("505: versions other than 1.0 and 1.1, the HTTP/2 preface", "[http][parser][errors]") {
  const std::vector<std::string> unsupported = {
      "GET / HTTP/2.0\r\n\r\n",
      "GET / HTTP/1.2\r\n\r\n",
      "GET / HTTP/0.9\r\n\r\n",
      "GET /\r\n\r\n",  // HTTP/0.9 request line: libhttp-parser reads it as version 0.9
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  };
  for (const auto& s : unsupported) {
    CAPTURE(s);
    const Outcome w = one_error(s);
    CHECK(w.last == Status::Error);
    CHECK(w.error_status == 505);
    const Outcome b = bytewise(s);
    CHECK(b.last == Status::Error);
    CHECK(b.error_status == 505);
  }
  // A "PR..." method that is not the preface stays a 400.
  CHECK(one_error("PRX / HTTP/1.1\r\n\r\n").error_status == 400);
  // The preface after a good request on the same connection.
  const Outcome after = whole("GET / HTTP/1.1\r\n\r\nPRI * HTTP/2.0\r\n\r\n");
  CHECK(after.requests.size() == 1);
  CHECK(after.error_status == 505);
}

TEST_CASE("empty input and leading blank lines", "[http][parser]") {
  HttpRequestParser p;
  auto r = p.consume({});
  CHECK(r.status == Status::NeedMore);
  CHECK(r.consumed == 0);
  const std::string req = "\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
  r = p.consume(bytes(req));
  REQUIRE(r.status == Status::Request);
  CHECK(r.consumed == req.size());
  CHECK(p.request().path == "/x");
  r = p.consume({});  // ends the held request
  CHECK(r.status == Status::NeedMore);
  CHECK(p.request().path.empty());
}
