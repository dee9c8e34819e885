// junction::http::HttpRequestParser — an incremental HTTP/1.1 request
// parser over libhttp-parser (Debian's libhttp-parser-dev): consume() takes
// any split of the bytes and answers need-more, one whole request (and how
// many bytes it used; pipelined bytes after it are left for the next call),
// or an error with the status to answer. No I/O inside.
//
// Limits are checked as bytes arrive, before anything grows past them:
// request line + headers (max_head_bytes -> 431), header count
// (max_headers -> 431), body (max_body_bytes -> 413, from Content-Length as
// soon as it is known, or as chunks arrive). Malformed syntax -> 400; a
// method libhttp-parser does not know -> 400; HTTP/2 preface or a version
// other than 1.0/1.1 -> 505. After Error the parser stays in error (the
// connection answers and closes).
//
// Requests are small and rare (the admin API): owning strings per request
// are fine here; nothing of this is on a message path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::http {

struct HttpLimits {
  std::size_t max_head_bytes = 16 * 1024;   // request line + headers
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_headers = 64;
};

struct HttpHeader {
  std::string name;   // lower-case
  std::string value;  // surrounding whitespace trimmed
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/api/v1/queues/a%2Fb/messages?limit=5"
  std::string path;    // the target's path, still percent-encoded: "/api/v1/queues/a%2Fb/messages"
  std::string query;   // after '?', still encoded (empty without one): "limit=5"
  unsigned version_major = 1;
  unsigned version_minor = 1;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or 1.0 with keep-alive
  std::vector<HttpHeader> headers;
  std::string body;  // de-chunked

  // The first header of that (lower-case) name, or null.
  const std::string* header(std::string_view lower_name) const;
};

class HttpRequestParser {
 public:
  enum class Status : std::uint8_t { NeedMore, Request, Error };
  struct Result {
    Status status = Status::NeedMore;
    std::size_t consumed = 0;   // bytes of `data` used (all of them for NeedMore)
    int error_status = 0;       // with Error: 400, 413, 431, 505
    const char* error = "";     // with Error: what was wrong, for the JSON answer
  };

  explicit HttpRequestParser(const HttpLimits& limits = {});
  ~HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Feeds bytes. After Request, request() holds it until the next consume();
  // the next consume() starts a new request (keep-alive, pipelining).
  Result consume(std::span<const std::uint8_t> data);
  const HttpRequest& request() const;
  // True between the first byte of a request and its end (idle-timeout and
  // slowloris accounting belong to the connection).
  bool in_request() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace junction::http
