#include <catch2/catch.hpp>

#include "token_bucket.h"

using junction::core::TokenBucket;

TEST_CASE("a default token bucket never limits", "[core][limits]") {
  TokenBucket b;
  CHECK(b.unlimited());
  for (int i = 0; i < 100000; ++i) REQUIRE(b.take(0));
}

TEST_CASE("a token bucket allows a burst of one second's worth, then the rate", "[core][limits]") {
  TokenBucket b(10, 1000);
  CHECK_FALSE(b.unlimited());
  for (int i = 0; i < 10; ++i) REQUIRE(b.take(1000));
  CHECK_FALSE(b.take(1000));
  CHECK_FALSE(b.ready(1050));  // half a token
  CHECK(b.ready(1100));
  CHECK(b.take(1100));
  CHECK_FALSE(b.take(1100));
  // A long pause refills to the burst, not beyond.
  int taken = 0;
  while (b.take(60000)) ++taken;
  CHECK(taken == 10);
}

TEST_CASE("a token bucket ignores time going backwards", "[core][limits]") {
  TokenBucket b(2, 5000);
  CHECK(b.take(5000));
  CHECK(b.take(5000));
  CHECK_FALSE(b.take(4000));
  CHECK(b.take(5500));
}
