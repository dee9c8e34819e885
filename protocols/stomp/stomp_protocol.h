// junction::stomp::StompProtocol — the STOMP 1.0/1.1/1.2 front-end factory:
// one per listener, creates a StompConnection per accepted transport
// connection and keeps a registry of them for shutdown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "client_protocol.h"
#include "message.h"
#include "stomp_codec.h"

namespace junction::core {
class Broker;
}

namespace junction::stomp {

struct StompOptions {
  frontend::ClientOptions client;          // what every client listener has
  StompLimits limits;                      // frame size, header count, header line
  std::uint32_t heart_beat_send_ms = 10000;     // server cx in CONNECTED; 0 = none; < 1000 rounds up to 1000
  std::uint32_t heart_beat_receive_ms = 10000;  // server cy in CONNECTED; 0 = none; < 1000 rounds up to 1000
  std::uint32_t default_prefetch = 100;    // queue subscriptions without prefetch-count; 0 = unlimited
  std::uint32_t max_subscriptions = 1024;        // per connection
  std::size_t max_transaction_bytes = 16 * 1024 * 1024;  // frames buffered by open transactions, per connection
};

// Stored with every message STOMP clients send (core::ProtocolId).
inline constexpr core::ProtocolId kStompProtocol{2};

// Shutdown (ClientProtocol::shutdown): every connection gets ERROR "server
// shutting down" (after the receipts it still owes) and is closed once flushed.
class StompProtocol final : public frontend::ClientProtocol {
 public:
  StompProtocol(core::Broker& broker, const StompOptions& options);
  ~StompProtocol() override;

  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;

  const StompOptions& options() const { return options_; }
  // MESSAGE headers encoded once: escaped (1.1, 1.2) and raw (1.0).
  core::EncodeSlot headers_slot(bool raw) const { return raw ? raw_slot_ : escaped_slot_; }

  // A client id no other connection has, in this process or an earlier one
  // (temporary queues are named after it and may survive a crash), and that
  // cannot be guessed from another one.
  std::string next_client_id();

 private:
  StompOptions options_;
  core::EncodeSlot escaped_slot_, raw_slot_;
};

}  // namespace junction::stomp
