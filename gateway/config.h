// junction::Config — the typed configuration, loaded from YAML (DESIGN §6).
//
// Every error throws ConfigError with a message of the form
//   FILE:LINE: key 'listeners[0].port': expected an integer, got a string
// (LINE is 1-based, from yaml-cpp's marks). Unknown keys anywhere are errors,
// so a typo never silently falls back to a default. The keys are a contract:
// see conf/junction.yaml, which is also the embedded default.
//
// Start-up (and SIGHUP) only: nothing here is on the data path.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "amqp_uri.h"
#include "log.h"

namespace junction {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// listeners[].tls (transport tls and wss).
struct TlsListenerConfig {
  std::string cert_file;           // PEM certificate chain (required)
  std::string key_file;            // PEM private key (required)
  std::string ca_file;             // PEM CAs for client certificates
  bool require_certificate = false;       // needs ca_file
  bool use_identity_as_username = false;  // needs require_certificate
  std::string ciphers;             // mbedTLS suite names; "" = default policy
  std::uint32_t handshake_timeout_ms = 10000;

  bool operator==(const TlsListenerConfig&) const = default;
};

// listeners[].websocket (transport ws and wss).
struct WebSocketListenerConfig {
  std::vector<std::string> allowed_origins;  // empty: any Origin
  std::uint32_t max_request_size = 8192;     // HTTP upgrade request, bytes
  std::uint32_t max_headers = 64;
  std::uint32_t max_frame_size = 16777216;   // one WebSocket frame's payload
  std::uint32_t handshake_timeout_ms = 10000;

  bool operator==(const WebSocketListenerConfig&) const = default;
};

struct ListenerConfig {
  std::string protocol = "mqtt";   // mqtt | stomp
  std::string transport = "tcp";   // tcp | tls | ws | wss
  std::string bind = "127.0.0.1";  // IPv4 or IPv6 literal
  std::uint16_t port = 0;          // 0: ephemeral (tests)
  std::string name;                // optional label for logs
  std::string path;                // ws/wss: "" = any path
  std::uint32_t max_connections = 0;  // 0: unlimited
  bool allow_anonymous = true;     // default: true only on a loopback bind
  TlsListenerConfig tls;
  WebSocketListenerConfig websocket;
  int line = 0;                    // where it was defined (for messages)

  bool operator==(const ListenerConfig&) const = default;
};

enum class Durability : std::uint8_t { Sync, Batch, Memory };
const char* durability_name(Durability d);

struct StoreConfig {
  std::string path = "./junction-data";
  Durability durability = Durability::Batch;
  std::uint32_t sync_interval_ms = 1000;  // batch: fsync at most this late
  std::uint64_t map_size_mb = 64;         // initial LMDB map
  std::uint64_t max_map_size_mb = 0;      // 0: grow without a cap

  bool operator==(const StoreConfig&) const = default;
};

struct LimitsConfig {
  std::uint32_t max_queued_messages = 100000;
  std::uint64_t max_queued_bytes = 0;  // payload bytes per session; 0: no limit
  std::uint32_t max_packet_size = 1048576;
  std::uint16_t max_keepalive = 600;
  std::uint16_t max_inflight = 1000;
  std::uint16_t receive_maximum = 1024;
  std::uint16_t topic_alias_maximum = 64;
  std::uint64_t outbound_buffer = 4194304;
  std::uint32_t slow_consumer_ms = 5000;  // 0: never a slow consumer
  std::uint32_t max_session_expiry = 4294967295u;
  std::uint32_t max_connections = 0;   // all listeners together; 0: unlimited
  std::uint32_t max_connect_rate = 0;  // new connections per second; 0: unlimited
  std::uint32_t max_publish_rate = 0;  // PUBLISH/SEND per second per client; 0: unlimited

  bool operator==(const LimitsConfig&) const = default;
};

// Per-queue policy, chosen by the first entry whose pattern matches the
// queue name ('*' matches any run of characters).
struct QueueConfig {
  std::string pattern;
  std::uint32_t max_length = 100000;   // 0: unlimited
  std::uint64_t max_bytes = 0;         // 0: unlimited
  bool drop_head = false;              // overflow: false = reject-publish, true = drop-head
  std::uint32_t max_deliveries = 0;    // 0: never dead-letter for redeliveries
  std::string dead_letter;             // "": DLQ.<name>; "none": drop
  std::uint64_t ttl_ms = 0;            // 0: no default TTL
  int line = 0;

  bool operator==(const QueueConfig&) const = default;
};

struct StompConfig {
  std::uint32_t heart_beat_ms = 10000;   // both directions, offered in CONNECTED
  std::uint32_t prefetch = 100;          // default prefetch-count of a queue subscription
  std::uint32_t max_frame_size = 4194304;
  std::uint32_t max_headers = 256;
  std::uint32_t max_header_line = 16384;

