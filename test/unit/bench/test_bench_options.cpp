// junction-bench command line: refusals (exit 2 material) and scenario
// defaults, without running anything.
#include <catch2/catch.hpp>

#include <string>
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
