// Config loading: the embedded default, every class of error (with file,
// 1-based line and key in the message), and the allow_anonymous rule.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

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
  REQUIRE(c.listeners.size() == 2);
  CHECK(c.listeners[1].protocol == "stomp");
  CHECK(c.listeners[1].port == 61613);
  CHECK(c.stomp == junction::StompConfig{});
  CHECK(c.queues.empty());
  const auto& l = c.listeners[0];
  CHECK(l.protocol == "mqtt");
  CHECK(l.transport == "tcp");
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
limits: {max_queued_messages: 7, max_packet_size: 2048, max_keepalive: 30, max_inflight: 5,
         receive_maximum: 6, topic_alias_maximum: 0, outbound_buffer: 65536, max_session_expiry: 0}
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
  CHECK(c.limits.max_packet_size == 2048);
  CHECK(c.limits.max_keepalive == 30);
  CHECK(c.limits.topic_alias_maximum == 0);
  CHECK(c.limits.outbound_buffer == 65536);
  CHECK(c.limits.max_session_expiry == 0);
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
          "test.yaml:3: key 'colour': unknown key (expected one of: listeners, store, limits, queues, stomp, bridges, log)");
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
          "test.yaml:2: key 'listeners[0].protocol': unknown protocol 'amqp' (expected mqtt or stomp)");
    CHECK(error_of(std::string(kMinimal) + "queues:\n  - {pattern: 'a*', overflow: spill}\n") ==
          "test.yaml:4: key 'queues[0].overflow': must be reject-publish or drop-head (got 'spill')");
    CHECK(error_of(std::string(kMinimal) + "queues:\n  - {max_length: 3}\n") ==
          "test.yaml:4: key 'queues[0].pattern': required key missing");
    CHECK(error_of(std::string(kMinimal) + "stomp: {heart_beat: 5}\n") ==
          "test.yaml:3: key 'stomp.heart_beat': unknown key (expected one of: heart_beat_ms, prefetch, "
          "max_frame_size, max_headers, max_header_line)");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: ws, port: 8080}\n") ==
          "test.yaml:2: key 'listeners[0].transport': transport 'ws' is not available yet");
    CHECK(error_of("listeners:\n  - {protocol: mqtt, transport: tcp, port: 1, path: /mqtt}\n") ==
          "test.yaml:2: key 'listeners[0].path': only valid with transport ws");
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
  CHECK(q->drop_head);
  CHECK(q->max_deliveries == 3);
  CHECK(q->dead_letter == "bad");
  CHECK(q->ttl_ms == 500);
  CHECK(match_queue_config(c.queues, "other")->max_length == 0);
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("a*b", "ac"));
  CHECK(glob_match("*", ""));
  CHECK(c.listeners[0].protocol == "stomp");
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
  CHECK(b.uris.size() == 2);
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
        "test.yaml:5: key 'bridges[0].uris[0]': expected an amqp:// URI");
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uris: [\"amqps://h\"]\n"),
             Contains("not supported"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - name: x\n    uri: [\"amqp://h\"]\n"),
             StartsWith("test.yaml:5: key 'bridges[0].uri': unknown key"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {name: x, uris: [\"amqp://h\"], outbox: {overflow: drop}}\n"),
             StartsWith("test.yaml:4: key 'bridges[0].outbox.overflow': must be reject or drop-oldest"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {name: x, uris: [\"amqp://h\"], inbound: [{topic_prefix: a}]}\n"),
             Contains("key 'bridges[0].inbound[0]': needs a queue"));
  CHECK_THAT(error_of(std::string(kMinimal) + "bridges:\n  - {uris: [\"amqp://h\"]}\n"),
             Contains("key 'bridges[0].name': required key missing"));
}