  bool operator==(const StompConfig&) const = default;
};

// The XMPP bridge (issue 7): one outbound XEP-0114 component connection.
struct XmppConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";        // the XMPP server's component listener
  std::uint16_t port = 5347;
  std::string component;                 // the component's domain (required when enabled)
  std::string secret;                    // shared secret, or read from secret_file
  std::string secret_file;
  std::vector<std::string> scope{"#"};   // topic filters the bridge exposes
  std::uint8_t qos = 0;                  // QoS of what XMPP users publish
  bool retain_pubsub = true;             // a PubSub publish is retained
  std::uint32_t offline_limit = 1000;    // deliveries kept per JID while disconnected
  std::uint32_t max_stanza_size = 1048576;
  int line = 0;

  bool operator==(const XmppConfig&) const = default;
};

// The first matching pattern's policy; defaults when none matches.
const QueueConfig* match_queue_config(const std::vector<QueueConfig>& queues, std::string_view name);
bool glob_match(std::string_view pattern, std::string_view text);

// Authentication and authorization (Mosquitto-format files; see README).
struct AuthConfig {
  std::string password_file;         // "": no password file (any user name is accepted)
  std::string acl_file;              // "": no ACL (every topic open)
  bool disconnect_on_denied_publish_v3 = false;  // deny_publish_v3: drop (false) | disconnect (true)

  bool operator==(const AuthConfig&) const = default;
};

// An upstream AMQP 0-9-1 bridge (README "AMQP bridge").
struct BridgeOutboundConfig {
  std::string filter;                   // local topic filter
  std::string exchange;                 // "" = the default exchange
  std::string routing_key = "{topic}";  // template
  std::uint8_t qos = 1;
  bool mandatory = false;
  bool operator==(const BridgeOutboundConfig&) const = default;
};
struct BridgeInboundConfig {
  std::string queue;         // "" = junction.<bridge>.<node_id>
  std::string exchange;      // bind `queue` to it with binding_key
  std::string binding_key;
  std::string topic_prefix;  // local topic = prefix + mapped routing key
  std::string local_queue;   // or publish into this local queue
  std::uint8_t qos = 1;
  bool operator==(const BridgeInboundConfig&) const = default;
};
// bridges[].tls, for amqps:// URIs: the client side of the TLS layer.
struct BridgeTlsConfig {
  std::string ca_file;      // PEM CAs that sign the server (required unless verify: false)
  std::string cert_file;    // PEM client certificate chain (optional, with key_file)
  std::string key_file;
  std::string server_name;  // checked against the server certificate; "" = the URI host
  bool verify = true;       // false: accept any server certificate (tests only)
  bool operator==(const BridgeTlsConfig&) const = default;
};
struct BridgeConfig {
  std::string name;
  std::vector<amqp::AmqpUri> upstreams;  // `uris`, parsed once here: failover order
  bool tls = false;               // the uris are amqps:// (all of them)
  BridgeTlsConfig tls_options;
  std::string node_id;            // "" = host name + store path
  std::uint16_t heartbeat = 30;
  std::uint16_t prefetch = 100;
  std::uint16_t max_unconfirmed = 1000;
  std::uint32_t outbox_max_messages = 100000;
  bool outbox_drop_oldest = false;
  std::uint32_t min_backoff_ms = 500, max_backoff_ms = 30000;
  std::vector<BridgeOutboundConfig> outbound;
  std::vector<BridgeInboundConfig> inbound;
  bool operator==(const BridgeConfig&) const = default;
};

// The $SYS/broker/... statistics tree (README "$SYS").
struct SysConfig {
  std::uint32_t interval_s = 10;  // seconds between updates; 0: no $SYS tree at all

  bool operator==(const SysConfig&) const = default;
};

struct LogConfig {
  log::Level level = log::Level::info;

  bool operator==(const LogConfig&) const = default;
};

struct Config {
  std::string source;  // file name, or "<default>"
  std::vector<ListenerConfig> listeners;
  StoreConfig store;
  LimitsConfig limits;
  std::vector<QueueConfig> queues;
  StompConfig stomp;
  AuthConfig auth;
  XmppConfig xmpp;
  std::vector<BridgeConfig> bridges;
  SysConfig sys;
  LogConfig log;
};

// Listeners that share one socket: ws (or wss) entries with the same bind
// address and port, told apart by path. Each group lists indexes into
// `listeners`, in order; every other listener is a group of one.
std::vector<std::vector<std::size_t>> listener_groups(const std::vector<ListenerConfig>& listeners);

// Reads and validates a YAML file. Throws ConfigError (also when the file
// cannot be read).
Config load_config(const std::string& path);
// Validates YAML text; `source` names it in error messages.
Config parse_config(std::string_view yaml, const std::string& source);
// The embedded default (the text of conf/junction.yaml).
Config default_config();
std::string_view default_config_text();

// True for 127.0.0.0/8, ::1 and ::ffff:127.x.x.x literals.
bool is_loopback_address(std::string_view literal);

}  // namespace junction
