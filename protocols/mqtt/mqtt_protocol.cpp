#include "mqtt_protocol.h"

#include "mqtt_connection.h"

namespace junction::mqtt {

MqttProtocol::MqttProtocol(core::Broker& broker, const MqttOptions& options) : broker_(broker), options_(options) {}

MqttProtocol::~MqttProtocol() = default;

std::unique_ptr<core::ProtocolHandler> MqttProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<MqttConnection>(*this, sink);
}

void MqttProtocol::add(MqttConnection* c) {
  c->prev_ = nullptr;
  c->next_ = head_;
  if (head_) head_->prev_ = c;
  head_ = c;
}

void MqttProtocol::remove(MqttConnection* c) {
  if (c->prev_) {
    c->prev_->next_ = c->next_;
  } else if (head_ == c) {
    head_ = c->next_;
  }
  if (c->next_) c->next_->prev_ = c->prev_;
  c->prev_ = c->next_ = nullptr;
}

void MqttProtocol::shutdown() {
  for (MqttConnection* c = head_; c;) {
    MqttConnection* next = c->next_;
    c->shutdown();
    c = next;
  }
}

}  // namespace junction::mqtt
