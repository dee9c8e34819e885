// OutboundWatch: is a subscriber's connection a slow consumer?
//
// The rule, the same for MQTT QoS 0 and STOMP topic subscribers (README,
// "Slow consumers"): past limits.outbound_buffer queued bytes a connection
// gets no more deliveries written; they wait in its session (bounded by
// max_queued_messages / max_queued_bytes) and go out once it has drained.
// Only a connection whose deliveries are held back this way and whose
// unsent bytes do not go down for limits.slow_consumer_ms is slow: QoS 0
// copies for it are then dropped (counted, logged) until it reads again. A
// large message is therefore never a reason to drop; a consumer that
// stopped is.
//
// Fed by the front-end's tick (about once a second), so a stall is noticed
// within a second of slow_consumer_ms; slow() is a field read on the
// delivery path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace junction::core {

class OutboundWatch {
 public:
  // `queued`: the connection's unsent bytes now; `held`: deliveries wait
  // because of it (over the buffer, or its session's queue not empty).
  // Returns true when the connection has just become slow (the caller logs
  // one line per episode). slow_after_ms 0: never slow.
  bool tick(std::size_t queued, bool held, std::int64_t now_ms, std::uint32_t slow_after_ms) {
    const std::uint32_t q = queued > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(queued);
    const bool progress = q < last_queued_;
    last_queued_ = q;
    if (!held || queued == 0 || slow_after_ms == 0) {
      since_ms_ = 0;
      slow_ = false;
      return false;
    }
    if (since_ms_ == 0 || progress) {  // held back but moving: start (again) the clock
      since_ms_ = now_ms == 0 ? 1 : now_ms;
      slow_ = false;
      return false;
    }
    if (slow_ || now_ms - since_ms_ < std::int64_t(slow_after_ms)) return false;
    slow_ = true;
    return true;
  }
  bool slow() const { return slow_; }
  std::int64_t stalled_ms(std::int64_t now_ms) const { return since_ms_ ? now_ms - since_ms_ : 0; }

 private:
  std::int64_t since_ms_ = 0;  // held back without progress since; 0 = not
  std::uint32_t last_queued_ = 0;
  bool slow_ = false;
};

}  // namespace junction::core
