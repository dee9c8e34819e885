#include "mqtt_protocol.h"

#include "mqtt_connection.h"
#include "log.h"

namespace junction::mqtt {

MqttProtocol::MqttProtocol(core::Broker& broker, const MqttOptions& options)
    : broker_(broker), options_(options), v5_slot_(broker.encode_slot("mqtt 5 properties")) {
  broker.register_protocol(kMqttProtocol, "mqtt");
}

MqttProtocol::~MqttProtocol() = default;

std::unique_ptr<core::ProtocolHandler> MqttProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<MqttConnection>(*this, sink);
}

void MqttProtocol::add(MqttConnection* c) { connections_.push_front(c); }

void MqttProtocol::remove(MqttConnection* c) { connections_.remove(c); }

void MqttProtocol::count_rate_limited() {
  if (rate_limited_++ % 1000 == 0) {
    log::warning("mqtt: limits.max_publish_rate (%u/s) reached; pausing that client's input (%llu so far)",
                 options_.max_publish_rate, static_cast<unsigned long long>(rate_limited_));
  }
}

void MqttProtocol::shutdown() {
  connections_.for_each([](MqttConnection* c) { c->shutdown(); });
}

}  // namespace junction::mqtt
