// Config loading: the embedded default, every class of error (with file,
// 1-based line and key in the message), and the allow_anonymous rule.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config.h"

using junction::Config;
using junction::ConfigError;
using junction::parse_config;
using junction::QueueConfig;
using junction::glob_match;
using junction::match_queue_config;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// The error message for `yaml`, or "" when it parses.
std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* const kMinimal = "listeners:\n  - {protocol: mqtt, port: 1883}\n";

}  // namespace

TEST_CASE("the embedded default configuration parses", "[config]") {
  Config c = junction::default_config();
  CHECK(c.source == "<default>");
  REQUIRE(c.listeners.size() == 5);
  CHECK(c.listeners[1].protocol == junction::Protocol::Stomp);
  // The operator's side on loopback: the admin API, /metrics, the dashboard.
  CHECK(c.listeners[4].protocol == junction::Protocol::Http);
  CHECK(c.listeners[4].bind == "127.0.0.1");
  CHECK(c.listeners[4].port == 8081);
  CHECK(c.http == junction::HttpConfig{});
  CHECK(c.listeners[1].port == 61613);
  // The embedded default: browsers get MQTT and STOMP over WebSocket on one port.
  CHECK(c.listeners[2].transport == junction::Transport::Ws);
  CHECK(c.listeners[2].path == "/mqtt");
  CHECK(c.listeners[3].protocol == junction::Protocol::Stomp);
  CHECK(c.listeners[3].path == "/stomp");
  CHECK(junction::listener_groups(c.listeners) == std::vector<std::vector<std::size_t>>{{0}, {1}, {2, 3}, {4}});
  CHECK(c.stomp == junction::StompConfig{});
  CHECK(c.queues.empty());
  const auto& l = c.listeners[0];
  CHECK(l.protocol == junction::Protocol::Mqtt);
  CHECK(l.transport == junction::Transport::Tcp);
  CHECK(l.bind == "127.0.0.1");
  CHECK(l.port == 1883);
  CHECK(l.allow_anonymous);
  CHECK(c.store.path == "./junction-data");
  CHECK(c.store.durability == junction::Durability::Batch);
  CHECK(c.store.sync_interval_ms == 1000);
  CHECK(c.store.map_size_mb == 64);
  CHECK(c.store.max_map_size_mb == 0);
  CHECK(c.limits == junction::LimitsConfig{});  // the file states the built-in defaults
  CHECK(c.log.level == junction::log::Level::info);
  CHECK_THAT(std::string(junction::default_config_text()), Contains("max_session_expiry: 4294967295"));
}

TEST_CASE("a minimal file gets the defaults", "[config]") {
  Config c = parse_config(kMinimal, "min.yaml");
  CHECK(c.store == junction::StoreConfig{});
  CHECK(c.limits == junction::LimitsConfig{});
  CHECK(c.listeners[0].bind == "127.0.0.1");
  CHECK(c.listeners[0].line == 2);
}

TEST_CASE("every key can be set", "[config]") {
  Config c = parse_config(R"(
listeners:
  - protocol: mqtt
    transport: tcp
    bind: "::1"
    port: 0
    name: local
    max_connections: 10
    allow_anonymous: false
store: {path: /tmp/x, durability: sync, sync_interval_ms: 5, map_size_mb: 8, max_map_size_mb: 16}
limits: {max_queued_messages: 7, max_queued_bytes: 5000000000, max_packet_size: 2048, max_keepalive: 30, max_inflight: 5,
         receive_maximum: 6, topic_alias_maximum: 0, outbound_buffer: 65536, max_session_expiry: 0,
         max_connections: 500, max_connect_rate: 50, max_publish_rate: 20}
log: {level: debug}
)",
                          "all.yaml");
  const auto& l = c.listeners[0];
  CHECK(l.bind == "::1");
  CHECK(l.port == 0);
  CHECK(l.name == "local");
  CHECK(l.max_connections == 10);
  CHECK_FALSE(l.allow_anonymous);
  CHECK(c.store.durability == junction::Durability::Sync);
  CHECK(c.store.max_map_size_mb == 16);
  CHECK(c.limits.max_queued_messages == 7);
  CHECK(c.limits.max_queued_bytes == 5000000000u);  // wider than 32 bits
  CHECK(c.limits.max_packet_size == 2048);
  CHECK(c.limits.max_keepalive == 30);
  CHECK(c.limits.topic_alias_maximum == 0);
  CHECK(c.limits.outbound_buffer == 65536);
  CHECK(c.limits.max_session_expiry == 0);
  CHECK(c.limits.max_connections == 500);
  CHECK(c.limits.max_connect_rate == 50);
  CHECK(c.limits.max_publish_rate == 20);
  CHECK(c.log.level == junction::log::Level::debug);
}

