// junction-bench command line: refusals (exit 2 material) and scenario
// defaults, without running anything.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "options.h"
#include "scenario.h"

using namespace junction::bench;

namespace {

struct Parsed {
  ParseResult result;
  Options options;
  std::string message;
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "junction-bench");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  Parsed p;
  p.result = parse_options(static_cast<int>(argv.size()), argv.data(), p.options, p.message);
  return p;
}

}  // namespace

TEST_CASE("a scenario is required and must be known", "[bench][options]") {
  auto none = parse({});
  CHECK(none.result == ParseResult::Error);

  auto unknown = parse({"fanwise"});
  CHECK(unknown.result == ParseResult::Error);
  CHECK(unknown.message.find("unknown scenario 'fanwise'") != std::string::npos);

  for (const char* s : {"fanin", "fanout", "pairs", "queue", "conns", "latency", "sink"}) {
    INFO(s);
    CHECK(parse({s}).result == ParseResult::Run);
  }
}

TEST_CASE("rates, durations and windows must be sensible", "[bench][options]") {
  auto negative = parse({"fanin", "--rate", "-5"});
  CHECK(negative.result == ParseResult::Error);
  CHECK(negative.message.find("--rate") != std::string::npos);
  CHECK(parse({"fanin", "--rate=-0.5"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--rate", "nan"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--rate", "abc"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--duration", "0"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--duration", "-1"}).result == ParseResult::Error);
  CHECK(parse({"sink", "--duration", "0"}).result == ParseResult::Run);
  CHECK(parse({"fanin", "--warmup", "-1"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--qos", "3"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--mqtt-version", "3"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--inflight", "0"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--inflight", "65536"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--topic", "a/+/b"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--bogus"}).result == ParseResult::Error);
  CHECK(parse({"latency", "--rate", "0"}).result == ParseResult::Error);
  CHECK(parse({"latency", "--size", "8"}).result == ParseResult::Error);
  CHECK(parse({"fanout", "-P", "2"}).result == ParseResult::Error);
  CHECK(parse({"pairs", "-P", "2"}).result == ParseResult::Error);
  CHECK(parse({"sink", "--protocol", "stomp"}).result == ParseResult::Error);
  CHECK(parse({"fanin", "--protocol", "amqp"}).result == ParseResult::Error);
}

TEST_CASE("only loopback hosts are accepted", "[bench][options]") {
  for (const char* h : {"10.0.0.1", "192.168.1.10", "0.0.0.0", "example.com", "::", "2001:db8::1", "128.0.0.1"}) {
    INFO(h);
    auto p = parse({"fanin", "--host", h});
    CHECK(p.result == ParseResult::Error);
    CHECK(p.message.find("refused") != std::string::npos);
  }
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
    INFO(h);
    CHECK(parse({"fanin", "--host", h}).result == ParseResult::Run);
  }
  bool v6 = false;
  CHECK(is_loopback_host("::1", &v6));
  CHECK(v6);
  CHECK(parse({"fanin", "--host", "localhost"}).options.host == "127.0.0.1");
}

TEST_CASE("scenario defaults and topology", "[bench][options]") {
  auto fanin = parse({"fanin"});
  REQUIRE(fanin.result == ParseResult::Run);
  CHECK(fanin.options.publishers == 4);
  CHECK(fanin.options.subscribers == 4);
  CHECK(fanin.options.port == 1883);
  CHECK(fanin.options.size == 64);
  CHECK(fanin.options.inflight == 64);
  CHECK_FALSE(fanin.options.wait_connack);  // SUBSCRIBE rides with CONNECT unless asked
  CHECK(parse({"conns", "--wait-connack"}).options.wait_connack);
  Topology t = build_topology(fanin.options);
  CHECK(t.publishers.size() == 4);
  CHECK(t.subscribers.size() == 4);
  REQUIRE(t.feeds.size() == 4);
  CHECK(t.feeds[0].size() == 4);

  auto latency = parse({"latency"});
  REQUIRE(latency.result == ParseResult::Run);
  CHECK(latency.options.rate == 1000);

  auto pairs = parse({"pairs", "-N", "3"});
  REQUIRE(pairs.result == ParseResult::Run);
  t = build_topology(pairs.options);
  REQUIRE(t.publishers.size() == 3);
  CHECK(t.publishers[2].topic == "bench/pairs/2");
  CHECK(t.subscribers[2].filter == "bench/pairs/2");
  CHECK(t.feeds[2] == std::vector<std::uint32_t>{2});

  auto queue = parse({"queue", "--queue-mode", "share", "--queue-name", "jobs"});
  REQUIRE(queue.result == ParseResult::Run);
  t = build_topology(queue.options);
  CHECK(t.publishers[0].topic == "bench/queue/jobs");
  CHECK(t.subscribers[0].filter == "$share/bench/bench/queue/jobs");
  CHECK(t.feeds.size() == 1);  // one group of competing consumers

  auto native = parse({"queue"});
  t = build_topology(native.options);
  CHECK(t.publishers[0].topic == "$queue/bench");
  CHECK(t.subscribers[0].filter == "$queue/bench");

  auto stomp = parse({"queue", "--protocol", "stomp"});
  REQUIRE(stomp.result == ParseResult::Run);
  CHECK(stomp.options.port == 61613);
  CHECK(build_topology(stomp.options).publishers[0].topic == "/queue/bench");
}

