// ReadHold: why a front-end has stopped reading one connection.
//
// Two reasons overlap independently: the store still owes this client many
// answers (PUBACKs, RECEIPTs waiting for a commit), and the client has spent
// its max_publish_rate tokens. Each is lifted on its own schedule (a commit,
// a tick), and reading may resume only when neither is left; with two bools
// per front-end, every site had to check the other one. One byte, and the
// sink is told only on the first hold and the last release.
#pragma once

#include <cstdint>

#include "frontend.h"

namespace junction::core {

class ReadHold {
 public:
  enum Reason : std::uint8_t { Answers = 1, PublishRate = 2 };

  bool held(Reason r) const { return (bits_ & r) != 0; }
  bool any() const { return bits_ != 0; }

  // Adds a reason; the first one stops the socket's reads.
  void hold(Reason r, ConnectionSink& sink) {
    if (held(r)) return;
    const bool was_reading = bits_ == 0;
    bits_ = static_cast<std::uint8_t>(bits_ | r);
    if (was_reading) sink.pause_reading(true);
  }
  // Removes a reason; when none is left the socket reads again.
  void release(Reason r, ConnectionSink& sink) {
    if (!held(r)) return;
    bits_ = static_cast<std::uint8_t>(bits_ & ~r);
    if (bits_ == 0) sink.pause_reading(false);
  }

 private:
  std::uint8_t bits_ = 0;
};

}  // namespace junction::core
