// junction::bench sink — the generator's own ceiling. A minimal MQTT server
// that costs (almost) nothing per message: it answers CONNECT, SUBSCRIBE,
// PINGREQ and every QoS 1/2 publish as a broker would (PUBACK; PUBREC ...
// PUBCOMP), and it reflects each publish, as QoS 0, to the connections
// subscribed to exactly that topic (`$share/<g>/<topic>` and `$queue/<name>`
// round-robin within the group; wildcard filters are granted but never
// match). Publishes nobody subscribed to are discarded. Running a scenario
// against it shows what junction-bench itself can push and receive.
//
//   junction-bench sink --port 18830 [--duration S] [--json FILE]
//
// Prints "sink: listening on HOST:PORT" on stderr once bound (port 0 picks
// one), then counts until SIGINT/SIGTERM or --duration. Back-pressure: a
// subscriber with more than 64 MiB unsent loses reflections (counted).
#pragma once

#include "options.h"
#include "report.h"

namespace junction::bench {

// Returns the exit code (0, or 1 when it cannot listen).
int run_sink(const Options& o, Result& r);

}  // namespace junction::bench
