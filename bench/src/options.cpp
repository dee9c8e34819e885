// junction::bench options: CLI11 declaration and validation.
#include "options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "payload.h"

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace junction::bench {

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::Fanin: return "fanin";
    case Scenario::Fanout: return "fanout";
    case Scenario::Pairs: return "pairs";
    case Scenario::Queue: return "queue";
    case Scenario::Conns: return "conns";
    case Scenario::Latency: return "latency";
    case Scenario::Sink: return "sink";
    case Scenario::State: return "state";
  }
  return "?";
}

const char* protocol_name(Protocol p) { return p == Protocol::Stomp ? "stomp" : "mqtt"; }

bool is_loopback_host(std::string_view host, bool* ipv6) {
  if (host == "localhost") {
    if (ipv6) *ipv6 = false;
    return true;
  }
  std::string h(host);
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) {
    if (ipv6) *ipv6 = false;
    return (ntohl(a4.s_addr) >> 24) == 127;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
    if (ipv6) *ipv6 = true;
    return IN6_IS_ADDR_LOOPBACK(&a6);
  }
  return false;
}

std::uint32_t default_publishers(Scenario s) {
  switch (s) {
    case Scenario::Fanin: return 4;
    case Scenario::Queue: return 4;
    default: return 1;
  }
}

std::uint32_t default_subscribers(Scenario s) {
  switch (s) {
    case Scenario::Fanin: return 4;
    case Scenario::Fanout: return 100;
    case Scenario::Queue: return 4;
    default: return 1;
  }
}

