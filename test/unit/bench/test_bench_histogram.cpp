// junction-bench latency histogram: bucket geometry, percentile order and
// accuracy on known distributions; and the loss tracker's bookkeeping.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "histogram.h"
#include "tracker.h"

using namespace junction::bench;

namespace {

// Exact percentile of a sorted sample, same rank rule as the histogram.
std::uint64_t exact(const std::vector<std::uint64_t>& sorted, double p) {
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void check_close(std::uint64_t got, std::uint64_t want) {
  const double tolerance = std::max(1.0, static_cast<double>(want) / static_cast<double>(Histogram::kSub));
  INFO("got " << got << " want " << want);
  CHECK(std::fabs(static_cast<double>(got) - static_cast<double>(want)) <= tolerance);
}

}  // namespace

TEST_CASE("buckets tile the value range without gaps", "[bench][histogram]") {
  const std::uint64_t samples[] = {0, 1, 255, 511, 512, 513, 1023, 1024, 123456789, (1ull << 40) + 12345, UINT64_MAX};
  for (std::uint64_t v : samples) {
    const std::size_t i = Histogram::index_of(v);
    INFO(v);
    CHECK(Histogram::lowest_in(i) <= v);
    CHECK(v - Histogram::lowest_in(i) < Histogram::width_of(i));
  }
  for (std::size_t i = 1; i < 40 * Histogram::kSub; ++i) {
    // Each bucket starts where the previous one ends.
    REQUIRE(Histogram::lowest_in(i) == Histogram::lowest_in(i - 1) + Histogram::width_of(i - 1));
  }
  // Values below 2*kSub are exact.
  CHECK(Histogram::width_of(Histogram::index_of(2 * Histogram::kSub - 1)) == 1);
}

TEST_CASE("empty and single-value histograms", "[bench][histogram]") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.value_at_percentile(50) == 0);
  CHECK(h.max() == 0);
  h.record(4242);
  CHECK(h.count() == 1);
  CHECK(h.min() == 4242);
  CHECK(h.max() == 4242);
  CHECK(h.value_at_percentile(0) == 4242);  // clamped to [min, max]
  CHECK(h.value_at_percentile(50) == 4242);
  CHECK(h.value_at_percentile(100) == 4242);
}

TEST_CASE("percentiles of 1..100000 are accurate and ordered", "[bench][histogram]") {
  Histogram h;
  std::vector<std::uint64_t> all;
  for (std::uint64_t v = 1; v <= 100000; ++v) {
    h.record(v * 1000);  // 1 us .. 100 ms in ns
    all.push_back(v * 1000);
  }
  CHECK(h.count() == 100000);
  CHECK(h.min() == 1000);
  CHECK(h.max() == 100000000);
  CHECK(h.mean() == Approx(50000.5 * 1000));
  std::uint64_t prev = 0;
  for (double p : {0.0, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    INFO("p" << p);
    const std::uint64_t v = h.value_at_percentile(p);
    CHECK(v >= prev);
    prev = v;
    check_close(v, exact(all, p));
  }
  CHECK(h.value_at_percentile(100) == h.max());
}

TEST_CASE("percentiles of a skewed random sample; reset and merge", "[bench][histogram]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(11.0, 1.5);  // ~60 us median, long tail
  Histogram a, b;
  std::vector<std::uint64_t> all;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    (i % 2 ? a : b).record(v);
    all.push_back(v);
  }
  std::sort(all.begin(), all.end());
  a.merge(b);
  CHECK(a.count() == all.size());
  CHECK(a.min() == all.front());
  CHECK(a.max() == all.back());
  const std::uint64_t p50 = a.value_at_percentile(50), p90 = a.value_at_percentile(90);
  const std::uint64_t p99 = a.value_at_percentile(99), p999 = a.value_at_percentile(99.9);
  CHECK(p50 <= p90);
  CHECK(p90 <= p99);
  CHECK(p99 <= p999);
  CHECK(p999 <= a.max());
  for (double p : {50.0, 90.0, 99.0, 99.9}) check_close(a.value_at_percentile(p), exact(all, p));
  a.reset();
  CHECK(a.count() == 0);
  CHECK(a.value_at_percentile(99) == 0);
}

TEST_CASE("loss tracker: acknowledged but undelivered messages count as lost", "[bench][tracker]") {
  LossTracker t;
  // Two publishers; group 0 gets both, group 1 (a queue) only publisher 1.
  t.init(2, {{0, 1}, {1}});
  for (std::uint32_t s = 0; s < 100; ++s) {
    t.accepted(0, s);
    t.accepted(1, s);
  }
  CHECK(t.accepted_count() == 200);
  CHECK(t.outstanding() == 300);
  for (std::uint32_t s = 0; s < 100; ++s) {
    CHECK(t.received(0, 0, s));
    if (s != 42) CHECK(t.received(0, 1, s));
    if (s % 10 != 0) CHECK(t.received(1, 1, s));
  }
  CHECK_FALSE(t.received(0, 0, 5));  // duplicate
  CHECK(t.duplicates() == 1);
  CHECK(t.lost() == 1 + 10);
  CHECK(t.outstanding() == 11);
  // Delivered but never acknowledged (QoS 1 in flight at the end): not lost.
  CHECK(t.received(0, 0, 500));
  CHECK(t.lost() == 11);
  // Out of range ids are ignored, not crashes.
  CHECK_FALSE(t.received(7, 0, 1));
  CHECK_FALSE(t.received(0, 9, 1));
}
