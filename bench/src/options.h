// junction::bench options — the command line of junction-bench.
//
//   junction-bench <scenario> [options]
//
// parse_options() never exits the process and never prints: it fills
// Options or returns a message, so the unit tests can check every refusal.
// Values are validated here once (host on loopback only, non-negative
// rates and durations, window 1..65535); the drivers trust them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace junction::bench {

enum class Scenario : std::uint8_t { Fanin, Fanout, Pairs, Queue, Conns, Latency, Sink, State };
enum class Protocol : std::uint8_t { Mqtt, Stomp };
// How `queue` addresses its queue: Junction's durable `$queue/<name>` (publish
// and subscribe to the same topic), or an MQTT 5 shared subscription
// `$share/bench/<prefix>/queue/<name>` that every broker with shared
// subscriptions understands (Mosquitto).
enum class QueueMode : std::uint8_t { Queue, Share };

const char* scenario_name(Scenario s);
const char* protocol_name(Protocol p);

struct Options {
  Scenario scenario = Scenario::Fanin;
  Protocol protocol = Protocol::Mqtt;
  int mqtt_version = 4;          // 4 = 3.1.1, 5 = 5.0
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;     // 61613 is the default for --protocol stomp
  int qos = 0;                   // MQTT 0..2; STOMP: 0 = no receipts/auto ack, >0 = receipts + client acks
  std::uint32_t size = 64;       // payload bytes
  double duration_s = 10;        // measured time (sink: 0 = until SIGINT)
  double warmup_s = 2;           // published and delivered, not counted
  double hold_s = 10;            // conns: idle time with every connection open
  double rate = 0;               // total msgs/s over all publishers; 0 = as fast as the window allows
  std::uint32_t publishers = 0;  // 0 = scenario default
  std::uint32_t subscribers = 0; // 0 = scenario default (queue: consumers)
  std::uint32_t pairs = 100;
  std::uint32_t connections = 1000;
  std::uint32_t inflight = 64;       // per publisher, QoS > 0
  // QoS 0 has no acknowledgement, so a publisher flooding a slower broker
  // would only fill socket buffers (seconds of queue, meaningless latency).
  // Instead each publisher keeps at most this many messages sent but not yet
  // seen by every subscriber group it feeds (0 = unbounded flood).
  std::uint32_t qos0_window = 1000;
  std::uint32_t connect_window = 64; // handshakes in progress at once
  std::string topic_prefix = "bench";
  std::string queue_name = "bench";
  QueueMode queue_mode = QueueMode::Queue;
  // queue --backlog N: the producers alone first fill the queue with N
  // acknowledged messages, then the consumers connect and the window
  // measures how fast the broker drains a stored backlog (0 = off: producers
  // and consumers run at once). --duration is then the time limit of the
  // fill and of the drain, 600 s unless given.
  std::uint64_t backlog = 0;
  // --fill-only: stop once the backlog is filled and acknowledged (no
  // consumers), leaving it in the broker (bench/backlog then restarts it).
  bool fill_only = false;
  // --extra-subscriptions N (MQTT): before the scenario's clients connect,
  // idle connections subscribe N filters that never match a measured topic
  // and stay for the whole run, so the figures are those of a broker whose
  // subscription tree is large (scenario.h: tree_filter). 0 = none.
  std::uint32_t extra_subscriptions = 0;
  // state: subscriptions, then retained messages, measured (RssAnon growth per item).
  std::uint32_t state_items = 100000;
  std::string json_path;   // "" none, "-" stdout
  int broker_pid = 0;      // 0 = unknown
  // Subscribers connect with persistent sessions (MQTT 3.1.1 clean session 0;
  // MQTT 5 session expiry 300 s, set to 0 by the final DISCONNECT), so a broker
  // with durable storage has to store every message before acknowledging it.
  // With clean sessions there is nothing to store and durability costs nothing.
  bool persistent = false;
  // MQTT 5 publishes carry a unique x-dedup-id user property each (the
  // broker's duplicate detection at work on every message).
  bool dedup_ids = false;
  std::string id_property = "x-dedup-id";
  // MQTT subscribers send SUBSCRIBE right behind CONNECT, in the same write,
  // as MQTT allows (3.1.1 section 3.1.4, 5.0 section 3.1.4): one round trip and
  // one write per side less per connection. --wait-connack waits for CONNACK
  // first, as most client libraries do.
  bool wait_connack = false;
  bool quiet = false;      // no progress line even on a terminal
  bool duration_given = false;

  // Resolved address (set by parse_options from host).
  bool ipv6 = false;
};

enum class ParseResult : std::uint8_t { Run, Exit, Error };

// Parses argv. Run: `out` is ready. Exit: help or version was asked for;
// `message` holds the text to print on stdout, exit 0. Error: `message`
// says why (print on stderr, exit 2).
ParseResult parse_options(int argc, const char* const* argv, Options& out, std::string& message);

// True for 127.0.0.0/8, ::1 and "localhost"; `*ipv6` tells which family.
// The generator refuses anything else: it is a load tool for this machine.
bool is_loopback_host(std::string_view host, bool* ipv6 = nullptr);

// Defaults that depend on the scenario, applied after parsing.
std::uint32_t default_publishers(Scenario s);
std::uint32_t default_subscribers(Scenario s);

}  // namespace junction::bench