TEST_CASE("--backlog: queue only, acknowledged, stamped, held without consumers", "[bench][options]") {
  auto ok = parse({"queue", "--backlog", "1000", "--qos", "1"});
  REQUIRE(ok.result == ParseResult::Run);
  CHECK(ok.options.backlog == 1000);
  CHECK(ok.options.duration_s == 600);  // --duration is the time limit: generous unless given
  CHECK(parse({"queue", "--backlog", "10", "--qos", "1", "--duration", "30"}).options.duration_s == 30);
  CHECK(parse({"queue", "--backlog", "10", "--qos", "2"}).result == ParseResult::Run);
  CHECK(parse({"queue", "--backlog", "10", "--qos", "1", "--protocol", "stomp"}).result == ParseResult::Run);
  CHECK(parse({"queue", "--qos", "1"}).options.backlog == 0);
  CHECK(parse({"queue", "--qos", "1"}).options.duration_s == 10);  // without --backlog nothing changes

  auto refused = [](std::vector<std::string> args, const char* why) {
    INFO(why);
    auto p = parse(std::move(args));
    CHECK(p.result == ParseResult::Error);
    CHECK(p.message.find(why) != std::string::npos);
  };
  refused({"queue", "--backlog", "0", "--qos", "1"}, "--backlog must be > 0");
  refused({"queue", "--backlog", "-5", "--qos", "1"}, "--backlog");
  refused({"queue", "--backlog", "4294967296", "--qos", "1"}, "--backlog must be <= 4294967295");
  refused({"fanin", "--backlog", "10", "--qos", "1"}, "only for the queue scenario");
  refused({"queue", "--backlog", "10"}, "--backlog needs --qos 1 or 2");
  refused({"queue", "--backlog", "10", "--qos", "0", "--protocol", "stomp"}, "--backlog needs --qos 1 or 2");
  refused({"queue", "--backlog", "10", "--qos", "1", "--queue-mode", "share", "--mqtt-version", "5"},
          "--backlog needs --queue-mode queue");
  refused({"queue", "--backlog", "10", "--qos", "1", "--size", "8"}, "--backlog needs --size >= 20");
}

TEST_CASE("--backlog: the fill is spread over the producers", "[bench][options]") {
  auto p = parse({"queue", "--backlog", "10", "--qos", "1", "-P", "4"});
  REQUIRE(p.result == ParseResult::Run);
  CHECK(backlog_share(p.options, 0) == 3);
  CHECK(backlog_share(p.options, 1) == 3);
  CHECK(backlog_share(p.options, 2) == 2);
  CHECK(backlog_share(p.options, 3) == 2);
  CHECK(backlog_share(p.options, 4) == 0);  // no such producer

  auto few = parse({"queue", "--backlog", "2", "--qos", "1", "-P", "4"});
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < 4; ++i) total += backlog_share(few.options, i);
  CHECK(total == 2);

  auto big = parse({"queue", "--backlog", "1000000", "--qos", "1", "-P", "3"});
  total = 0;
  for (std::uint32_t i = 0; i < 3; ++i) total += backlog_share(big.options, i);
  CHECK(total == 1000000);
  CHECK(build_topology(big.options).description.find("backlog of 1000000") != std::string::npos);
}

TEST_CASE("--extra-subscriptions: MQTT runs against a broker", "[bench][options]") {
  auto ok = parse({"pairs", "--extra-subscriptions", "1000000"});
  REQUIRE(ok.result == ParseResult::Run);
  CHECK(ok.options.extra_subscriptions == 1000000);
  CHECK(parse({"pairs"}).options.extra_subscriptions == 0);
  CHECK(parse({"fanin", "--extra-subscriptions", "10", "--mqtt-version", "5"}).result == ParseResult::Run);
  CHECK(parse({"pairs", "--protocol", "stomp", "--extra-subscriptions", "0"}).result == ParseResult::Run);

  auto stomp = parse({"pairs", "--protocol", "stomp", "--extra-subscriptions", "10"});
  CHECK(stomp.result == ParseResult::Error);
  CHECK(stomp.message.find("--extra-subscriptions needs --protocol mqtt") != std::string::npos);
  auto sink = parse({"sink", "--extra-subscriptions", "10"});
  CHECK(sink.result == ParseResult::Error);
  CHECK(sink.message.find("not sink") != std::string::npos);
  auto state = parse({"state", "--broker-pid", "1", "--extra-subscriptions", "10"});
  CHECK(state.result == ParseResult::Error);
  CHECK(state.message.find("not for state") != std::string::npos);
  CHECK(parse({"pairs", "--extra-subscriptions", "-1"}).result == ParseResult::Error);
  CHECK(parse({"pairs", "--extra-subscriptions", "4294967296"}).result == ParseResult::Error);
}

