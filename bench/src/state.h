// junction::bench state — what the broker's state costs in memory: bytes of
// anonymous RSS (RssAnon in /proc/PID/status, so a memory-mapped store such
// as LMDB does not count) per subscription and per retained message.
//
//   1. One publisher connection and one subscriber connection (TreeLoader,
//      clean session) connect; after a pause of about 1 s the broker's
//      RssAnon is read: `before`.
//   2. The subscriber subscribes --state-items K filters, tree_filter(
//      "state", 0 .. K-1): three levels, half exact, half with + or #;
//      after the last SUBACK and a pause: `subscribed`.
//   3. The publisher publishes K retained messages, QoS 1, --size bytes,
//      each to its own topic state/r<i % 1000>/<i> (matched by none of the
//      filters: nothing is delivered), --inflight at a time, until every
//      PUBACK came; after a pause: `retained`.
//   4. Both disconnect. The retained messages stay in the broker: measure
//      against a fresh broker each time (bench/compare does).
//
// bytes per subscription = (subscribed - before) / K, per retained message
// = (retained - subscribed) / K. Needs --broker-pid.
#pragma once

#include "options.h"
#include "report.h"

namespace junction::bench {

// Runs the scenario to the end. Returns 0, or 1 with r.error set.
int run_state(const Options& o, Result& r);

}  // namespace junction::bench
