#include "mqtt_protocol.h"

#include "mqtt_connection.h"

namespace junction::mqtt {

MqttProtocol::MqttProtocol(core::Broker& broker, const MqttOptions& options)
    : ClientProtocol(broker, "mqtt", options.client),
      options_(options),
      v5_slot_(broker.encode_slot("mqtt 5 properties")) {
  broker.register_protocol(kMqttProtocol, "mqtt");
}

MqttProtocol::~MqttProtocol() = default;

std::unique_ptr<core::ProtocolHandler> MqttProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<MqttConnection>(*this, sink);
}

}  // namespace junction::mqtt
