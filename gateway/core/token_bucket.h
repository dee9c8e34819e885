// junction::core::TokenBucket — a rate limit that allows bursts up to one
// second's worth: `rate` tokens refill per second, continuously, and at most
// `rate` are held. Rate 0 means unlimited. Time comes from the caller (the
// loop's or broker's clock), so tests can drive it.
#pragma once

#include <algorithm>
#include <cstdint>

namespace junction::core {

class TokenBucket {
 public:
  TokenBucket() = default;  // unlimited
  TokenBucket(std::uint32_t rate, std::int64_t now_ms) : rate_(rate), tokens_(rate), at_ms_(now_ms) {}

  bool unlimited() const noexcept { return rate_ == 0; }

  // Takes one token when there is one.
  bool take(std::int64_t now_ms) noexcept {
    if (rate_ == 0) return true;
    refill(now_ms);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // True when take() would succeed now.
  bool ready(std::int64_t now_ms) noexcept {
    if (rate_ == 0) return true;
    refill(now_ms);
    return tokens_ >= 1.0;
  }

 private:
  void refill(std::int64_t now_ms) noexcept {
    if (now_ms <= at_ms_) return;
    tokens_ = std::min<double>(rate_, tokens_ + double(rate_) * double(now_ms - at_ms_) / 1000.0);
    at_ms_ = now_ms;
  }

  std::uint32_t rate_ = 0;
  double tokens_ = 0;
  std::int64_t at_ms_ = 0;
};

}  // namespace junction::core
