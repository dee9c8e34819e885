// junction::bench Histogram — latency distribution in log-linear buckets
// (the HdrHistogram layout): values below 2*S are counted exactly; above,
// each power-of-two octave [2^m, 2^(m+1)) is split into S equal sub-buckets,
// so any value is known within a relative error of 1/S. With S = 256 that is
// 0.4 %, over the whole uint64 range, in a fixed array of 57*256 counters
// allocated once: record() never allocates and costs a few instructions.
//
// Invariant: count() == sum of buckets; min()/max() are the exact extremes.
// value_at_percentile() returns the middle of the bucket holding the sample
// of rank ceil(p/100 * count), clamped to [min, max]; so percentiles are
// monotonic in p and p100 == max.
#pragma once

#include <cstdint>
#include <vector>

namespace junction::bench {

class Histogram {
 public:
  static constexpr unsigned kSubBits = 8;
  static constexpr std::uint64_t kSub = 1ull << kSubBits;

  Histogram();

  void record(std::uint64_t v) {
    ++counts_[index_of(v)];
    ++count_;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  void reset();
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // p in [0, 100]. 0 when empty.
  std::uint64_t value_at_percentile(double p) const;

  // Bucket geometry, public for the tests.
  static std::size_t index_of(std::uint64_t v) {
    if (v < 2 * kSub) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    const unsigned shift = msb - kSubBits;
    return static_cast<std::size_t>(shift) * kSub + static_cast<std::size_t>(v >> shift);
  }
  static std::uint64_t lowest_in(std::size_t index);
  static std::uint64_t width_of(std::size_t index);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace junction::bench
