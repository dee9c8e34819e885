// junction::bench Histogram: bucket geometry and percentile walk.
#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace junction::bench {

namespace {
// Highest index: msb 63 gives shift 63 - kSubBits and sub-bucket < 2*kSub.
constexpr std::size_t kBuckets = (64 - Histogram::kSubBits + 1) * Histogram::kSub;
}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::lowest_in(std::size_t index) {
  if (index < 2 * kSub) return index;
  const std::size_t shift = index / kSub - 1;
  const std::uint64_t sub = index - shift * kSub;
  return sub << shift;
}

std::uint64_t Histogram::width_of(std::size_t index) {
  if (index < 2 * kSub) return 1;
  return 1ull << (index / kSub - 1);
}

std::uint64_t Histogram::value_at_percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  if (rank == count_) return max_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = lowest_in(i) + (width_of(i) - 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace junction::bench
