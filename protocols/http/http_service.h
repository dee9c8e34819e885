// junction::http::HttpService — what the HTTP front-end serves: one call per
// parsed request, answering a response (status, body) that may have to wait
// for a store commit first. The admin API (gateway/admin) implements it; the
// front-end owns the connection rules (keep-alive, limits, order, timeouts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frontend.h"
#include "http_request_parser.h"

namespace junction::http {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<HttpHeader> headers;  // extra headers (WWW-Authenticate, Cache-Control, ...)
  // The answer says a change is durable: it goes out only once the store
  // batch of this ticket is committed (Persistence::ticket(); 0: at once).
  // A failed commit turns it into a 500.
  std::uint64_t commit_ticket = 0;
  bool close = false;  // close the connection after this answer
};

class HttpService {
 public:
  virtual ~HttpService() = default;
  // Loop thread. `conn` is the connection's transport info (peer, TLS identity).
  virtual HttpResponse handle(const HttpRequest& req, const core::ConnectionInfo& conn) = 0;
};

}  // namespace junction::http
