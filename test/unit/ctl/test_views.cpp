// Views of the API's answers: the fields of the contract in their columns,
// lenient about missing and extra fields, list-shape checked; duration and
// size formats; the topic filter check of `retained --filter`.
#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "views.h"

using namespace junction::ctl;
using nlohmann::json;

TEST_CASE("format_duration and format_bytes", "[ctl][views]") {
  CHECK(format_duration(0.25) == "250ms");
  CHECK(format_duration(0) == "0ms");
  CHECK(format_duration(45) == "45s");
  CHECK(format_duration(125) == "2m 05s");
  CHECK(format_duration(3725) == "1h 02m");
  CHECK(format_duration(180000) == "2d 02h");
  CHECK(format_duration(-1) == "-");
  CHECK(format_duration(1e300) == "-");
  CHECK(format_duration(std::numeric_limits<double>::quiet_NaN()) == "-");
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(10 * 1024) == "10 KiB");
  CHECK(format_bytes(1073741824) == "1.0 GiB");
}

TEST_CASE("cell: strings, numbers, booleans, null and missing", "[ctl][views]") {
  const json o = {{"s", "x"}, {"n", 12}, {"f", 1.5}, {"b", true}, {"z", nullptr}, {"a", {1, 2}}};
  CHECK(cell(o, "s") == "x");
  CHECK(cell(o, "n") == "12");
  CHECK(cell(o, "f") == "1.5");
  CHECK(cell(o, "b") == "yes");
  CHECK(cell(o, "z") == "-");
  CHECK(cell(o, "missing") == "-");
  CHECK(cell(o, "a") == "[1,2]");
  CHECK(cell(json::array(), "s") == "-");
}

TEST_CASE("valid_topic_filter", "[ctl][views]") {
  CHECK(valid_topic_filter("a/+/c"));
  CHECK(valid_topic_filter("#"));
  CHECK(valid_topic_filter("a/#"));
  CHECK(valid_topic_filter("/"));
  CHECK(valid_topic_filter("$SYS/#"));
  CHECK_FALSE(valid_topic_filter(""));
  CHECK_FALSE(valid_topic_filter("a/#/c"));
  CHECK_FALSE(valid_topic_filter("a#"));
  CHECK_FALSE(valid_topic_filter("a/b+"));
}

TEST_CASE("render_status: pairs, listeners, counters in contract order", "[ctl][views]") {
  const json broker = json::parse(R"({
    "version": "0.1.0", "uptime_s": 3725, "node_id": "n1",
    "listeners": [{"name": "mqtt", "protocol": "mqtt", "transport": "tcp", "bind": "0.0.0.0", "port": 1883},
                  {"name": "admin", "protocol": "http", "transport": "tcp", "bind": "127.0.0.1", "port": 8081}],
    "store": {"path": "/var/lib/junction", "mode": "batch", "map_size": 1073741824, "used_bytes": 1536},
    "counters": {"queues": 2, "future_counter": 7, "messages_received": 10, "messages_delivered": 9,
                 "messages_dropped": 0, "connections": 3, "sessions": 4, "subscriptions": 5, "retained": 6}
  })");
  CHECK(render_status(broker) ==
        "version     0.1.0\n"
        "node        n1\n"
        "uptime      1h 02m\n"
        "store       /var/lib/junction\n"
        "store mode  batch\n"
        "store used  1.5 KiB of 1.0 GiB\n"
        "\n"
        "LISTENER  PROTOCOL  TRANSPORT  BIND       PORT\n"
        "mqtt      mqtt      tcp        0.0.0.0    1883\n"
        "admin     http      tcp        127.0.0.1  8081\n"
        "\n"
        "COUNTER             VALUE\n"
        "messages received      10\n"
        "messages delivered      9\n"
        "messages dropped        0\n"
        "connections             3\n"
        "sessions                4\n"
        "subscriptions           5\n"
        "retained                6\n"
        "queues                  2\n"
        "future counter          7\n");
  // An older or newer broker: what is missing shows as "-".
  CHECK(render_status(json::object()) == "version  -\nnode     -\nuptime   -\n");
}

