#include "stomp_protocol.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "stomp_connection.h"

namespace junction::stomp {

StompProtocol::StompProtocol(core::Broker& broker, const StompOptions& options)
    : ClientProtocol(broker, "stomp", options.client),
      options_(options),
      escaped_slot_(broker.encode_slot("stomp 1.1 headers")),
      raw_slot_(broker.encode_slot("stomp 1.0 headers")) {
  broker.register_protocol(kStompProtocol, "stomp");
}

StompProtocol::~StompProtocol() = default;

std::unique_ptr<core::ProtocolHandler> StompProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<StompConnection>(*this, sink);
}

std::string StompProtocol::next_client_id() {
  // 128 bits from the kernel's CSPRNG (one getrandom per CONNECT): unique
  // across listeners and restarts (a crash may leave temporary queues named
  // after old ids), and not guessable from one's own id, which names a core
  // session that a connection of any protocol could otherwise take over.
  std::uint64_t r[2] = {0, 0};
  std::size_t got = 0;
  while (got < sizeof r) {
    const ssize_t n = ::getrandom(reinterpret_cast<char*>(r) + got, sizeof r - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
    else if (errno != EINTR) throw std::runtime_error("getrandom failed");
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "stomp-%016llx%016llx", static_cast<unsigned long long>(r[0]),
                static_cast<unsigned long long>(r[1]));
  return buf;
}

}  // namespace junction::stomp
