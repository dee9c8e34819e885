// junction::Config — the typed configuration, loaded from YAML (README "Configuration").
//
// Every error throws ConfigError with a message of the form
//   FILE:LINE: key 'listeners[0].port': expected an integer, got a string
// (LINE is 1-based, from yaml-cpp's marks). Unknown keys anywhere are errors,
// so a typo never silently falls back to a default. The keys are a contract:
// see conf/junction.yaml, which is also the embedded default. Each section's
// keys (name, type, range, target member) are declared once, in the binder
// tables of config*.cpp (config_binder.h).
//
// Defaults: a value that configures a module defaults to that module's own
// default, read from its option struct (MqttOptions, StompOptions,
// ClientOptions, BrokerConfig, QueuePolicy, LmdbOptions, XmppOptions,
// BridgeOptions, the net specs); only what no module has a default for is
// written here. conf/junction.yaml states the same values (a unit test
// checks that the file and these structs agree).
//
// Start-up (and SIGHUP) only: nothing here is on the data path.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "amqp_bridge.h"
#include "amqp_uri.h"
#include "broker.h"
#include "client_protocol.h"
#include "connector.h"
#include "http_upgrade.h"
#include "listener.h"
#include "lmdb_options.h"
#include "log.h"
#include "loop.h"
#include "mqtt_protocol.h"
#include "queue.h"
#include "stomp_protocol.h"
#include "http_protocol.h"
#include "tls_context.h"
#include "transport.h"
#include "ws_options.h"
#include "xmpp_bridge.h"

namespace junction {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// listeners[].protocol: which front-end serves the listener.
enum class Protocol : std::uint8_t { Mqtt, Stomp, Http };
const char* protocol_name(Protocol p);  // "mqtt", "stomp", "http" (the config values)

// listeners[].transport: tcp | tls | ws | wss, the net layer's own kinds;
// net::transport_name() gives the config value.
using Transport = net::TransportKind;

// listeners[].tls (transport tls and wss).
struct TlsListenerConfig {
  std::string cert_file;           // PEM certificate chain (required)
  std::string key_file;            // PEM private key (required)
  std::string ca_file;             // PEM CAs for client certificates
  bool require_certificate = net::TlsSettings{}.require_certificate;             // needs ca_file
  bool use_identity_as_username = net::TransportSpec{}.use_identity_as_username;  // needs require_certificate
  std::string ciphers;             // mbedTLS suite names; "" = default policy
  std::uint32_t handshake_timeout_ms = net::TransportSpec{}.handshake_timeout_ms;

  bool operator==(const TlsListenerConfig&) const = default;
};

// listeners[].websocket (transport ws and wss).
struct WebSocketListenerConfig {
  std::vector<std::string> allowed_origins;  // empty: any Origin
  std::uint32_t max_request_size = net::HttpLimits{}.max_request_size;  // HTTP upgrade request, bytes
  std::uint32_t max_headers = net::HttpLimits{}.max_headers;
  std::uint32_t max_frame_size = net::WsOptions{}.max_frame_size;  // one WebSocket frame's payload
  std::uint32_t handshake_timeout_ms = net::TransportSpec{}.handshake_timeout_ms;

  bool operator==(const WebSocketListenerConfig&) const = default;
};

struct ListenerConfig {
  Protocol protocol = Protocol::Mqtt;        // required
  Transport transport = net::TransportSpec{}.kind;
  std::string bind = net::ListenerSpec{}.bind;  // IPv4 or IPv6 literal
  std::uint16_t port = net::ListenerSpec{}.port;  // 0: ephemeral (tests)
  std::string name;                          // optional label for logs
  std::string path;                          // ws/wss: "" = any path
  std::uint32_t max_connections = net::ListenerSpec{}.max_connections;  // 0: unlimited
  bool allow_anonymous = frontend::ClientOptions{}.allow_anonymous;  // unless given: true only on a loopback bind
  TlsListenerConfig tls;
  WebSocketListenerConfig websocket;
  int line = 0;                              // where it was defined (for messages)