TEST_CASE("render_clients: protocol with version, counts right-aligned", "[ctl][views]") {
  const json answer = json::parse(R"({"items": [
      {"client_id": "sensor-1", "protocol": "mqtt", "protocol_version": "5", "username": "alice",
       "peer": "127.0.0.1:50000", "connected_at": "2025-01-31T12:00:00Z", "subscriptions": 2, "queued": 0,
       "inflight": 1, "dropped": 0},
      {"client_id": "web", "protocol": "stomp", "protocol_version": "1.2", "username": null,
       "peer": "[::1]:40000", "connected_at": 1738324800000, "subscriptions": 10, "queued": 250,
       "inflight": 0, "dropped": 3},
      {"client_id": "gone", "protocol": "mqtt", "protocol_version": "3.1.1", "username": "bob", "connected": false,
       "peer": null, "connected_at": null, "subscriptions": 1, "queued": 7, "inflight": 0, "dropped": 0}],
    "total": 3})");
  CHECK(render_clients(answer) ==
        "CLIENT ID  PROTOCOL    USER   PEER             CONNECTED             SUBS  QUEUED  INFLIGHT  DROPPED\n"
        "sensor-1   mqtt 5      alice  127.0.0.1:50000  2025-01-31T12:00:00Z     2       0         1        0\n"
        "web        stomp 1.2   -      [::1]:40000      2025-01-31T12:00:00Z    10     250         0        3\n"
        "gone       mqtt 3.1.1  bob    -                offline                  1       7         0        0\n");
  CHECK(render_clients(json::parse(R"({"items": [], "total": 0})")) == "no clients\n");
  // Time stamps out of range are shown as sent.
  CHECK_THAT(render_clients(json::parse(R"({"items": [{"client_id": "x", "connected_at": 1e300}]})")),
             Catch::Contains("1e+300"));
  CHECK_THAT(render_clients(json::parse(R"({"items": [{"client_id": "x", "connected_at": -5}]})")),
             Catch::Contains("  -5  "));
  CHECK(render_clients(json::parse(R"({"clients": []})")).empty());  // not a list answer
  CHECK(list_items(json::parse(R"({"items": {}})")) == nullptr);
}

TEST_CASE("render_queues and render_bridges", "[ctl][views]") {
  const json queues = json::parse(R"({"items": [
      {"name": "orders", "messages": 3, "bytes": 2048, "consumers": 1, "unacked": 1, "oldest_age_ms": 125000,
       "dead_letter": "orders.dlq"},
      {"name": "orders.dlq", "messages": 0, "bytes": 0, "consumers": 0, "unacked": 0, "oldest_age_ms": null,
       "dead_letter": null}],
    "total": 5})");
  CHECK(render_queues(queues) ==
        "QUEUE       MESSAGES    BYTES  CONSUMERS  UNACKED  OLDEST  DEAD LETTER\n"
        "orders             3  2.0 KiB          1        1  2m 05s  orders.dlq\n"
        "orders.dlq         0      0 B          0        0       -  -\n"
        "showing 2 of 5 queues\n");

  const json bridges = json::parse(R"({"items": [
      {"name": "rabbit", "kind": "amqp", "state": "connected", "upstream": "amqp://mq:5672/", "outbox": 0,
       "confirms_pending": 2, "last_error": null, "since": "2025-01-31T12:00:00Z"}], "total": 1})");
  CHECK(render_bridges(bridges) ==
        "BRIDGE  KIND  STATE      UPSTREAM         OUTBOX  CONFIRMS  SINCE                 LAST ERROR\n"
        "rabbit  amqp  connected  amqp://mq:5672/       0         2  2025-01-31T12:00:00Z  -\n");
  CHECK(render_bridges(json::parse(R"({"items": [], "total": 0})")) == "no bridges\n");
}

TEST_CASE("render_retained: topic, qos, size", "[ctl][views]") {
  const json answer = json::parse(R"({"items": [
      {"topic": "sensors/1/temp", "qos": 1, "payload_size": 4, "created_at": "2025-01-31T12:00:00Z"},
      {"topic": "sensors/2/temp", "qos": 0, "payload_size": 5000}], "total": 2})");
  CHECK(render_retained(answer) ==
        "TOPIC           QOS     SIZE\n"
        "sensors/1/temp    1      4 B\n"
        "sensors/2/temp    0  4.9 KiB\n");
  CHECK(render_retained(json::parse(R"({"items": [], "total": 0})")) == "no retained messages\n");
}

TEST_CASE("one-line confirmations", "[ctl][views]") {
  CHECK(render_kick(json{{"disconnected", true}, {"session_removed", false}}, "c1") == "c1: disconnected\n");
  CHECK(render_kick(json{{"disconnected", false}, {"session_removed", true}}, "c1") ==
        "c1: was not connected, session removed\n");
  CHECK(render_kick(json{{"disconnected", true}}, "c1") == "c1: disconnected\n");
  CHECK(render_purge(json{{"purged", 7}}, "orders") == "orders: 7 messages purged\n");
  CHECK(render_purge(json{{"purged", "\x1b[2J"}}, "q\r") == "q\\x0d: \\x1b[2J messages purged\n");
  CHECK(render_move(json{{"moved", 3}}, "orders.dlq", "orders") == "3 messages moved from orders.dlq to orders\n");
  CHECK(render_publish(json{{"published", true}}, "a/b") == "published to a/b\n");
  CHECK(render_publish(json{{"published", true}, {"matched", 2}, {"duplicate", false}}, "a/b") ==
        "published to a/b, duplicate: no, matched: 2\n");
}