namespace {

bool scenario_from(std::string_view name, Scenario& out) {
  static constexpr Scenario all[] = {Scenario::Fanin, Scenario::Fanout, Scenario::Pairs, Scenario::Queue,
                                     Scenario::Conns, Scenario::Latency, Scenario::Sink, Scenario::State};
  for (Scenario s : all) {
    if (name == scenario_name(s)) {
      out = s;
      return true;
    }
  }
  return false;
}

constexpr double kBacklogLimitS = 600;  // default --duration of a backlog run

// --backlog: refused unless the fill can be counted exactly. Each message
// must be acknowledged (QoS > 0) and stamped with the run (--size >= 20),
// and the queue must hold messages while nobody consumes: a shared
// subscription without members holds nothing.
std::string validate_backlog(Options& o, bool duration_given) {
  if (o.backlog == 0) return "--backlog must be > 0 (messages to queue before any consumer connects)";
  if (o.backlog > UINT32_MAX) return "--backlog must be <= 4294967295";
  if (o.scenario != Scenario::Queue) return "--backlog is only for the queue scenario";
  if (o.qos < 1)
    return "--backlog needs --qos 1 or 2 (STOMP: 1): the fill waits until the broker has acknowledged every message";
  // With --fill-only, share mode publishes to a plain topic: what holds the
  // messages is then up to the broker (bench/backlog outbox: a bridge).
  if (o.protocol == Protocol::Mqtt && o.queue_mode == QueueMode::Share && !o.fill_only)
    return "--backlog needs --queue-mode queue (or --fill-only): a shared subscription without subscribers holds "
           "no messages";
  if (o.size < kStampSize)
    return "--backlog needs --size >= 20 (the payload carries the run stamp that counts the drain)";
  if (!duration_given) o.duration_s = kBacklogLimitS;
  return "";
}

// --extra-subscriptions: MQTT filters, and a broker to hold them (sink is
// the broker itself), under the traffic of a scenario (state has none: it
// measures the tree it subscribes itself).
std::string validate_extra(const Options& o) {
  if (o.extra_subscriptions == 0) return "";
  if (o.protocol != Protocol::Mqtt) return "--extra-subscriptions needs --protocol mqtt (they are MQTT filters)";
  if (o.scenario == Scenario::Sink) return "--extra-subscriptions is for runs against a broker, not sink";
  if (o.scenario == Scenario::State) return "--extra-subscriptions is not for state (it measures its own tree)";
  return "";
}

// state: the growth of the broker's anonymous memory per item, so the
// broker's pid is required. An empty retained message would delete the
// topic's retained message instead of storing one.
std::string validate_state(const Options& o, bool items_given) {
  if (items_given && o.scenario != Scenario::State) return "--state-items is only for the state scenario";
  if (o.scenario != Scenario::State) return "";
  if (o.state_items == 0) return "--state-items must be > 0 (subscriptions, then retained messages, to measure)";
  if (o.protocol != Protocol::Mqtt) return "state speaks MQTT only";
  if (o.broker_pid == 0) return "state needs --broker-pid (it measures the growth of the broker's RssAnon)";
  if (o.size == 0) return "state needs --size >= 1 (an empty retained message deletes instead of storing)";
  return "";
}

// Returns an error message, or "" when the options hold together.
std::string validate(Options& o, const CLI::App& app) {
  auto given = [&](const char* name) { return app.get_option(name)->count() > 0; };
  bool v6 = false;
  if (!is_loopback_host(o.host, &v6))
    return "--host " + o.host + ": refused; junction-bench only loads this machine (127.0.0.0/8, ::1, localhost)";
  o.ipv6 = v6;
  if (o.host == "localhost") o.host = "127.0.0.1";
  if (o.protocol == Protocol::Stomp && !given("--port")) o.port = 61613;
  if (o.scenario == Scenario::Sink && o.protocol == Protocol::Stomp) return "sink speaks MQTT only";
  if (o.port == 0 && o.scenario != Scenario::Sink) return "--port 0 is only meaningful for sink";
  if (o.mqtt_version != 4 && o.mqtt_version != 5) return "--mqtt-version must be 4 (3.1.1) or 5";
  if (o.qos < 0 || o.qos > 2) return "--qos must be 0, 1 or 2";
  if (o.protocol == Protocol::Stomp && o.qos > 1) return "--qos 2 has no STOMP equivalent (use 0 or 1)";
  if (!std::isfinite(o.rate) || o.rate < 0) return "--rate must be a non-negative number of messages per second";
  if (!std::isfinite(o.duration_s) || o.duration_s < 0) return "--duration must be >= 0 seconds";
  if (o.duration_s == 0 && o.scenario != Scenario::Sink) return "--duration must be > 0 seconds";
  if (!std::isfinite(o.warmup_s) || o.warmup_s < 0) return "--warmup must be >= 0 seconds";
  if (!std::isfinite(o.hold_s) || o.hold_s < 0) return "--hold must be >= 0 seconds";
  if (o.inflight < 1 || o.inflight > 65535) return "--inflight must be 1..65535";
  if (o.connect_window < 1) return "--connect-window must be >= 1";
  if (o.size > 16u * 1024 * 1024) return "--size must be <= 16 MiB";
  if (o.topic_prefix.empty() || o.topic_prefix.find_first_of("+#") != std::string::npos)
    return "--topic must be a non-empty topic without wildcards";
  if (o.queue_name.empty() || o.queue_name.find_first_of("+#/") != std::string::npos)
    return "--queue-name must be a non-empty name without '/', '+' or '#'";
  if (o.broker_pid < 0) return "--broker-pid must be a process id";
  o.duration_given = given("--duration");

  const std::uint32_t p = o.publishers, s = o.subscribers;
  switch (o.scenario) {
    case Scenario::Fanout:
      if (p > 1) return "fanout has one publisher (1 -> S); use fanin for several";
      break;
    case Scenario::Latency:
      if (p > 1 || s > 1) return "latency uses one publisher and one subscriber";
      if (!given("--rate")) o.rate = 1000;
      if (o.rate <= 0) return "latency needs --rate > 0 (messages per second)";
      if (o.size < 20) return "latency needs --size >= 20 (the payload carries the send timestamp)";
      break;
    case Scenario::Pairs:
      if (o.pairs < 1) return "--pairs must be >= 1";
      if (given("--publishers") || given("--subscribers")) return "pairs takes -N/--pairs, not -P/-S";
      break;
    case Scenario::Conns:
      if (o.connections < 1) return "--connections must be >= 1";
      break;
    default: break;
  }
  if (o.publishers == 0) o.publishers = default_publishers(o.scenario);
  if (o.subscribers == 0) o.subscribers = default_subscribers(o.scenario);
  if (o.scenario == Scenario::Pairs) o.publishers = o.subscribers = o.pairs;
  if (std::string why = validate_extra(o); !why.empty()) return why;
  if (std::string why = validate_state(o, given("--state-items")); !why.empty()) return why;
  if (o.fill_only && !given("--backlog")) return "--fill-only needs --backlog";
  if (given("--backlog")) return validate_backlog(o, o.duration_given);
  return "";
}

}  // namespace

