// Response encoding (status line, headers, HEAD, 204) and the JSON error body.
#include <catch2/catch.hpp>

#include "http_response.h"

using namespace junction::http;
using namespace std::string_literals;

TEST_CASE("reason phrases", "[http][response]") {
  CHECK(std::string(reason_phrase(200)) == "OK");
  CHECK(std::string(reason_phrase(404)) == "Not Found");
  CHECK(std::string(reason_phrase(413)) == "Content Too Large");
  CHECK(std::string(reason_phrase(431)) == "Request Header Fields Too Large");
  CHECK(std::string(reason_phrase(505)) == "HTTP Version Not Supported");
  CHECK(std::string(reason_phrase(299)) == "Unknown");
  for (int s : {200, 201, 204, 301, 304, 400, 401, 403, 404, 405, 408, 409, 411, 413, 415, 431, 500, 501, 503, 505}) {
    CAPTURE(s);
    CHECK(std::string(reason_phrase(s)) != "Unknown");
  }
}

TEST_CASE("encode_response", "[http][response]") {
  CHECK(encode_response(200, "application/json", "{\"a\":1}", true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  CHECK(encode_response(404, "", "", false) ==
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  const HttpHeader extra[] = {{"WWW-Authenticate", "Bearer realm=\"junction\""}, {"Allow", "GET, POST"}};
  CHECK(encode_response(401, "text/plain", "no", true, extra) ==
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
        "WWW-Authenticate: Bearer realm=\"junction\"\r\nAllow: GET, POST\r\n\r\nno");
  // HEAD: the length of the body it would have had, no body bytes.
  CHECK(encode_response(200, "application/json", "12345", false, {}, true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
  // 204: no Content-Length, no body.
  CHECK(encode_response(204, "application/json", "ignored", true) == "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(encode_response(299, "", "", true) == "HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\n\r\n");
  // A body with NUL bytes is counted whole.
  CHECK(encode_response(200, "", "a\0b"s, true) == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b"s);
}

TEST_CASE("encode_response drops CR and LF from header fields", "[http][response]") {
  const HttpHeader extra[] = {{"Location", "/a\r\nSet-Cookie: x=1"}};
  CHECK(encode_response(301, "", "", true, extra) ==
        "HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\nLocation: /aSet-Cookie: x=1\r\n\r\n");
}

TEST_CASE("json_error_body escapes per RFC 8259", "[http][response]") {
  CHECK(json_error_body("not found") == "{\"error\": \"not found\"}");
  CHECK(json_error_body("") == "{\"error\": \"\"}");
  CHECK(json_error_body("say \"hi\"") == "{\"error\": \"say \\\"hi\\\"\"}");
  CHECK(json_error_body("a\\b") == "{\"error\": \"a\\\\b\"}");
  CHECK(json_error_body("l1\nl2\r\t\b\f") == "{\"error\": \"l1\\nl2\\r\\t\\b\\f\"}");
  CHECK(json_error_body("\x01\x1f"s + '\0') == "{\"error\": \"\\u0001\\u001f\\u0000\"}");
  CHECK(json_error_body("/a/b\x7f") == "{\"error\": \"/a/b\x7f\"}");  // '/' and DEL need no escape
  // Well-formed UTF-8 passes; anything else becomes U+FFFD.
  CHECK(json_error_body("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "{\"error\": \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}");
  CHECK(json_error_body("a\xFF" "b") == "{\"error\": \"a\\ufffdb\"}");
  CHECK(json_error_body("\xC3") == "{\"error\": \"\\ufffd\"}");            // truncated
  CHECK(json_error_body("\xC0\xAF") == "{\"error\": \"\\ufffd\\ufffd\"}");  // overlong '/'
  CHECK(json_error_body("\xED\xA0\x80") == "{\"error\": \"\\ufffd\\ufffd\\ufffd\"}");  // surrogate
  CHECK(json_error_body("\xF4\x90\x80\x80") == "{\"error\": \"\\ufffd\\ufffd\\ufffd\\ufffd\"}");  // > U+10FFFF
}
