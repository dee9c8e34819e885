// junction::frontend::ClientProtocol — what every client protocol's factory
// shares (MQTT, STOMP; a new protocol derives from it too): the broker, the
// options common to client listeners, the registry of live connections (to
// reach them all at shutdown) and the counters the composition root reads.
//
// A protocol's factory adds its own options and shared buffers; its
// connections derive from ClientConnection (client_connection.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "broker.h"
#include "frontend.h"
#include "intrusive_list.h"

namespace junction::frontend {

class ClientConnection;

// What every client listener is configured with (limits.*, the listener's
// allow_anonymous), whatever its protocol.
struct ClientOptions {
  std::size_t outbound_limit = 4 * 1024 * 1024;  // bytes queued before deliveries wait (limits.outbound_buffer)
  std::uint32_t connect_timeout_ms = 10000;      // the protocol's CONNECT must arrive within this
  std::uint32_t max_publish_rate = 0;            // publishes per second per client; 0 = unlimited
  bool allow_anonymous = true;
};

class ClientProtocol : public core::ProtocolFactory {
 public:
  ClientProtocol(core::Broker& broker, const char* name, const ClientOptions& options)
      : broker_(broker), name_(name), client_options_(options) {}

  const char* protocol_name() const override { return name_; }
  // Every live connection's shutdown() (its protocol's goodbye, then close).
  void shutdown() override;
  Counters counters() const override { return Counters{connections_, rate_limited_}; }

  core::Broker& broker() const { return broker_; }
  const ClientOptions& client_options() const { return client_options_; }

  // Called by ClientConnection.
  void add(ClientConnection* c);
  void remove(ClientConnection* c);
  void count_rate_limited();  // counted, logged the first and then every thousandth time

 private:
  core::Broker& broker_;
  const char* name_;
  ClientOptions client_options_;
  core::IntrusiveList<ClientConnection> live_;
  std::size_t connections_ = 0;
  std::uint64_t rate_limited_ = 0;
};

}  // namespace junction::frontend