TEST_CASE("allow_anonymous defaults to true only on loopback binds", "[config]") {
  auto anon = [](const std::string& bind) {
    return parse_config("listeners:\n  - {protocol: mqtt, port: 1, bind: '" + bind + "'}\n", "t.yaml")
        .listeners[0]
        .allow_anonymous;
  };
  CHECK(anon("127.0.0.1"));
  CHECK(anon("127.1.2.3"));
  CHECK(anon("::1"));
  CHECK(anon("::ffff:127.0.0.1"));
  CHECK_FALSE(anon("0.0.0.0"));
  CHECK_FALSE(anon("::"));
  CHECK_FALSE(anon("192.168.1.10"));
  CHECK_FALSE(anon("::ffff:10.0.0.1"));
  // An explicit value wins either way.
  CHECK(parse_config("listeners:\n  - {protocol: mqtt, port: 1, bind: 0.0.0.0, allow_anonymous: true}\n", "t")
            .listeners[0]
            .allow_anonymous);
}

TEST_CASE("errors name the file, the line and the key", "[config]") {
  SECTION("unknown top-level key") {
    CHECK(error_of(std::string(kMinimal) + "colour: blue\n") ==
          "test.yaml:3: key 'colour': unknown key (expected one of: listeners, store, limits, queues, stomp, auth, xmpp, bridges, sys, delays, shared_subscriptions, unroutable, dedup, http, plugins, log)");
  }
  SECTION("unknown listener key") {
    CHECK_THAT(error_of("listeners:\n  - protocol: mqtt\n    port: 1883\n    prot: 1\n"),
               StartsWith("test.yaml:4: key 'listeners[0].prot': unknown key"));
  }
  SECTION("unknown key in a section") {
    CHECK_THAT(error_of(std::string(kMinimal) + "store:\n  durabilty: sync\n"),
               StartsWith("test.yaml:4: key 'store.durabilty': unknown key"));
  }
  SECTION("port as a string") {
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: \"1883\"}\n") ==
          "test.yaml:2: key 'listeners[0].port': expected an integer, got a string");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: abc}\n") ==
          "test.yaml:2: key 'listeners[0].port': expected an integer, got 'abc'");
  }
  SECTION("port out of range") {
    CHECK(error_of("listeners:\n\n  - protocol: mqtt\n    port: 70000\n") ==
          "test.yaml:4: key 'listeners[0].port': must be between 0 and 65535, got 70000");
    CHECK_THAT(error_of("listeners:\n  - {protocol: mqtt, port: -1}\n"),
               Contains("must be between 0 and 65535, got -1"));
  }
  SECTION("bad durability") {
    CHECK(error_of(std::string(kMinimal) + "store:\n  path: x\n  durability: fast\n") ==
          "test.yaml:5: key 'store.durability': must be one of sync, batch, memory (got 'fast')");
  }
  SECTION("missing port") {
    CHECK(error_of("listeners:\n  - {protocol: mqtt}\n  - {protocol: mqtt, bind: 0.0.0.0}\n") ==
          "test.yaml:2: key 'listeners[0].port': required key missing");
  }
  SECTION("missing listeners") {
    CHECK(error_of("log: {level: info}\n") == "test.yaml:1: key 'listeners': required key missing");
    CHECK_THAT(error_of(""), StartsWith("test.yaml:1: key 'listeners': required key missing"));
    CHECK(error_of("listeners: []\n") == "test.yaml:1: key 'listeners': at least one listener is required");
  }
  SECTION("YAML syntax error") {
    CHECK_THAT(error_of("listeners:\n  - {protocol: mqtt, port: 1883\nstore: {}\n"),
               StartsWith("test.yaml:3: YAML syntax error:"));
  }
  SECTION("duplicate listener") {
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: 1883}\n  - {protocol: mqtt, bind: 127.0.0.1, port: 1883}\n") ==
          "test.yaml:3: key 'listeners[1]': duplicate listener 127.0.0.1:1883 (overlaps listeners[0] at line 2)");
    // A wildcard bind overlaps the loopback one; port 0 never collides.
    CHECK_THAT(error_of("listeners:\n  - {protocol: mqtt, port: 1883}\n  - {protocol: mqtt, bind: 0.0.0.0, port: 1883}\n"),
               StartsWith("test.yaml:3: key 'listeners[1]': duplicate listener"));
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: 0}\n  - {protocol: mqtt, port: 0}\n").empty());
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: 1883}\n  - {protocol: mqtt, bind: '::1', port: 1883}\n").empty());
  }
  SECTION("duplicate key") {
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: 1, port: 2}\n") ==
          "test.yaml:2: key 'listeners[0].port': duplicate key");
  }
  SECTION("wrong types") {
    CHECK(error_of("listeners: {protocol: mqtt}\n") == "test.yaml:1: key 'listeners': expected a list, got a map");
    CHECK(error_of(std::string(kMinimal) + "store: memory\n") == "test.yaml:3: key 'store': expected a map, got 'memory'");
    CHECK(error_of(std::string(kMinimal) + "limits:\n  max_inflight:\n") ==
          "test.yaml:4: key 'limits.max_inflight': expected an integer, got nothing");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: 1, allow_anonymous: 'yes'}\n") ==
          "test.yaml:2: key 'listeners[0].allow_anonymous': expected true or false, got a string");
  }
  SECTION("bad values") {
    CHECK(error_of("listeners:\n  - {protocol: amqp, port: 5672}\n") ==
          "test.yaml:2: key 'listeners[0].protocol': unknown protocol 'amqp' (expected mqtt, stomp or http)");
    CHECK(error_of(std::string(kMinimal) + "queues:\n  - {pattern: 'a*', overflow: spill}\n") ==
          "test.yaml:4: key 'queues[0].overflow': must be reject-publish or drop-head (got 'spill')");
    CHECK(error_of(std::string(kMinimal) + "queues:\n  - {max_length: 3}\n") ==
          "test.yaml:4: key 'queues[0].pattern': required key missing");
    CHECK(error_of(std::string(kMinimal) + "stomp: {heart_beat: 5}\n") ==
          "test.yaml:3: key 'stomp.heart_beat': unknown key (expected one of: heart_beat_ms, prefetch, "
          "max_frame_size, max_headers, max_header_line)");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: quic, port: 8080}\n") ==
          "test.yaml:2: key 'listeners[0].transport': unknown transport 'quic' (expected tcp, tls, ws or wss)");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tcp, port: 1, path: /mqtt}\n") ==
          "test.yaml:2: key 'listeners[0].path': only valid with transport ws or wss");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, bind: localhost, port: 1}\n") ==
          "test.yaml:2: key 'listeners[0].bind': 'localhost' is not an IPv4 or IPv6 address literal");
    CHECK(error_of(std::string(kMinimal) + "log: {level: loud}\n") ==
          "test.yaml:3: key 'log.level': must be one of error, warning, notice, info, debug (got 'loud')");
    CHECK(error_of(std::string(kMinimal) + "store: {map_size_mb: 64, max_map_size_mb: 32}\n") ==
          "test.yaml:3: key 'store.max_map_size_mb': must be 0 (no limit) or at least map_size_mb (64)");
    CHECK_THAT(error_of(std::string(kMinimal) + "limits: {max_packet_size: 10}\n"),
               Contains("key 'limits.max_packet_size': must be between 64 and 268435460, got 10"));
    CHECK_THAT(error_of(std::string(kMinimal) + "limits: {max_session_expiry: 4294967296}\n"),
               Contains("must be between 0 and 4294967295, got 4294967296"));
  }
}

