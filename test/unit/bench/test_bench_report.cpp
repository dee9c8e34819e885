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