  bool operator==(const ListenerConfig&) const = default;
};

enum class Durability : std::uint8_t { Sync, Batch, Memory };
const char* durability_name(Durability d);  // "sync", "batch", "memory" (the config values)

struct StoreConfig {
  std::string path = "./junction-data";
  Durability durability = Durability::Batch;  // LmdbOptions' own default is sync
  std::uint32_t sync_interval_ms = store::LmdbOptions{}.sync_interval_ms;  // batch: fsync at most this late
  std::uint64_t map_size_mb = store::LmdbOptions{}.initial_map_size >> 20;  // initial LMDB map
  std::uint64_t max_map_size_mb = store::LmdbOptions{}.max_map_size >> 20;  // 0: grow without a cap
  std::uint64_t max_disk_bytes = core::BrokerConfig{}.max_disk_bytes;  // records held; 0: no limit
  std::uint64_t min_free_disk_bytes = core::BrokerConfig{}.min_free_disk_bytes;

  bool operator==(const StoreConfig&) const = default;
};

struct LimitsConfig {
  std::uint32_t max_queued_messages = core::BrokerConfig{}.max_queued_messages;
  std::uint64_t max_queued_bytes = core::BrokerConfig{}.max_queued_bytes;  // payload bytes per session; 0: no limit
  std::uint32_t max_packet_size = mqtt::MqttOptions{}.max_packet_size;
  std::uint16_t max_keepalive = mqtt::MqttOptions{}.max_keepalive;
  std::uint16_t max_inflight = core::BrokerConfig{}.max_inflight;
  std::uint16_t receive_maximum = mqtt::MqttOptions{}.receive_maximum;
  std::uint16_t topic_alias_maximum = mqtt::MqttOptions{}.topic_alias_maximum;
  std::uint64_t outbound_buffer = frontend::ClientOptions{}.outbound_limit;
  std::uint32_t slow_consumer_ms = core::BrokerConfig{}.slow_consumer_ms;  // 0: never a slow consumer
  std::uint32_t max_session_expiry = core::BrokerConfig{}.max_session_expiry_s;
  std::uint32_t max_connections = net::AdmissionLimits{}.max_connections;    // all listeners together; 0: unlimited
  std::uint32_t max_connect_rate = net::AdmissionLimits{}.max_connect_rate;  // new connections per second; 0: unlimited
  std::uint32_t max_publish_rate = frontend::ClientOptions{}.max_publish_rate;  // per client; 0: unlimited

  bool operator==(const LimitsConfig&) const = default;
};

// Per-queue policy, chosen by the first entry whose pattern matches the
// queue name ('*' matches any run of characters).
struct QueueConfig {
  std::string pattern;
  std::uint32_t max_length = core::QueuePolicy{}.max_length;          // 0: unlimited
  std::uint64_t max_bytes = core::QueuePolicy{}.max_bytes;            // 0: unlimited
  core::Overflow overflow = core::QueuePolicy{}.overflow;             // reject-publish | drop-head
  std::uint32_t max_deliveries = core::QueuePolicy{}.max_deliveries;  // 0: never dead-letter for redeliveries
  std::string dead_letter = core::QueuePolicy{}.dead_letter;          // "": DLQ.<name>; "none": drop
  std::uint64_t ttl_ms = core::QueuePolicy{}.ttl_ms;                  // 0: no default TTL
  bool single_active_consumer = core::QueuePolicy{}.single_active_consumer;
  std::uint64_t redelivery_delay_ms = 0;      // 0: requeued messages are offered again at once
  double redelivery_multiplier = core::QueuePolicy{}.redelivery_multiplier;
  std::uint64_t max_redelivery_delay_ms = 0;  // 0: 10 x redelivery_delay_ms
  int line = 0;

  bool operator==(const QueueConfig&) const = default;
};

struct StompConfig {
  std::uint32_t heart_beat_ms = stomp::StompOptions{}.heart_beat_send_ms;  // both directions, offered in CONNECTED
  std::uint32_t prefetch = stomp::StompOptions{}.default_prefetch;  // default prefetch-count of a queue subscription
  std::uint32_t max_frame_size = stomp::StompLimits{}.max_frame_size;
  std::uint32_t max_headers = stomp::StompLimits{}.max_headers;
  std::uint32_t max_header_line = stomp::StompLimits{}.max_header_line;