TEST_CASE("load_config reads a file and names it", "[config]") {
  char path[] = "/tmp/junction-config-test-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream out(path);
    out << "# comment\nlisteners:\n  - {protocol: mqtt, port: 99999}\n";
  }
  try {
    junction::load_config(path);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == std::string(path) + ":3: key 'listeners[0].port': must be between 0 and 65535, got 99999");
  }
  {
    std::ofstream out(path);
    out << kMinimal;
  }
  CHECK(junction::load_config(path).source == path);
  std::remove(path);
  CHECK_THROWS_WITH(junction::load_config(path), StartsWith(std::string(path) + ": cannot open"));
}

TEST_CASE("queue policies: parsed, first matching pattern wins", "[config]") {
  Config c = parse_config(
      "listeners:\n  - {protocol: stomp, port: 61613}\n"
      "queues:\n"
      "  - {pattern: 'orders.*', max_length: 10, overflow: drop-head, max_deliveries: 3, dead_letter: bad, ttl_ms: 500}\n"
      "  - {pattern: '*', max_length: 0}\n",
      "q.yaml");
  REQUIRE(c.queues.size() == 2);
  const QueueConfig* q = match_queue_config(c.queues, "orders.eu");
  REQUIRE(q != nullptr);
  CHECK(q->max_length == 10);
  CHECK(q->overflow == junction::core::Overflow::DropHead);
  CHECK(q->max_deliveries == 3);
  CHECK(q->dead_letter == "bad");
  CHECK(q->ttl_ms == 500);
  CHECK(match_queue_config(c.queues, "other")->max_length == 0);
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("a*b", "ac"));
  CHECK(glob_match("*", ""));
  CHECK(c.listeners[0].protocol == junction::Protocol::Stomp);
}

