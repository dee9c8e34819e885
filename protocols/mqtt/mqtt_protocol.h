// junction::mqtt::MqttProtocol — the MQTT front-end factory: one per
// listener, creates an MqttConnection per accepted transport connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <string>

#include "client_protocol.h"
#include "message.h"

namespace junction::mqtt {

struct MqttOptions {
  frontend::ClientOptions client;            // what every client listener has
  std::uint32_t max_packet_size = 1048576;   // both ways; announced in v5 CONNACK
  std::uint16_t max_keepalive = 600;         // caps the client's keep-alive (v5: Server Keep Alive)
  std::uint16_t receive_maximum = 1024;      // incoming QoS>0 not yet acknowledged
  std::uint16_t topic_alias_maximum = 64;    // aliases the client may use towards us
  bool disconnect_on_denied_publish_v3 = false;  // else a denied v3 publish is acknowledged and dropped
};

// Stored with every message MQTT clients publish (core::ProtocolId).
inline constexpr core::ProtocolId kMqttProtocol{1};

// Shutdown (ClientProtocol::shutdown): every connection gets DISCONNECT
// "server shutting down" (v5) and is closed after its output is flushed.
class MqttProtocol final : public frontend::ClientProtocol {
 public:
  MqttProtocol(core::Broker& broker, const MqttOptions& options);
  ~MqttProtocol() override;

  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;

  const MqttOptions& options() const { return options_; }
  // The message's own v5 properties, encoded once (no length prefix).
  core::EncodeSlot v5_properties_slot() const { return v5_slot_; }
  // The encode buffer all connections share (see MqttConnection::scratch()).
  std::string& scratch() { return scratch_; }

 private:
  MqttOptions options_;
  core::EncodeSlot v5_slot_;
  std::string scratch_;
};

}  // namespace junction::mqtt
