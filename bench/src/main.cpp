// junction-bench — load generator for Junction and any MQTT broker on this
// machine (see bench/README.md). Composition only: options, one run, report.
//
// Exit codes: 0 the run completed (figures may still show losses: read
// them); 1 the run failed (broker unreachable, refused, closed a
// connection, cannot listen, cannot write the JSON); 2 bad arguments.
#include <csignal>
#include <cstdio>

#include "engine.h"
#include "options.h"
#include "report.h"
#include "sink.h"
#include "state.h"

namespace junction::bench {
namespace {

int run_scenario(const Options& o) {
  Result r;
  int rc;
  if (o.scenario == Scenario::Sink) {
    rc = run_sink(o, r);
  } else if (o.scenario == Scenario::State) {
    rc = run_state(o, r);
  } else {
    Engine e(o);
    rc = e.run(r);
  }
  std::FILE* human = o.json_path == "-" ? stderr : stdout;
  if (r.error.empty() || r.measured_s > 0 || r.connections > 0 || r.rss_anon_before_kb) print_summary(r, human);
  if (!r.error.empty()) std::fprintf(stderr, "junction-bench: %s\n", r.error.c_str());
  if (const std::string err = write_json(r); !err.empty()) {
    std::fprintf(stderr, "junction-bench: %s\n", err.c_str());
    if (rc == 0) rc = 1;
  }
  return rc;
}

}  // namespace
}  // namespace junction::bench

int main(int argc, char** argv) {
  using namespace junction::bench;
  std::signal(SIGPIPE, SIG_IGN);
  Options o;
  std::string message;
  switch (parse_options(argc, argv, o, message)) {
    case ParseResult::Exit:
      std::fputs(message.c_str(), stdout);
      return 0;
    case ParseResult::Error:
      std::fprintf(stderr, "junction-bench: %s\nRun 'junction-bench --help' for the options.\n", message.c_str());
      return 2;
    case ParseResult::Run:
      break;
  }
  return run_scenario(o);
}