TEST_CASE("transport keys: tls, websocket, shared WebSocket ports", "[config]") {
  const std::string tls = "    tls: {cert_file: s.crt, key_file: s.key, ca_file: ca.crt, require_certificate: true,\n"
                          "          use_identity_as_username: true, ciphers: 'TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256',\n"
                          "          handshake_timeout_ms: 2000}\n";
  SECTION("a tls listener with every key") {
    Config c = parse_config("listeners:\n  - protocol: mqtt\n    transport: tls\n    port: 8883\n" + tls, "t.yaml");
    const auto& t = c.listeners[0].tls;
    CHECK(c.listeners[0].transport == junction::Transport::Tls);
    CHECK(t.cert_file == "s.crt");
    CHECK(t.key_file == "s.key");
    CHECK(t.ca_file == "ca.crt");
    CHECK(t.require_certificate);
    CHECK(t.use_identity_as_username);
    CHECK(t.ciphers == "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256");
    CHECK(t.handshake_timeout_ms == 2000);
  }
  SECTION("websocket options") {
    Config c = parse_config(
        "listeners:\n  - protocol: stomp\n    transport: ws\n    port: 80\n    path: /stomp\n"
        "    websocket: {allowed_origins: ['https://a.example', 'https://b.example'], max_request_size: 4096,\n"
        "                max_headers: 32, max_frame_size: 65536, handshake_timeout_ms: 3000}\n",
        "t.yaml");
    const auto& w = c.listeners[0].websocket;
    CHECK(w.allowed_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
    CHECK(w.max_request_size == 4096);
    CHECK(w.max_headers == 32);
    CHECK(w.max_frame_size == 65536);
    CHECK(w.handshake_timeout_ms == 3000);
    CHECK(c.listeners[0].path == "/stomp");
  }
  SECTION("one port, two paths: one group") {
    Config c = parse_config(
        "listeners:\n  - {protocol: mqtt, transport: ws, port: 8080, path: /mqtt}\n"
        "  - {protocol: mqtt, port: 1883}\n"
        "  - {protocol: stomp, transport: ws, port: 8080, path: /stomp}\n",
        "t.yaml");
    CHECK(junction::listener_groups(c.listeners) == std::vector<std::vector<std::size_t>>{{0, 2}, {1}});
  }
  SECTION("cross-checks") {
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tls, port: 8883}\n") ==
          "test.yaml:2: key 'listeners[0].tls': transport tls needs a tls block with cert_file and key_file");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: wss, port: 1, tls: {key_file: k}}\n") ==
          "test.yaml:2: key 'listeners[0].tls.cert_file': required key missing");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tls, port: 1, tls: {cert_file: c}}\n") ==
          "test.yaml:2: key 'listeners[0].tls.key_file': required key missing");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, port: 1, tls: {cert_file: c, key_file: k}}\n") ==
          "test.yaml:2: key 'listeners[0].tls': only valid with transport tls or wss");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tls, port: 1,\n"
                   "     tls: {cert_file: c, key_file: k, require_certificate: true}}\n") ==
          "test.yaml:3: key 'listeners[0].tls.require_certificate': needs ca_file (the CA that signs client certificates)");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tls, port: 1,\n"
                   "     tls: {cert_file: c, key_file: k, ca_file: a, use_identity_as_username: true}}\n") ==
          "test.yaml:3: key 'listeners[0].tls.use_identity_as_username': needs require_certificate: true");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tls, port: 1, websocket: {}, tls: {cert_file: c, key_file: k}}\n") ==
          "test.yaml:2: key 'listeners[0].websocket': only valid with transport ws or wss");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: ws, port: 1, path: mqtt}\n") ==
          "test.yaml:2: key 'listeners[0].path': must start with '/'");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: ws, port: 1, websocket: {allowed_origins: x}}\n") ==
          "test.yaml:2: key 'listeners[0].websocket.allowed_origins': expected a list, got 'x'");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: ws, port: 8080, path: /a}\n"
                   "  - {protocol: stomp, transport: ws, port: 8080, path: /a}\n") ==
          "test.yaml:3: key 'listeners[1].path': path '/a' already served on this port by listeners[0]");
    CHECK_THAT(error_of("listeners:\n  - {protocol: mqtt, transport: ws, port: 8080, path: /a}\n"
                        "  - {protocol: stomp, transport: ws, port: 8080, path: /b, websocket: {max_headers: 8}}\n"),
               Contains("its tls, websocket and max_connections must be the same"));
    CHECK_THAT(error_of("listeners:\n  - {protocol: mqtt, transport: ws, port: 8080, path: /a}\n"
                        "  - {protocol: stomp, port: 8080}\n"),
               Contains("duplicate listener 127.0.0.1:8080"));
  }
}

