// Injectable time, so tests can drive expiry, keep-alive and will delay.
#pragma once

#include <chrono>
#include <cstdint>

namespace junction::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds (timeouts, keep-alive).
  virtual std::int64_t now_ms() const = 0;
  // Wall-clock milliseconds since the epoch (message timestamps, expiry that
  // must survive a restart).
  virtual std::int64_t wall_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  std::int64_t wall_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  }
};

class ManualClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return mono_; }
  std::int64_t wall_ms() const override { return wall_; }
  void advance(std::int64_t ms) { mono_ += ms; wall_ += ms; }
 private:
  std::int64_t mono_ = 1'000'000;
  std::int64_t wall_ = 1'700'000'000'000;
};

}  // namespace junction::core
