// junction::mqtt::MqttProtocol — the MQTT front-end factory: one per
// listener, creates an MqttConnection per accepted transport connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "frontend.h"
#include "intrusive_list.h"
#include "message.h"

namespace junction::core {
class Broker;
}

namespace junction::mqtt {

struct MqttOptions {
  std::uint32_t max_packet_size = 1048576;   // both ways; announced in v5 CONNACK
  std::uint16_t max_keepalive = 600;         // caps the client's keep-alive (v5: Server Keep Alive)
  std::uint16_t receive_maximum = 1024;      // incoming QoS>0 not yet acknowledged
  std::uint16_t topic_alias_maximum = 64;    // aliases the client may use towards us
  bool allow_anonymous = true;
  bool disconnect_on_denied_publish_v3 = false;  // else a denied v3 publish is acknowledged and dropped
  std::size_t outbound_limit = 4 * 1024 * 1024;  // bytes queued before QoS 0 is dropped
  std::uint32_t connect_timeout_ms = 10000;  // CONNECT must arrive within this
  std::uint32_t max_publish_rate = 0;        // PUBLISH per second per client; 0 = unlimited
};

class MqttConnection;

// Stored with every message MQTT clients publish (core::ProtocolId).
inline constexpr core::ProtocolId kMqttProtocol{1};

class MqttProtocol final : public core::ProtocolFactory {
 public:
  MqttProtocol(core::Broker& broker, const MqttOptions& options);
  ~MqttProtocol() override;

  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;
  const char* protocol_name() const override { return "mqtt"; }

  // Graceful shutdown: every connection gets DISCONNECT "server shutting
  // down" (v5) and is closed after its output is flushed.
  void shutdown();

  core::Broker& broker() { return broker_; }
  const MqttOptions& options() const { return options_; }
  // The message's own v5 properties, encoded once (no length prefix).
  core::EncodeSlot v5_properties_slot() const { return v5_slot_; }
  // The encode buffer all connections share (see MqttConnection::scratch_).
  std::string& scratch() { return scratch_; }

  // Connection registry (for shutdown); used by MqttConnection.
  void add(MqttConnection* c);
  void remove(MqttConnection* c);

  // Times a client's reading was paused for limits.max_publish_rate.
  std::uint64_t rate_limited() const { return rate_limited_; }
  void count_rate_limited();

 private:
  core::Broker& broker_;
  MqttOptions options_;
  core::EncodeSlot v5_slot_;
  core::IntrusiveList<MqttConnection> connections_;
  std::string scratch_;
  std::uint64_t rate_limited_ = 0;
};

}  // namespace junction::mqtt