TEST_CASE("auth section: defaults, values and errors", "[config]") {
  const Config d = parse_config(kMinimal, "t.yaml");
  CHECK(d.auth.password_file.empty());
  CHECK(d.auth.acl_file.empty());
  CHECK_FALSE(d.auth.disconnect_on_denied_publish_v3);
  CHECK(junction::default_config().auth == junction::AuthConfig{});
  const Config c = parse_config(std::string(kMinimal) +
                                    "auth:\n  password_file: /etc/pw\n  acl_file: acl.txt\n  deny_publish_v3: disconnect\n",
                                "t.yaml");
  CHECK(c.auth.password_file == "/etc/pw");
  CHECK(c.auth.acl_file == "acl.txt");
  CHECK(c.auth.disconnect_on_denied_publish_v3);
  CHECK(error_of(std::string(kMinimal) + "auth:\n  deny_publish_v3: maybe\n") ==
        "test.yaml:4: key 'auth.deny_publish_v3': must be drop or disconnect (got 'maybe')");
  CHECK_THAT(error_of(std::string(kMinimal) + "auth:\n  passwd_file: x\n"),
             StartsWith("test.yaml:4: key 'auth.passwd_file': unknown key"));
  CHECK_THAT(error_of(std::string(kMinimal) + "auth:\n  acl_file: [a]\n"),
             StartsWith("test.yaml:4: key 'auth.acl_file': expected a string"));
}

TEST_CASE("delays section: default, values and errors", "[config][delays]") {
  const junction::DelaysConfig d = parse_config(kMinimal, "t.yaml").delays;
  CHECK(d.enabled);                            // on by default (issue contract)
  CHECK(d.max_delay_s == 30u * 24 * 3600);     // 30 days
  CHECK(junction::default_config().delays == junction::DelaysConfig{});  // the file states the default
  const junction::DelaysConfig set =
      parse_config(std::string(kMinimal) + "delays:\n  enabled: false\n  max_delay_s: 60\n", "t.yaml").delays;
  CHECK_FALSE(set.enabled);
  CHECK(set.max_delay_s == 60);
  CHECK(error_of(std::string(kMinimal) + "delays:\n  max_delay_s: 0\n") ==
        "test.yaml:4: key 'delays.max_delay_s': must be between 1 and 4294967295, got 0");
  CHECK_THAT(error_of(std::string(kMinimal) + "delays:\n  enable: true\n"),
             StartsWith("test.yaml:4: key 'delays.enable': unknown key"));
}

TEST_CASE("shared_subscriptions.strategy and single_active_consumer", "[config]") {
  CHECK(parse_config(kMinimal, "t.yaml").shared_subscriptions.strategy == junction::core::SharedStrategy::RoundRobin);
  CHECK(junction::default_config().shared_subscriptions == junction::SharedSubscriptionsConfig{});
  CHECK(parse_config(std::string(kMinimal) + "shared_subscriptions: {strategy: hash_topic}\n", "t.yaml")
            .shared_subscriptions.strategy == junction::core::SharedStrategy::HashTopic);
  CHECK_THAT(error_of(std::string(kMinimal) + "shared_subscriptions: {strategy: fastest}\n"),
             StartsWith("test.yaml:3: key 'shared_subscriptions.strategy'"));
  const junction::Config q =
      parse_config(std::string(kMinimal) + "queues:\n  - {pattern: \"jobs\", single_active_consumer: true}\n", "t.yaml");
  REQUIRE(q.queues.size() == 1);
  CHECK(q.queues[0].single_active_consumer);
  const junction::Config b = parse_config(std::string(kMinimal) +
                                              "queues:\n  - {pattern: \"jobs\", redelivery_delay_ms: 500, "
                                              "redelivery_multiplier: 1.5, max_redelivery_delay_ms: 8000}\n",
                                          "t.yaml");
  REQUIRE(b.queues.size() == 1);
  CHECK(b.queues[0].redelivery_delay_ms == 500);
  CHECK(b.queues[0].redelivery_multiplier == 1.5);
  CHECK(b.queues[0].max_redelivery_delay_ms == 8000);
  CHECK_THAT(error_of(std::string(kMinimal) + "queues:\n  - {pattern: \"j\", redelivery_multiplier: 0.5}\n"),
             Contains("must be between 1 and 100, got 0.5"));
  CHECK_THAT(error_of(std::string(kMinimal) + "queues:\n  - {pattern: \"j\", redelivery_multiplier: fast}\n"),
             Contains("expected a number, got 'fast'"));
}

