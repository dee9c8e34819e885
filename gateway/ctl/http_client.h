// junction::ctl::HttpClient — one blocking HTTP/1.1 exchange per call:
// connect (bounded by the timeout), TLS for https, send the request with
// Connection: close, read until the answer is complete (Content-Length,
// chunked, or end of stream), close. ctl makes one call per run, so there
// is no connection reuse and no pipelining to get wrong.
#pragma once

#include <string>
#include <variant>

#include "http_message.h"
#include "socket_stream.h"
#include "tls_stream.h"
#include "url.h"

namespace junction::ctl {

struct ClientOptions {
  Url url;
  int timeout_ms = 10000;  // connect, and each wait for the server after it
  TlsClientOptions tls;
};

// Why no answer came. Connect: the server was never reached (resolve,
// connect, TLS handshake); Exchange: it was, but the answer failed or
// was not HTTP.
struct TransportError {
  enum class Stage { Connect, Exchange } stage = Stage::Connect;
  std::string message;
};

using HttpResult = std::variant<HttpResponse, TransportError>;

// `req.target` is relative to the URL's base path ("/api/v1/broker").
HttpResult perform(const ClientOptions& options, HttpRequest req);

}  // namespace junction::ctl