ParseResult parse_options(int argc, const char* const* argv, Options& out, std::string& message) {
  Options o;
  CLI::App app{"junction-bench: MQTT/STOMP load generator (loopback only)\n"
               "scenarios: fanin fanout pairs queue conns latency sink state",
               "junction-bench"};
  std::string scenario, protocol = "mqtt", queue_mode = "queue";
  bool version = false;
  app.add_option("scenario", scenario, "fanin | fanout | pairs | queue | conns | latency | sink | state")
      ->required();
  app.add_option("--protocol", protocol, "mqtt or stomp")->capture_default_str();
  app.add_option("--mqtt-version", o.mqtt_version, "4 (3.1.1) or 5")->capture_default_str();
  app.add_option("--host", o.host, "broker address, loopback only")->capture_default_str();
  app.add_option("--port", o.port, "broker port (sink: port to listen on)")->capture_default_str();
  app.add_option("--qos", o.qos, "QoS of publishes and subscriptions")->capture_default_str();
  app.add_option("--size", o.size, "payload bytes (>= 20 for latency and loss tracking)")->capture_default_str();
  app.add_option("--duration", o.duration_s, "measured seconds (sink: 0 = until SIGINT)")->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds of load before measuring")->capture_default_str();
  app.add_option("--hold", o.hold_s, "conns: seconds to hold the idle connections")->capture_default_str();
  app.add_option("--rate", o.rate, "total publish rate, msgs/s (0 = as fast as the window allows)");
  app.add_option("-P,--publishers", o.publishers, "publishers (fanin, queue)");
  app.add_option("-S,--subscribers", o.subscribers, "subscribers (fanin, fanout) or consumers (queue)");
  app.add_option("-N,--pairs", o.pairs, "publisher/subscriber pairs (pairs)")->capture_default_str();
  app.add_option("-K,--connections", o.connections, "idle connections (conns)")->capture_default_str();
  app.add_option("--inflight", o.inflight, "unacknowledged publishes per publisher (QoS > 0)")->capture_default_str();
  app.add_option("--qos0-window", o.qos0_window,
                 "QoS 0: messages per publisher not yet received by its subscribers (0 = unbounded)")
      ->capture_default_str();
  app.add_option("--connect-window", o.connect_window, "handshakes in progress at once")->capture_default_str();
  app.add_option("--topic", o.topic_prefix, "topic prefix")->capture_default_str();
  app.add_option("--queue-name", o.queue_name, "queue: queue name")->capture_default_str();
  app.add_option("--queue-mode", queue_mode, "queue: 'queue' ($queue/NAME) or 'share' ($share/bench/...)")
      ->capture_default_str();
  app.add_option("--backlog", o.backlog,
                 "queue: fill the queue with N acknowledged messages first, then measure the consumers draining "
                 "it (QoS >= 1; --duration becomes the time limit, default 600 s)");
  app.add_flag("--fill-only", o.fill_only,
               "queue --backlog: stop once the backlog is acknowledged, without consumers (it stays in the broker)");
  app.add_option("--extra-subscriptions", o.extra_subscriptions,
                 "MQTT: idle connections first subscribe N filters (half wildcards) under the --topic's first "
                 "level that match no measured topic, and hold them for the whole run")
      ->capture_default_str();
  app.add_option("--state-items", o.state_items,
                 "state: filters subscribed, then retained messages published (broker RssAnon growth per item)")
      ->capture_default_str();
  app.add_option("--json", o.json_path, "write the result as JSON to FILE ('-' = stdout)");
  app.add_option("--broker-pid", o.broker_pid, "broker process id, for RSS from /proc/PID/status");
  app.add_flag("--persistent", o.persistent,
               "subscribers use persistent sessions (durable brokers must store every message)");
  app.add_flag("--dedup-ids", o.dedup_ids,
               "MQTT 5: every publish carries a unique x-dedup-id user property (duplicate detection)");
  app.add_option("--id-property", o.id_property,
                 "with --dedup-ids: the user property's name (another name: the same bytes, no duplicate detection)")
      ->capture_default_str();
  app.add_flag("--wait-connack", o.wait_connack,
               "MQTT: subscribe only after CONNACK (default: SUBSCRIBE right behind CONNECT, as MQTT allows)");
  app.add_flag("-q,--quiet", o.quiet, "no live progress line");
  app.add_flag("--version", version, "print the version");

  // CLI11 wants char**; it does not modify the strings.
  try {
    if (argc > 1 && (std::string_view(argv[1]) == "--version")) {
      message = std::string("junction-bench ") + JUNCTION_VERSION + "\n";
      return ParseResult::Exit;
    }
    app.parse(argc, const_cast<char**>(argv));
  } catch (const CLI::CallForHelp&) {
    message = app.help();
    return ParseResult::Exit;
  } catch (const CLI::ParseError& e) {
    message = e.what();
    return ParseResult::Error;
  }
  if (version) {
    message = std::string("junction-bench ") + JUNCTION_VERSION + "\n";
    return ParseResult::Exit;
  }
  if (!scenario_from(scenario, o.scenario)) {
    message = "unknown scenario '" + scenario + "' (fanin, fanout, pairs, queue, conns, latency, sink, state)";
    return ParseResult::Error;
  }
  if (protocol == "mqtt") {
    o.protocol = Protocol::Mqtt;
  } else if (protocol == "stomp") {
    o.protocol = Protocol::Stomp;
  } else {
    message = "--protocol must be mqtt or stomp";
    return ParseResult::Error;
  }
  if (queue_mode == "queue") {
    o.queue_mode = QueueMode::Queue;
  } else if (queue_mode == "share") {
    o.queue_mode = QueueMode::Share;
  } else {
    message = "--queue-mode must be queue or share";
    return ParseResult::Error;
  }
  message = validate(o, app);
  if (!message.empty()) return ParseResult::Error;
  out = std::move(o);
  return ParseResult::Run;
}

}  // namespace junction::bench
