// junction::bench Result — everything a run measured, and its two outputs:
// a JSON object for scripts (--json FILE or -) and a short human summary.
//
// Rates are over the measured window only (after --warmup, before the
// drain): delivered_per_s counts messages received by subscribers,
// published_per_s messages written by publishers. With queue --backlog the
// window is the drain of the stored backlog: delivered_per_s is over it,
// while published, acked, rejected and published_per_s describe the fill
// that came before (the producers publish nothing during the drain). Latency is in
// microseconds in the JSON (float), from the payload's send stamp to its
// arrival, for messages arriving inside the window.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "histogram.h"
#include "options.h"

namespace junction::bench {

struct Result {
  Options options;
  std::string description;
  std::uint32_t run_id = 0;
  bool interrupted = false;  // SIGINT ended the run early
  std::string error;         // non-empty: the run failed (exit 1)

  // Traffic scenarios.
  double measured_s = 0;
  std::uint64_t published = 0, delivered = 0, acked = 0, rejected = 0;  // in the window
  std::uint64_t published_total = 0, delivered_total = 0, acked_total = 0;
  std::optional<std::uint64_t> lost;  // QoS > 0 with stamped payloads
  std::uint64_t duplicates = 0;
  std::uint64_t foreign = 0;  // payloads from another run (old queue contents)
  std::optional<Histogram> latency;
  double drain_s = 0;
  // queue --backlog: seconds from the first fill publish until all N were
  // answered, and the drain window (= measured_s: the first consumer starts
  // connecting .. every acknowledged message delivered). *_limited: the
  // --duration limit ended that phase first.
  double fill_s = 0, backlog_drained_s = 0;
  bool fill_limited = false, drain_limited = false;
  // CPU use during the window, in % of one core: this process, and the
  // broker when --broker-pid is given (from /proc/PID/stat). A generator
  // near 100 % means the figures are the generator's ceiling, not the broker's.
  std::optional<double> generator_cpu_pct, broker_cpu_pct;

  // conns.
  std::uint32_t connections_requested = 0;
  std::uint32_t connections = 0;
  std::uint64_t nofile_limit = 0;
  bool capped = false;
  double connect_s = 0;
  // Broker VmRSS: before connecting, right after the last SUBACK, and at the
  // end of the hold (steady state; bytes per connection use this one).
  std::optional<std::uint64_t> rss_before_kb, rss_connected_kb, rss_after_kb;

  // --extra-subscriptions: the connections that hold them, and the seconds
  // from opening them to the last SUBACK.
  std::uint32_t extra_connections = 0;
  double extra_subscribe_s = 0;

  // state: seconds to subscribe the K filters (first SUBSCRIBE .. last
  // SUBACK) and to store the K retained messages (first publish .. last
  // PUBACK); broker RssAnon before subscribing, after the subscriptions and
  // after the retained messages, each read after a pause of about 1 s.
  double subscribe_s = 0, retain_s = 0;
  std::optional<std::uint64_t> rss_anon_before_kb, rss_anon_subscribed_kb, rss_anon_retained_kb;

  // sink.
  std::uint64_t sink_connections = 0;
  std::uint64_t sink_publishes = 0;
  std::uint64_t sink_forwarded = 0, sink_dropped = 0;
  double sink_peak_per_s = 0;

  double published_per_s() const {
    const double s = options.backlog > 0 ? fill_s : measured_s;
    return s > 0 ? static_cast<double>(published) / s : 0;
  }
  // Messages the broker acknowledged per second of fill: the rate it stores.
  double fill_per_s() const { return fill_s > 0 ? static_cast<double>(acked) / fill_s : 0; }
  double delivered_per_s() const { return measured_s > 0 ? static_cast<double>(delivered) / measured_s : 0; }
  double connect_rate() const { return connect_s > 0 ? connections / connect_s : 0; }
  std::optional<double> rss_per_connection_bytes() const;
  // state: RssAnon growth per subscription and per retained message, bytes.
  std::optional<double> rss_per_subscription_bytes() const;
  std::optional<double> rss_per_retained_bytes() const;
};

std::string to_json(const Result& r);
void print_summary(const Result& r, std::FILE* out);
// Writes the JSON where o.json_path says (nothing when empty). Returns an
// error message or "".
std::string write_json(const Result& r);

// VmRSS of a process in KiB from /proc/PID/status; nullopt if unreadable.
std::optional<std::uint64_t> read_rss_kb(int pid);
// RssAnon likewise: the anonymous part of VmRSS, without file-backed pages
// (a broker's memory-mapped store, LMDB's, is not its heap).
std::optional<std::uint64_t> read_rss_anon_kb(int pid);
// CPU time (user + system) in seconds: of a process from /proc/PID/stat,
// and of this process from getrusage.
std::optional<double> read_cpu_s(int pid);
double self_cpu_s();

}  // namespace junction::bench