TEST_CASE("state: MQTT, --broker-pid, at least one item", "[bench][options]") {
  auto ok = parse({"state", "--broker-pid", "4242"});
  REQUIRE(ok.result == ParseResult::Run);
  CHECK(ok.options.scenario == Scenario::State);
  CHECK(ok.options.state_items == 100000);
  CHECK(ok.options.size == 64);
  CHECK(parse({"state", "--broker-pid", "4242", "--state-items", "5"}).options.state_items == 5);
  CHECK(build_topology(ok.options).description.find("100000 retained messages of 64 bytes") != std::string::npos);

  auto refused = [](std::vector<std::string> args, const char* why) {
    INFO(why);
    auto p = parse(std::move(args));
    CHECK(p.result == ParseResult::Error);
    CHECK(p.message.find(why) != std::string::npos);
  };
  refused({"state", "--broker-pid", "4242", "--state-items", "0"}, "--state-items must be > 0");
  refused({"state"}, "state needs --broker-pid");
  refused({"state", "--state-items", "10"}, "state needs --broker-pid");
  refused({"state", "--broker-pid", "4242", "--protocol", "stomp"}, "state speaks MQTT only");
  refused({"state", "--broker-pid", "4242", "--size", "0"}, "state needs --size >= 1");
  refused({"pairs", "--state-items", "10"}, "--state-items is only for the state scenario");
}

namespace {

// MQTT filter matching (3.1.1 section 4.7), to check tree_may_match() against.
bool mqtt_matches(std::string_view filter, std::string_view topic) {
  auto split = [](std::string_view s) {
    std::vector<std::string_view> out;
    for (std::size_t at = 0;;) {
      const std::size_t slash = s.find('/', at);
      out.push_back(s.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
      if (slash == std::string_view::npos) return out;
      at = slash + 1;
    }
  };
  const auto f = split(filter), t = split(topic);
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // also matches the parent level itself
    if (i >= t.size() || (f[i] != "+" && f[i] != t[i])) return false;
  }
  return f.size() == t.size();
}

}  // namespace

TEST_CASE("tree filters: distinct, three levels, half wildcards, matching no measured topic", "[bench][options]") {
  CHECK(tree_filter("bench", 0) == "bench/x0/0");
  CHECK(tree_filter("bench", 1) == "bench/+/w1");
  CHECK(tree_filter("bench", 2002) == "bench/x2/2002");
  CHECK(tree_filter("bench", 3) == "bench/y3/#");
  CHECK(retained_topic(123456) == "state/r456/123456");
  CHECK(extra_tree_root(parse({"pairs", "--topic", "a/b"}).options) == "a");

  std::set<std::string> seen;
  std::uint32_t wild = 0;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const std::string f = tree_filter("bench", i);
    CHECK(std::count(f.begin(), f.end(), '/') == 2);
    wild += f.find_first_of("+#") != std::string::npos ? 1 : 0;
    seen.insert(f);
  }
  CHECK(seen.size() == 20000);  // one client subscribing a filter twice holds one subscription
  CHECK(wild == 10000);

  // Every topic the scenarios publish to, the retained topics of `state`,
  // and look-alikes: tree_may_match() must say yes whenever a filter matches.
  std::vector<std::string> topics;
  for (const char* s : {"fanin", "fanout", "latency"})
    topics.push_back(build_topology(parse({s}).options).publishers[0].topic);
  for (const char* mode : {"queue", "share"})
    topics.push_back(build_topology(parse({"queue", "--queue-mode", mode}).options).publishers[0].topic);
  for (const PublisherSpec& p : build_topology(parse({"pairs", "-N", "50"}).options).publishers)
    topics.push_back(p.topic);
  for (std::uint32_t i = 0; i < 50; ++i) topics.push_back("bench/conns/" + std::to_string(i));
  for (std::uint64_t i = 0; i < 200; ++i) topics.push_back(retained_topic(i * 7));
  const std::vector<std::string> look_alikes = {"bench/x4/4", "bench/x5/7", "bench//w9", "bench/q/w13", "bench/y3",
                                                "bench/y7/a/b", "bench/queue/w5"};
  for (const std::string& t : topics) {
    INFO(t);
    CHECK_FALSE(tree_may_match("bench", t));
    CHECK_FALSE(tree_may_match("state", t));
  }
  for (const std::string& t : look_alikes) {
    INFO(t);
    CHECK(tree_may_match("bench", t));
  }
  topics.insert(topics.end(), look_alikes.begin(), look_alikes.end());
  for (std::uint64_t i = 0; i < 2000; ++i) {
    for (const char* root : {"bench", "state"}) {
      const std::string f = tree_filter(root, i);
      for (const std::string& t : topics)
        if (mqtt_matches(f, t) && !tree_may_match(root, t)) FAIL(f << " matches " << t << " unnoticed");
    }
  }
  // The refusal that follows: a queue name of the tree's shape.
  auto clash = parse({"queue", "--queue-mode", "share", "--queue-name", "w12", "--extra-subscriptions", "10"});
  REQUIRE(clash.result == ParseResult::Run);  // checked by the engine, against the built topology
  CHECK(tree_may_match(extra_tree_root(clash.options), build_topology(clash.options).publishers[0].topic));
}
