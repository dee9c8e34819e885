#include "http_protocol.h"

#include "http_connection.h"

namespace junction::http {

std::unique_ptr<core::ProtocolHandler> HttpProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<HttpConnection>(*this, sink);
}

void HttpProtocol::shutdown() {
  shutting_down_ = true;
  live_.for_each([](HttpConnection* c) { c->shutdown(); });
}

void HttpProtocol::add(HttpConnection* c) {
  live_.push_front(c);
  ++connections_;
}

void HttpProtocol::remove(HttpConnection* c) {
  live_.remove(c);
  --connections_;
}

}  // namespace junction::http
