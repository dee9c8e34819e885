// junction::admin — what the admin API reads besides the Broker: figures
// only the composition root knows (listeners, bridges, the store's files,
// the loop's traffic). gateway/app fills an AdminSources; the admin box
// never includes net, the store implementation or a protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace junction::admin {

struct ListenerInfo {
  std::string name;       // "mqtt/tcp 127.0.0.1:1883" (as in the logs)
  std::string protocol;   // "mqtt", "stomp", "http"
  std::string transport;  // "tcp", "tls", "ws", "wss"
  std::string bind;
  std::uint16_t port = 0;
  std::string path;       // ws/wss
  std::size_t connections = 0;  // live connections of this listener's protocol factory
};

struct BridgeInfo {
  std::string name;        // "amqp:<name>" or "xmpp"
  std::string kind;        // "amqp", "xmpp"
  std::string state;       // "connecting", "up", "stopping", "stopped"
  std::string upstream;    // host:port
  std::uint64_t outbox = 0;
  std::uint64_t confirms_pending = 0;
  std::string last_error;
  std::int64_t since_wall_ms = 0;  // this bridge object started
};

struct StoreInfo {
  std::string engine;  // "lmdb", "memory"
  std::string path;
  std::string mode;    // "sync", "batch", "memory"
  std::uint64_t map_size = 0;
  std::uint64_t used_bytes = 0;
  std::uint64_t free_disk_bytes = 0;
};

struct TrafficInfo {
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t connections_refused = 0;
};

// A histogram as Prometheus wants it (counts per bucket, not cumulative).
struct Histogram {
  std::vector<double> bounds;
  std::vector<std::uint64_t> counts;  // counts[i]: (bounds[i-1], bounds[i]]
  std::uint64_t count = 0;            // all observations (past the last bound too)
  double sum = 0;
};

struct LoopInfo {
  Histogram busy_seconds;  // per iteration
  double idle_seconds = 0;
};

struct AdminSources {
  std::string version;  // "0.1.0"
  std::string node_id;
  std::function<std::vector<ListenerInfo>()> listeners;
  std::function<std::vector<BridgeInfo>()> bridges;
  std::function<StoreInfo()> store;
  std::function<TrafficInfo()> traffic;
  std::function<LoopInfo()> loop;
};

struct AdminOptions {
  // Credentials are checked (the password file is configured): only these users.
  bool require_auth = false;
  std::vector<std::string> admin_users;
  bool public_metrics = false;
  std::uint32_t metrics_max_queues = 100;
};

}  // namespace junction::admin