  bool operator==(const StompConfig&) const = default;
};

// The XMPP bridge (README "XMPP bridge"): one outbound XEP-0114 component connection.
struct XmppConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";        // the XMPP server's component listener
  std::uint16_t port = 5347;             // XEP-0114's customary port
  std::string component;                 // the component's domain (required when enabled)
  std::string secret;                    // shared secret, or read from secret_file
  std::string secret_file;
  std::vector<std::string> scope = xmpp::XmppOptions{}.scope;  // topic filters the bridge exposes
  std::uint8_t qos = xmpp::XmppOptions{}.qos;                  // QoS of what XMPP users publish
  bool retain_pubsub = xmpp::XmppOptions{}.retain_pubsub;      // a PubSub publish is retained
  std::uint32_t offline_limit = xmpp::XmppOptions{}.offline_limit;  // deliveries kept per JID while disconnected
  std::uint32_t max_stanza_size = xmpp::StreamLimits{}.max_stanza_bytes;
  int line = 0;

  bool operator==(const XmppConfig&) const = default;
};

// The first matching pattern's policy; defaults when none matches.
const QueueConfig* match_queue_config(const std::vector<QueueConfig>& queues, std::string_view name);
bool glob_match(std::string_view pattern, std::string_view text);

// Authentication and authorization (Mosquitto-format files; see README).
struct AuthConfig {
  std::string password_file;  // "": no password file (any user name is accepted)
  std::string acl_file;       // "": no ACL (every topic open)
  // deny_publish_v3: drop (false) | disconnect (true)
  bool disconnect_on_denied_publish_v3 = mqtt::MqttOptions{}.disconnect_on_denied_publish_v3;

  bool operator==(const AuthConfig&) const = default;
};

// An upstream AMQP 0-9-1 bridge (README "AMQP bridge").
struct BridgeOutboundConfig {
  std::string filter;                                             // local topic filter
  std::string exchange;                                           // "" = the default exchange
  std::string routing_key = amqp::OutboundRule{}.routing_key;     // template
  std::uint8_t qos = amqp::OutboundRule{}.qos;
  bool mandatory = amqp::OutboundRule{}.mandatory;
  bool operator==(const BridgeOutboundConfig&) const = default;
};
struct BridgeInboundConfig {
  std::string queue;         // "" = junction.<bridge>.<node_id>
  std::string exchange;      // bind `queue` to it with binding_key
  std::string binding_key;
  std::string topic_prefix;  // local topic = prefix + mapped routing key
  std::string local_queue;   // or publish into this local queue
  std::uint8_t qos = amqp::InboundRule{}.qos;
  bool operator==(const BridgeInboundConfig&) const = default;
};
// bridges[].tls, for amqps:// URIs: the client side of the TLS layer.
struct BridgeTlsConfig {
  std::string ca_file;      // PEM CAs that sign the server (required unless verify: false)
  std::string cert_file;    // PEM client certificate chain (optional, with key_file)
  std::string key_file;
  std::string server_name;  // checked against the server certificate; "" = the URI host
  bool verify = net::TlsSettings{}.verify_peer;  // false: accept any server certificate (tests only)
  bool operator==(const BridgeTlsConfig&) const = default;
};
struct BridgeConfig {
  std::string name;
  std::vector<amqp::AmqpUri> upstreams;  // `uris`, parsed once here: failover order
  bool tls = false;               // the uris are amqps:// (all of them)
  BridgeTlsConfig tls_options;
  std::string node_id;            // "" = host name + store path
  std::uint16_t heartbeat = amqp::BridgeOptions{}.heartbeat_s;
  std::uint16_t prefetch = amqp::BridgeOptions{}.prefetch;
  std::uint16_t max_unconfirmed = amqp::BridgeOptions{}.max_unconfirmed;
  std::uint32_t outbox_max_messages = amqp::BridgeOptions{}.outbox_max;
  bool outbox_drop_oldest = amqp::BridgeOptions{}.outbox_drop_oldest;
  bool dedup = amqp::BridgeOptions{}.dedup;  // inbound: de-duplicate by AMQP message-id
  std::uint32_t min_backoff_ms = net::ConnectorSpec{}.min_backoff_ms;
  std::uint32_t max_backoff_ms = net::ConnectorSpec{}.max_backoff_ms;
  std::vector<BridgeOutboundConfig> outbound;
  std::vector<BridgeInboundConfig> inbound;
  bool operator==(const BridgeConfig&) const = default;
};

