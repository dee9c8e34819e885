#include "client_protocol.h"

#include "client_connection.h"
#include "log.h"

namespace junction::frontend {

void ClientProtocol::shutdown() {
  live_.for_each([](ClientConnection* c) { c->shutdown(); });
}

void ClientProtocol::add(ClientConnection* c) {
  live_.push_front(c);
  ++connections_;
}

void ClientProtocol::remove(ClientConnection* c) {
  live_.remove(c);
  --connections_;
}

void ClientProtocol::count_rate_limited() {
  if (rate_limited_++ % 1000 == 0) {
    log::warning("%s: limits.max_publish_rate (%u/s) reached; pausing that client's input (%llu so far)", name_,
                 client_options_.max_publish_rate, static_cast<unsigned long long>(rate_limited_));
  }
}

}  // namespace junction::frontend