TEST_CASE("sys section: default, values and errors", "[config][sys]") {
  CHECK(parse_config(kMinimal, "t.yaml").sys.interval_s == 10);  // Mosquitto's sys_interval default
  CHECK(junction::default_config().sys == junction::SysConfig{});  // the file states the default
  CHECK(parse_config(std::string(kMinimal) + "sys:\n  interval_s: 1\n", "t.yaml").sys.interval_s == 1);
  CHECK(parse_config(std::string(kMinimal) + "sys: {interval_s: 0}\n", "t.yaml").sys.interval_s == 0);
  CHECK(parse_config(std::string(kMinimal) + "sys: {interval_s: 86400}\n", "t.yaml").sys.interval_s == 86400);
  CHECK(error_of(std::string(kMinimal) + "sys:\n  interval_s: -1\n") ==
        "test.yaml:4: key 'sys.interval_s': must be between 0 and 86400, got -1");
  CHECK(error_of(std::string(kMinimal) + "sys:\n  interval_s: 86401\n") ==
        "test.yaml:4: key 'sys.interval_s': must be between 0 and 86400, got 86401");
  CHECK(error_of(std::string(kMinimal) + "sys:\n  interval_s: ten\n") ==
        "test.yaml:4: key 'sys.interval_s': expected an integer, got 'ten'");
  CHECK(error_of(std::string(kMinimal) + "sys:\n  interval_s: \"10\"\n") ==
        "test.yaml:4: key 'sys.interval_s': expected an integer, got a string");
  CHECK(error_of(std::string(kMinimal) + "sys: 10\n") == "test.yaml:3: key 'sys': expected a map, got '10'");
  CHECK(error_of(std::string(kMinimal) + "sys:\n  interval: 5\n") ==
        "test.yaml:4: key 'sys.interval': unknown key (expected one of: interval_s)");
}

TEST_CASE("xmpp bridge block", "[config][xmpp]") {
  SECTION("disabled by default") {
    const Config c = parse_config(kMinimal, "test.yaml");
    CHECK_FALSE(c.xmpp.enabled);
    CHECK(c.xmpp.scope == std::vector<std::string>{"#"});
    CHECK_FALSE(junction::default_config().xmpp.enabled);
  }
  SECTION("every key") {
    const Config c = parse_config(std::string(kMinimal) +
                                      "xmpp:\n  enabled: true\n  host: xmpp.example\n  port: 5348\n"
                                      "  component: gw.example\n  secret: s\n  scope: [\"a/#\", \"b/+/c\"]\n"
                                      "  qos: 1\n  retain_pubsub: false\n  offline_limit: 10\n  max_stanza_size: 4096\n",
                                  "test.yaml");
    CHECK(c.xmpp.enabled);
    CHECK(c.xmpp.host == "xmpp.example");
    CHECK(c.xmpp.port == 5348);
    CHECK(c.xmpp.component == "gw.example");
    CHECK(c.xmpp.secret == "s");
    CHECK(c.xmpp.scope == std::vector<std::string>{"a/#", "b/+/c"});
    CHECK(c.xmpp.qos == 1);
    CHECK_FALSE(c.xmpp.retain_pubsub);
    CHECK(c.xmpp.offline_limit == 10);
    CHECK(c.xmpp.max_stanza_size == 4096);
  }
  SECTION("errors name file, line and key") {
    CHECK(error_of(std::string(kMinimal) + "xmpp:\n  enabled: true\n  secret: s\n") ==
          "test.yaml:3: key 'xmpp.component': required when the bridge is enabled");
    CHECK(error_of(std::string(kMinimal) + "xmpp:\n  enabled: true\n  component: gw\n") ==
          "test.yaml:3: key 'xmpp.secret': required when the bridge is enabled (or secret_file)");
    CHECK(error_of(std::string(kMinimal) + "xmpp:\n  scope: [\"a/#/b\"]\n") ==
          "test.yaml:4: key 'xmpp.scope[0]': not a topic filter");
    CHECK_THAT(error_of(std::string(kMinimal) + "xmpp:\n  qos: 3\n"),
               StartsWith("test.yaml:4: key 'xmpp.qos': must be between 0 and 2"));
    CHECK_THAT(error_of(std::string(kMinimal) + "xmpp:\n  secret_file: /nonexistent/secret\n"),
               StartsWith("test.yaml:4: key 'xmpp.secret_file': cannot open /nonexistent/secret"));
    CHECK_THAT(error_of(std::string(kMinimal) + "xmpp:\n  sekret: x\n"),
               StartsWith("test.yaml:4: key 'xmpp.sekret': unknown key"));
  }
  SECTION("secret_file") {
    char path[] = "/tmp/junction-xmpp-secret-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    {
      std::ofstream out(path);
      out << "from-a-file\n";
    }
    const Config c = parse_config(std::string(kMinimal) + "xmpp:\n  enabled: true\n  component: gw\n  secret_file: " +
                                      path + "\n",
                                  "test.yaml");
    CHECK(c.xmpp.secret == "from-a-file");
    std::remove(path);
  }
}

