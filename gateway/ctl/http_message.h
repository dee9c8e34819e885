// junction::ctl HTTP/1.1 messages, client side: the request ctl sends and
// a push parser for the answer. No I/O here (STYLE 1): the client feeds
// what it read and calls finish() at end of stream.
//
// The response parser sits on libhttp-parser (the same library the admin
// listener parses requests with) in HTTP_RESPONSE mode, so Content-Length,
// chunked bodies and read-until-close bodies all work. Limits: headers are
// bounded by libhttp-parser (80 KiB), the body by `max_body_bytes`, checked
// from Content-Length before any byte of it is buffered and as chunks come.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::ctl {

// RFC 4648 base64 with padding.
std::string base64(std::string_view in);

// "Basic " + base64(user ":" password), for the Authorization header.
std::string basic_authorization(std::string_view user, std::string_view password);

struct HttpRequest {
  std::string method;         // "GET", "DELETE", "POST"
  std::string target;         // "/api/v1/queues/a%2Fb/messages"
  std::string body;           // JSON, or empty
  std::string authorization;  // whole header value, or empty for none
};

// The bytes on the wire: request line, Host, Accept and Content-Type
// application/json, Content-Length (when there is a body, or for POST),
// Authorization (when set), Connection: close, User-Agent.
std::string encode_request(const HttpRequest& req, std::string_view authority);

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // de-chunked

  const std::string* header(std::string_view lower_name) const;
};

class ResponseParser {
 public:
  enum class Status { NeedMore, Done, Error };

  explicit ResponseParser(std::size_t max_body_bytes = 64u << 20);
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Any split of the bytes. After Done the rest is ignored (the request
  // said Connection: close); after Error it stays Error.
  Status feed(std::span<const char> data);
  // End of stream: completes a body that runs until close, else Error
  // when the answer was cut short.
  Status finish();

  const HttpResponse& response() const;
  const std::string& error() const;  // with Error: what was wrong

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace junction::ctl
