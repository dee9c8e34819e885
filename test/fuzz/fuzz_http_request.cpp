// libFuzzer: the admin API's HTTP/1.1 request codec (protocols/http/codec).
//
// Input: byte 0 picks the piece size (1..64), byte 1 the limits (small ones
// so every limit is reached with short inputs, or the defaults); the rest is
// the stream a connection would see. It is parsed like a connection does:
// pipelined requests one per consume(), the unparsed rest offered again with
// the next piece. Every request's path, query and headers go through the URI
// helpers and the response encoder.
//
// Invariants (abort on violation):
//   - consumed never exceeds what was offered; NeedMore consumes all of it;
//   - a request stays within the limits; path and query lie in the target;
//   - fed in pieces or whole: the same requests and the same final status
//     (split invariance);
//   - percent_decode(percent_encode(x)) == x; split_path segments hold no '/';
//   - json_error_body holds no raw control byte; encode_response's head ends
//     in one blank line.
//
// Build: test/fuzz/build.sh (test/fuzz/meson.build: links http_codec_dep only)
// Seeds: test/fuzz/corpus/http_request/
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http_request_parser.h"
#include "http_response.h"
#include "http_uri.h"

using namespace junction::http;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "http fuzz: %s\n", what);
  std::abort();
}

void check_round_trip(std::string_view s) {
  for (const bool keep_slash : {false, true}) {
    const auto back = percent_decode(percent_encode(s, keep_slash));
    if (!back || *back != s) fail("percent_encode does not round-trip");
  }
}

void exercise_helpers(const HttpRequest& r) {
  if (r.target.find(r.path) == std::string::npos) fail("path is not in the target");
  if (!r.query.empty() && r.target.find(r.query) == std::string::npos) fail("query is not in the target");
  for (const std::string_view seg : split_path(r.path)) {
    if (seg.empty() || seg.find('/') != std::string_view::npos) fail("bad path segment");
    if (const auto d = percent_decode(seg)) check_round_trip(*d);
  }
  if (const auto d = percent_decode(r.path)) check_round_trip(*d);
  if (const auto q = parse_query(r.query)) {
    for (const auto& [k, v] : *q) {
      check_round_trip(k);
      check_round_trip(v);
    }
  }
  const std::string json = json_error_body(r.target);
  for (const char c : json) {
    if (static_cast<unsigned char>(c) < 0x20) fail("raw control byte in JSON");
  }
  const std::string resp = encode_response(r.body.empty() ? 404 : 200, "application/json", json, r.keep_alive,
                                           r.headers, r.method == "HEAD");
  const std::size_t head_end = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) fail("bad response head");
  if (r.method == "HEAD" && head_end + 4 != resp.size()) fail("HEAD answer with a body");
}

struct Run {
  std::vector<HttpRequest> requests;
  HttpRequestParser::Status last = HttpRequestParser::Status::NeedMore;
  int error_status = 0;
};

Run parse(std::string_view stream, std::size_t piece, const HttpLimits& limits, bool check) {
  HttpRequestParser parser(limits);
  Run run;
  std::string buffer;
  std::size_t at = 0;
  while (at < stream.size()) {
    const std::size_t n = std::min(piece, stream.size() - at);
    buffer.append(stream.substr(at, n));
    at += n;
    while (!buffer.empty()) {
      const auto r = parser.consume({reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
      if (r.consumed > buffer.size()) fail("consumed more than offered");
      run.last = r.status;
      if (r.status == HttpRequestParser::Status::Error) {
        if (r.error_status != 400 && r.error_status != 413 && r.error_status != 431 && r.error_status != 505) {
          fail("unexpected error status");
        }
        if (r.error == nullptr || *r.error == '\0') fail("error without a reason");
        run.error_status = r.error_status;
        if (parser.consume({reinterpret_cast<const std::uint8_t*>("G"), 1}).status !=
            HttpRequestParser::Status::Error) {
          fail("parser left the error state");
        }
        return run;
      }
      if (r.status == HttpRequestParser::Status::NeedMore) {
        if (r.consumed != buffer.size()) fail("NeedMore left bytes");
        buffer.clear();
        break;
      }
      if (parser.in_request()) fail("in_request after a whole request");
      const HttpRequest& req = parser.request();
      if (req.body.size() > limits.max_body_bytes) fail("body over the limit");
      if (req.headers.size() > limits.max_headers) fail("too many headers");
      if (req.target.size() > limits.max_head_bytes) fail("target over the head limit");
      if (req.version_major != 1 || req.version_minor > 1) fail("unsupported version accepted");
      if (check) exercise_helpers(req);
      run.requests.push_back(req);
      buffer.erase(0, r.consumed);
    }
  }
  return run;
}

bool same(const HttpRequest& a, const HttpRequest& b) {
  if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query ||
      a.keep_alive != b.keep_alive || a.body != b.body || a.headers.size() != b.headers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  HttpLimits limits;
  if (data[1] & 1) {
    limits.max_head_bytes = 256;
    limits.max_body_bytes = 64;
    limits.max_headers = 8;
  }
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  const Run split = parse(stream, piece, limits, true);
  const Run whole = parse(stream, stream.size() + 1, limits, false);
  if (split.last != whole.last || split.error_status != whole.error_status) fail("split changed the outcome");
  if (split.requests.size() != whole.requests.size()) fail("split changed the request count");
  for (std::size_t i = 0; i < split.requests.size(); ++i) {
    if (!same(split.requests[i], whole.requests[i])) fail("split changed a request");
  }
  return 0;
}