TEST_CASE("bridges: parsed with defaults; errors name file, line and key", "[config][bridges]") {
  const std::string y = std::string(kMinimal) +
                        "bridges:\n"
                        "  - name: up\n"
                        "    uris: [\"amqp://u:p@h1:5673/v\", \"amqp://h2\"]\n"
                        "    outbox: {max_messages: 10, overflow: drop-oldest}\n"
                        "    outbound:\n"
                        "      - {filter: \"a/#\", exchange: ex}\n"
                        "    inbound:\n"
                        "      - {exchange: ex, binding_key: \"c.#\", topic_prefix: \"up/\", qos: 0}\n";
  const Config c = parse_config(y, "test.yaml");
  REQUIRE(c.bridges.size() == 1);
  const auto& b = c.bridges[0];
  CHECK(b.name == "up");
  REQUIRE(b.upstreams.size() == 2);
  CHECK((b.upstreams[0].host == "h1" && b.upstreams[0].port == 5673 && b.upstreams[0].vhost == "v"));
  CHECK((b.upstreams[1].host == "h2" && b.upstreams[1].port == 5672));
  CHECK(b.outbox_max_messages == 10);
  CHECK(b.outbox_drop_oldest);
  CHECK(b.heartbeat == 30);
  REQUIRE(b.outbound.size() == 1);
  CHECK(b.outbound[0].routing_key == "{topic}");
  CHECK(b.outbound[0].qos == 1);
  REQUIRE(b.inbound.size() == 1);
  CHECK(b.inbound[0].qos == 0);
  CHECK(b.inbound[0].topic_prefix == "up/");

  CHECK(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"http://h\"]\n") ==
        "test.yaml:5: key 'bridges[0].uris[0]': expected an amqp:// or amqps:// URI");
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqps://h\"]\n"),
             StartsWith("test.yaml:5: key 'bridges[0].tls': amqps:// needs a tls block"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqps://h\", \"amqp://g\"]\n"),
             StartsWith("test.yaml:5: key 'bridges[0].uris[1]': mixes amqp:// and amqps://"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqp://h\"]\n    tls: {ca_file: c}\n"),
             StartsWith("test.yaml:6: key 'bridges[0].tls': only valid with amqps:// URIs"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqps://h\"]\n    tls: {cert_file: c}\n"),
             Contains("key 'bridges[0].tls.ca_file': required to verify the server"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqps://h\"]\n    tls: {ca_file: a, cert_file: c}\n"),
             Contains("key 'bridges[0].tls.key_file': cert_file and key_file go together"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqps://h\"]\n    tls: {ca_file: a, sni: b}\n"),
             Contains("key 'bridges[0].tls.sni': unknown key"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uri: [\"amqp://h\"]\n"),
             StartsWith("test.yaml:5: key 'bridges[0].uri': unknown key"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {name: x, uris: [\"amqp://h\"], outbox: {overflow: drop}}\n"),
             StartsWith("test.yaml:4: key 'bridges[0].outbox.overflow': must be reject or drop-oldest"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {name: x, uris: [\"amqp://h\"], outbox: {overflow: drop-oldest}}\n"),
             StartsWith("test.yaml:4: key 'bridges[0].outbox.overflow': drop-oldest needs outbox.max_messages"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {name: x, uris: [\"amqp://h\"], inbound: [{topic_prefix: a}]}\n"),
             Contains("key 'bridges[0].inbound[0]': needs a queue"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {uris: [\"amqp://h\"]}\n"),
             Contains("key 'bridges[0].name': required key missing"));
}

TEST_CASE("bridges: amqps:// with a tls block", "[config][bridges]") {
  const Config c = parse_config(std::string(kMinimal) +
                                    "bridges:\n"
                                    "  - name: secure\n"
                                    "    uris: [\"amqps://u:p@rabbit.example\"]\n"
                                    "    tls: {ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem,\n"
                                    "          server_name: mq.example}\n"
                                    "  - name: lax\n"
                                    "    uris: [\"amqps://h\"]\n"
                                    "    tls: {verify: false}\n",
                                "test.yaml");
  REQUIRE(c.bridges.size() == 2);
  CHECK(c.bridges[0].tls);
  CHECK(c.bridges[0].tls_options.ca_file == "/etc/ca.pem");
  CHECK(c.bridges[0].tls_options.cert_file == "/etc/c.pem");
  CHECK(c.bridges[0].tls_options.key_file == "/etc/k.pem");
  CHECK(c.bridges[0].tls_options.server_name == "mq.example");
  CHECK(c.bridges[0].tls_options.verify);
  CHECK(c.bridges[1].tls);
  CHECK_FALSE(c.bridges[1].tls_options.verify);
  CHECK(c.bridges[1].tls_options.ca_file.empty());
  CHECK_FALSE(parse_config(std::string(kMinimal) + "bridges:\n  - {name: p, uris: [\"amqp://h\"]}\n", "t.yaml").bridges[0].tls);
}

TEST_CASE("http listeners: loopback only without a password file, never over WebSocket", "[config][http]") {
  CHECK(error_of("listeners:\n  - {protocol: http, port: 8081}\n").empty());
  CHECK(error_of("listeners:\n  - {protocol: http, bind: '::1', port: 8081}\n").empty());
  const std::string open = error_of("listeners:\n  - {protocol: http, bind: 0.0.0.0, port: 8081}\n");
  CHECK(open.find("test.yaml:1: key 'listeners[0]'") == 0);
  CHECK(open.find("http listener 0.0.0.0:8081 (line 2) is not on a loopback address") != std::string::npos);
  CHECK(error_of("listeners:\n  - {protocol: http, bind: 0.0.0.0, port: 8081}\n"
                 "auth: {password_file: /etc/junction/passwd}\n")
            .empty());
  CHECK(error_of("listeners:\n  - {protocol: http, transport: ws, port: 8081}\n") ==
        "test.yaml:2: key 'listeners[0].transport': an http listener is served over tcp or tls");
  CHECK(error_of(std::string(kMinimal) + "http: {admin_users: [admin]}\n") ==
        "test.yaml:3: key 'http.admin_users': needs auth.password_file (the users' passwords)");
  CHECK(error_of(std::string(kMinimal) + "http: {max_head_bytes: 10}\n").find("http.max_head_bytes") !=
        std::string::npos);
}

TEST_CASE("plugins: paths with options, built-ins placed, errors name file and line", "[config][plugins]") {
  const std::string yaml = std::string(kMinimal) +
                           "plugins:\n"
                           "  - builtin: password_file\n"
                           "  - path: /usr/lib/junction/plugins/token_auth.so\n"
                           "    options: {tokens: \"a:b:0\", max: 10, on: true}\n"
                           "  - {builtin: acl_file}\n";
  Config c = parse_config(yaml, "p.yaml");
  REQUIRE(c.plugins.size() == 3);
  CHECK(c.plugins[0].builtin == "password_file");
  CHECK(c.plugins[0].line == 4);
  CHECK(c.plugins[1].path == "/usr/lib/junction/plugins/token_auth.so");
  CHECK(c.plugins[1].line == 5);
  REQUIRE(c.plugins[1].options.size() == 3);
  CHECK(c.plugins[1].options[0] == std::pair<std::string, std::string>{"tokens", "a:b:0"});
  CHECK(c.plugins[1].options[1] == std::pair<std::string, std::string>{"max", "10"});
  CHECK(c.plugins[1].options[2] == std::pair<std::string, std::string>{"on", "true"});
  CHECK(c.plugins[2].builtin == "acl_file");

  CHECK(error_of(std::string(kMinimal) + "plugins:\n  - {options: {a: b}}\n") ==
        "test.yaml:4: key 'plugins[0].path': give either path or builtin");
  CHECK(error_of(std::string(kMinimal) + "plugins:\n  - {path: /x.so, builtin: acl_file}\n") ==
        "test.yaml:4: key 'plugins[0].path': give either path or builtin");
  CHECK(error_of(std::string(kMinimal) + "plugins:\n  - {builtin: passwords}\n").find(
            "test.yaml:4: key 'plugins[0].builtin'") == 0);
  CHECK(error_of(std::string(kMinimal) + "plugins:\n  - {path: /x.so, options: {a: [1, 2]}}\n") ==
        "test.yaml:4: key 'plugins[0].options.a': expected a string, number or boolean, not a list");
  CHECK(error_of(std::string(kMinimal) + "plugins:\n  - {builtin: acl_file, options: {a: b}}\n") ==
        "test.yaml:4: key 'plugins[0].options': built-in members take no options");
}
