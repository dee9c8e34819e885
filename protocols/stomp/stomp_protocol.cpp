#include "stomp_protocol.h"

#include <cstdio>
#include <random>

#include "stomp_connection.h"

namespace junction::stomp {

StompProtocol::StompProtocol(core::Broker& broker, const StompOptions& options)
    : ClientProtocol(broker, "stomp", options.client),
      options_(options),
      escaped_slot_(broker.encode_slot("stomp 1.1 headers")),
      raw_slot_(broker.encode_slot("stomp 1.0 headers")) {
  broker.register_protocol(kStompProtocol, "stomp");
  // Random per listener and per run: two listeners, or a restart after a
  // crash that left temporary queues in the store, never hand out the same id.
  std::random_device rd;
  const std::uint64_t r = (std::uint64_t(rd()) << 32) ^ rd();
  char buf[32];
  std::snprintf(buf, sizeof buf, "stomp-%012llx-", static_cast<unsigned long long>(r & 0xFFFFFFFFFFFFull));
  id_prefix_ = buf;
}

StompProtocol::~StompProtocol() = default;

std::unique_ptr<core::ProtocolHandler> StompProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<StompConnection>(*this, sink);
}

std::string StompProtocol::next_client_id() { return id_prefix_ + std::to_string(next_id_++); }

}  // namespace junction::stomp
