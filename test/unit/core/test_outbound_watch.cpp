// OutboundWatch: the slow-consumer rule (held back, no progress, for long enough).
#include <catch2/catch.hpp>

#include "outbound_watch.h"

using junction::core::OutboundWatch;

TEST_CASE("a held-back connection without progress becomes slow after slow_consumer_ms", "[core][slow]") {
  OutboundWatch w;
  CHECK_FALSE(w.tick(100000, true, 1000, 5000));  // the clock starts
  CHECK_FALSE(w.tick(100000, true, 5999, 5000));
  CHECK(w.tick(100000, true, 6000, 5000));  // just became slow: reported once
  CHECK(w.slow());
  CHECK_FALSE(w.tick(100500, true, 7000, 5000));  // still slow (more control bytes queued), not reported again
  CHECK(w.slow());
  CHECK(w.stalled_ms(7000) == 6000);
  CHECK_FALSE(w.tick(90000, true, 8000, 5000));  // it read something: not slow, the clock starts again
  CHECK_FALSE(w.slow());
  CHECK_FALSE(w.tick(90000, true, 12999, 5000));
  CHECK(w.tick(90000, true, 13000, 5000));
}

TEST_CASE("progress, an empty buffer or nothing held back is never slow", "[core][slow]") {
  OutboundWatch w;
  // A large message read steadily: over the buffer for a long time, but
  // going down at every tick.
  std::size_t queued = 16 << 20;
  for (std::int64_t t = 1000; t < 60000; t += 1000, queued -= 200000) CHECK_FALSE(w.tick(queued, true, t, 5000));
  CHECK_FALSE(w.slow());
  OutboundWatch idle;
  for (std::int64_t t = 1000; t < 60000; t += 1000) CHECK_FALSE(idle.tick(0, true, t, 5000));  // nothing unsent
  OutboundWatch free_flowing;
  for (std::int64_t t = 1000; t < 60000; t += 1000) CHECK_FALSE(free_flowing.tick(50000, false, t, 5000));
  OutboundWatch off;
  for (std::int64_t t = 1000; t < 60000; t += 1000) CHECK_FALSE(off.tick(1 << 20, true, t, 0));  // 0: rule off
  CHECK_FALSE(off.slow());
}

TEST_CASE("a slow consumer stops being slow once nothing is held back", "[core][slow]") {
  OutboundWatch w;
  w.tick(70000, true, 1000, 1000);
  CHECK(w.tick(70000, true, 2000, 1000));
  CHECK_FALSE(w.tick(70000, false, 3000, 1000));
  CHECK_FALSE(w.slow());
}
