#include "mqtt_protocol.h"

#include "mqtt_connection.h"

namespace junction::mqtt {

MqttProtocol::MqttProtocol(core::Broker& broker, const MqttOptions& options) : broker_(broker), options_(options) {}

MqttProtocol::~MqttProtocol() = default;

std::unique_ptr<core::ProtocolHandler> MqttProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<MqttConnection>(*this, sink);
}

void MqttProtocol::add(MqttConnection* c) { connections_.push_front(c); }

void MqttProtocol::remove(MqttConnection* c) { connections_.remove(c); }

void MqttProtocol::shutdown() {
  connections_.for_each([](MqttConnection* c) { c->shutdown(); });
}

}  // namespace junction::mqtt
