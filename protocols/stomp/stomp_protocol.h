// junction::stomp::StompProtocol — the STOMP 1.0/1.1/1.2 front-end factory:
// one per listener, creates a StompConnection per accepted transport
// connection and keeps a registry of them for shutdown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "frontend.h"
#include "intrusive_list.h"
#include "message.h"
#include "stomp_codec.h"

namespace junction::core {
class Broker;
}

namespace junction::stomp {

struct StompOptions {
  StompLimits limits;                      // frame size, header count, header line
  std::uint32_t heart_beat_send_ms = 10000;     // server cx in CONNECTED; 0 = none; < 1000 rounds up to 1000
  std::uint32_t heart_beat_receive_ms = 10000;  // server cy in CONNECTED; 0 = none; < 1000 rounds up to 1000
  std::uint32_t default_prefetch = 100;    // queue subscriptions without prefetch-count; 0 = unlimited
  bool allow_anonymous = true;             // CONNECT without login
  std::size_t outbound_limit = 4 * 1024 * 1024;  // bytes queued before deliveries stop (topics: dropped)
  std::uint32_t connect_timeout_ms = 10000;      // CONNECT must arrive within this
  std::uint32_t max_subscriptions = 1024;        // per connection
  std::size_t max_transaction_bytes = 16 * 1024 * 1024;  // frames buffered by open transactions, per connection
  std::uint32_t max_publish_rate = 0;            // SEND frames per second per connection; 0 = unlimited
};

class StompConnection;

// Stored with every message STOMP clients send (core::ProtocolId).
inline constexpr core::ProtocolId kStompProtocol{2};

class StompProtocol final : public core::ProtocolFactory {
 public:
  StompProtocol(core::Broker& broker, const StompOptions& options);
  ~StompProtocol() override;

  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;
  const char* protocol_name() const override { return "stomp"; }

  // Graceful shutdown: every connection gets ERROR "server shutting down"
  // (after the receipts it still owes) and is closed once flushed.
  void shutdown();

  core::Broker& broker() { return broker_; }
  const StompOptions& options() const { return options_; }
  // MESSAGE headers encoded once: escaped (1.1, 1.2) and raw (1.0).
  core::EncodeSlot headers_slot(bool raw) const { return raw ? raw_slot_ : escaped_slot_; }

  // A client id no other connection has, in this process or an earlier one
  // (temporary queues are named after it and may survive a crash).
  std::string next_client_id();

  // Connection registry (for shutdown); used by StompConnection.
  void add(StompConnection* c);
  void remove(StompConnection* c);

  // Times a client's reading was paused for limits.max_publish_rate.
  std::uint64_t rate_limited() const { return rate_limited_; }
  void count_rate_limited();

 private:
  core::Broker& broker_;
  StompOptions options_;
  core::EncodeSlot escaped_slot_, raw_slot_;
  std::string id_prefix_;  // "stomp-<random>-"
  std::uint64_t next_id_ = 1;
  core::IntrusiveList<StompConnection> connections_;
  std::uint64_t rate_limited_ = 0;
};

}  // namespace junction::stomp
