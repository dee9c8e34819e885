// junction-bench report: the JSON and summary of queue --backlog runs, and
// that runs without it keep exactly their fields.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "report.h"

using namespace junction::bench;

namespace {

Result queue_result(std::uint64_t backlog) {
  Result r;
  r.options.scenario = Scenario::Queue;
  r.options.qos = 1;
  r.options.publishers = 4;
  r.options.subscribers = 4;
  r.options.backlog = backlog;
  r.measured_s = 2;
  r.published = r.acked = 1000;
  r.delivered = 1000;
  r.fill_s = 0.5;
  r.backlog_drained_s = 2;
  r.lost = 0;
  return r;
}

bool has(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

std::string summary_of(const Result& r) {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  print_summary(r, f);
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

}  // namespace

TEST_CASE("backlog runs report the fill and the drain", "[bench][report]") {
  const Result r = queue_result(1000);
  CHECK(r.fill_per_s() == 2000);
  CHECK(r.published_per_s() == 2000);  // the producers publish only during the fill
  CHECK(r.delivered_per_s() == 500);
  const std::string j = to_json(r);
  CHECK(has(j, "\"backlog\": 1000,"));
  CHECK(has(j, "\"fill_s\": 0.5,"));
  CHECK(has(j, "\"fill_per_s\": 2000,"));
  CHECK(has(j, "\"backlog_drained_s\": 2,"));
  CHECK(has(j, "\"delivered_per_s\": 500,"));
  const std::string s = summary_of(r);
  CHECK(has(s, "fill: 1000 of 1000 published by 4 producers in 0.50 s, 1000 acknowledged: 2000 msgs/s"));
  CHECK(has(s, "drain: 1000 delivered to 4 consumers in 2.00 s: 500 msgs/s"));
  CHECK_FALSE(has(s, "measured:"));
  CHECK_FALSE(has(s, "limit"));

  Result cut = queue_result(1000);
  cut.drain_limited = true;
  CHECK(has(summary_of(cut), "drain window cut at the --duration limit"));
}

TEST_CASE("runs without --backlog have no backlog fields", "[bench][report]") {
  Result r = queue_result(0);
  const std::string j = to_json(r);
  for (const char* k : {"\"backlog\"", "\"fill_s\"", "\"fill_per_s\"", "\"backlog_drained_s\""}) {
    INFO(k);
    CHECK_FALSE(has(j, k));
  }
  CHECK(has(j, "\"published_per_s\": 500,"));  // over the measured window, as always
  const std::string s = summary_of(r);
  CHECK(has(s, "2.00 s measured: published 500 msgs/s, delivered 500 msgs/s"));
  CHECK_FALSE(has(s, "fill:"));
}

TEST_CASE("state runs report RssAnon growth per subscription and per retained message", "[bench][report]") {
  Result r;
  r.options.scenario = Scenario::State;
  r.options.state_items = 100000;
  r.options.broker_pid = 4242;
  r.subscribe_s = 2;
  r.retain_s = 0.5;
  r.rss_anon_before_kb = 1000;
  r.rss_anon_subscribed_kb = 1000 + 20000;  // 20,480,000 bytes / 100,000 = 204.8 per subscription
  r.rss_anon_retained_kb = 1000 + 20000 + 30000;
  REQUIRE(r.rss_per_subscription_bytes());
  CHECK(*r.rss_per_subscription_bytes() == Approx(204.8));
  CHECK(*r.rss_per_retained_bytes() == Approx(307.2));
  const std::string j = to_json(r);
  CHECK(has(j, "\"state_items\": 100000,"));
  CHECK(has(j, "\"subscriptions_per_s\": 50000,"));
  CHECK(has(j, "\"retained_per_s\": 200000,"));
  CHECK(has(j, "\"rss_anon_subscribed_kb\": 21000,"));
  CHECK(has(j, "\"rss_per_subscription_bytes\": 204.8,"));
  CHECK(has(j, "\"rss_per_retained_bytes\": 307.2"));
  CHECK_FALSE(has(j, "\"delivered_per_s\""));
  CHECK_FALSE(has(j, "\"extra_subscriptions\""));
  const std::string s = summary_of(r);
  CHECK(has(s, "subscribed 100000 filters in 2.00 s (50.0k/s)"));
  CHECK(has(s, "100000 retained messages acknowledged in 0.50 s (200.0k/s)"));
  CHECK(has(s, "broker RssAnon: 1000 KiB before, 21000 KiB subscribed, 51000 KiB with the retained messages"));
  CHECK(has(s, "per subscription: 205 bytes, per retained message: 307 bytes"));

  Result cut = r;  // failed before the last reading
  cut.rss_anon_retained_kb.reset();
  CHECK_FALSE(cut.rss_per_retained_bytes());
  CHECK(has(to_json(cut), "\"rss_per_retained_bytes\": null"));
  CHECK(has(summary_of(cut), "per retained message: ? bytes"));
}

TEST_CASE("--extra-subscriptions is in the JSON and the summary", "[bench][report]") {
  Result r = queue_result(0);
  r.options.scenario = Scenario::Pairs;
  r.options.extra_subscriptions = 1000000;
  r.extra_connections = 100;
  r.extra_subscribe_s = 10;
  const std::string j = to_json(r);
  CHECK(has(j, "\"extra_subscriptions\": 1000000,"));
  CHECK(has(j, "\"extra_connections\": 100,"));
  CHECK(has(j, "\"extra_subscribe_s\": 10,"));
  CHECK(has(summary_of(r), "extra subscriptions: 1000000 filters under bench/ on 100 connections, subscribed in "
                           "10.00 s (100.0k/s)"));
}