// Delayed delivery ($delayed/<seconds>/<topic>, x-delay; README "Delayed delivery").
struct DelaysConfig {
  bool enabled = core::BrokerConfig{}.delays_enabled;
  std::uint32_t max_delay_s = core::BrokerConfig{}.max_delay_s;  // longer delays are refused

  bool operator==(const DelaysConfig&) const = default;
};

// No black holes (README "Unroutable and dropped messages").
struct UnroutableRule {
  std::string pattern;  // glob on the topic ('*' any run, '?' one character)
  std::string to;       // "$queue/<name>" or a topic
  bool operator==(const UnroutableRule&) const = default;
};
struct UnroutableConfig {
  std::string to;  // default destination of a message that matched nothing; "": none
  std::vector<UnroutableRule> rules;  // first match wins over `to`
  bool trace_drops = core::BrokerConfig{}.trace_drops;

  bool operator==(const UnroutableConfig&) const = default;
};

// $share groups (README "Shared subscriptions"): how a member is picked.
struct SharedSubscriptionsConfig {
  core::SharedStrategy strategy = core::BrokerConfig{}.shared_strategy;

  bool operator==(const SharedSubscriptionsConfig&) const = default;
};
const char* shared_strategy_name(core::SharedStrategy s);

// Duplicate detection (x-dedup-id; README "Duplicate detection").
struct DedupConfig {
  bool enabled = core::BrokerConfig{}.dedup_enabled;
  std::uint32_t window_s = core::BrokerConfig{}.dedup_window_s;
  std::uint32_t max_ids = core::BrokerConfig{}.dedup_max_ids;

  bool operator==(const DedupConfig&) const = default;
};

// The admin listeners (protocol: http): the API, /metrics and the dashboard
// (README "Operations").
struct HttpConfig {
  // With a password file, only these users may use the API (HTTP Basic).
  std::vector<std::string> admin_users;
  bool public_metrics = false;  // /metrics without credentials
  std::uint32_t max_head_bytes = http::HttpLimits{}.max_head_bytes;
  std::uint32_t max_body_bytes = http::HttpLimits{}.max_body_bytes;
  std::uint32_t max_headers = http::HttpLimits{}.max_headers;
  std::uint32_t request_timeout_ms = http::HttpOptions{}.request_timeout_ms;
  std::uint32_t idle_timeout_ms = http::HttpOptions{}.idle_timeout_ms;
  std::uint32_t metrics_max_queues = 100;  // per-queue series at most (label cardinality); the rest summed

  bool operator==(const HttpConfig&) const = default;
};

// The $SYS/broker/... statistics tree (README "$SYS").
struct SysConfig {
  std::uint32_t interval_s = 10;  // seconds between updates (Mosquitto's sys_interval); 0: no $SYS tree at all

  bool operator==(const SysConfig&) const = default;
};

struct LogConfig {
  log::Level level = log::Level::info;

  bool operator==(const LogConfig&) const = default;
};

// plugins[]: one member of the plugin chain, in config order. Either a
// shared object (`path`) with its options, or a built-in member placed
// explicitly (`builtin: password_file | acl_file`; unplaced built-ins go
// first).
struct PluginConfig {
  std::string path;
  std::string builtin;                                       // "" for a plugin
  std::vector<std::pair<std::string, std::string>> options;  // scalars as written
  int line = 0;

  bool operator==(const PluginConfig&) const = default;
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
  HttpConfig http;
  DelaysConfig delays;
  DedupConfig dedup;
  SharedSubscriptionsConfig shared_subscriptions;
  UnroutableConfig unroutable;
  std::vector<PluginConfig> plugins;
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
