// The link between a Session and a queue it consumes (MQTT `$queue/<name>`
// subscriptions): queue deliveries become session deliveries, and the
// client's PUBACK/PUBCOMP acknowledges the queue message. The link exists
// only while the session is online; going offline requeues what was unacked.
#pragma once

#include <cstdint>
#include <string>

#include "queue.h"

namespace junction::core {

class Broker;
class Session;

class SessionQueueConsumer final : public QueueConsumer {
 public:
  SessionQueueConsumer(Broker& broker, Session& session, std::string queue, std::uint8_t qos)
      : broker_(broker), session_(session), queue_(std::move(queue)), qos_(qos) {}

  void queue_deliver(QueueSubscription& sub, const MessageRef& m, std::uint64_t tag, std::uint32_t deliveries) override;
  bool queue_can_take() const override;

  const std::string& queue() const { return queue_; }
  std::uint8_t qos() const { return qos_; }
  QueueSubscription* sub = nullptr;

 private:
  Broker& broker_;
  Session& session_;
  std::string queue_;
  std::uint8_t qos_;
};

}  // namespace junction::core
