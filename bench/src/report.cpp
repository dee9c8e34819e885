// junction::bench report: JSON writer and human summary.
#include "report.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cinttypes>
#include <iterator>
#include <cmath>
#include <fstream>
#include <sstream>

#include "scenario.h"

namespace junction::bench {

namespace {

// Minimal JSON object writer: keys in insertion order, strings escaped.
class Json {
 public:
  Json& key(const char* k) {
    s_ += first_ ? "" : ",";
    s_ += "\n";
    s_.append(depth_ * 2, ' ');
    str(k);
    s_ += ": ";
    first_ = false;
    return *this;
  }
  Json& str(std::string_view v) {
    s_ += '"';
    for (char c : v) {
      switch (c) {
        case '"': s_ += "\\\""; break;
        case '\\': s_ += "\\\\"; break;
        case '\n': s_ += "\\n"; break;
        case '\t': s_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            s_ += b;
          } else {
            s_ += c;
          }
      }
    }
    s_ += '"';
    return *this;
  }
  Json& num(double v) {
    if (!std::isfinite(v)) return null();
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    s_ += b;
    return *this;
  }
  Json& num(std::uint64_t v) {
    s_ += std::to_string(v);
    return *this;
  }
  Json& boolean(bool v) {
    s_ += v ? "true" : "false";
    return *this;
  }
  Json& null() {
    s_ += "null";
    return *this;
  }
  Json& open() {
    s_ += "{";
    ++depth_;
    first_ = true;
    return *this;
  }
  Json& close() {
    --depth_;
    s_ += "\n";
    s_.append(depth_ * 2, ' ');
    s_ += "}";
    first_ = false;
    return *this;
  }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
  int depth_ = 0;
  bool first_ = true;
};

template <typename T>
void opt_num(Json& j, const char* k, const std::optional<T>& v) {
  j.key(k);
  if (v) {
    j.num(*v);
  } else {
    j.null();
  }
}

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string fmt_rate(double v) {
  char b[32];
  if (v >= 1e6) {
    std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  } else {
    std::snprintf(b, sizeof b, "%.0f", v);
  }
  return b;
}

std::string fmt_us(std::uint64_t ns) {
  char b[32];
  if (ns >= 10'000'000) {
    std::snprintf(b, sizeof b, "%.1f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(b, sizeof b, "%.0f us", us(ns));
  }
  return b;
}

// queue --backlog: one line for the fill, one for the drain (if it began),
// and a word when the time limit cut either short.
void print_backlog(const Result& r, std::FILE* out) {
  const Options& o = r.options;
  std::fprintf(out, "  fill: %" PRIu64 " of %" PRIu64 " published by %u producer%s in %.2f s, %" PRIu64
               " acknowledged: %s msgs/s (%" PRIu64 " rejected)\n",
               r.published, o.backlog, o.publishers, o.publishers == 1 ? "" : "s", r.fill_s, r.acked,
               fmt_rate(r.fill_per_s()).c_str(), r.rejected);
  if (r.fill_limited) std::fprintf(out, "  fill stopped at the --duration limit (%g s)\n", o.duration_s);
  if (r.backlog_drained_s <= 0) return;  // failed or interrupted before the drain
  std::fprintf(out, "  drain: %" PRIu64 " delivered to %u consumer%s in %.2f s: %s msgs/s\n", r.delivered,
               o.subscribers, o.subscribers == 1 ? "" : "s", r.backlog_drained_s,
               fmt_rate(r.delivered_per_s()).c_str());
  if (r.drain_limited)
    std::fprintf(out, "  drain window cut at the --duration limit (%g s): later deliveries are not in the rate, "
                 "what never arrives counts as lost\n", o.duration_s);
}

void json_state(Json& j, const Result& r) {
  const Options& o = r.options;
  j.key("state_items").num(static_cast<std::uint64_t>(o.state_items));
  j.key("broker_pid").num(static_cast<std::uint64_t>(o.broker_pid));
  j.key("subscribe_s").num(r.subscribe_s);
  j.key("subscriptions_per_s").num(r.subscribe_s > 0 ? o.state_items / r.subscribe_s : 0.0);
  j.key("retain_s").num(r.retain_s);
  j.key("retained_per_s").num(r.retain_s > 0 ? o.state_items / r.retain_s : 0.0);
  opt_num(j, "rss_anon_before_kb", r.rss_anon_before_kb);
  opt_num(j, "rss_anon_subscribed_kb", r.rss_anon_subscribed_kb);
  opt_num(j, "rss_anon_retained_kb", r.rss_anon_retained_kb);
  opt_num(j, "rss_per_subscription_bytes", r.rss_per_subscription_bytes());
  opt_num(j, "rss_per_retained_bytes", r.rss_per_retained_bytes());
}

std::string kib(const std::optional<std::uint64_t>& kb) { return kb ? std::to_string(*kb) : "?"; }

// state: the two timed steps, the three RssAnon readings, bytes per item.
void print_state(const Result& r, std::FILE* out) {
  const std::uint32_t k = r.options.state_items;
  if (r.subscribe_s > 0)
    std::fprintf(out, "  subscribed %u filters in %.2f s (%s/s)\n", k, r.subscribe_s,
                 fmt_rate(k / r.subscribe_s).c_str());
  if (r.retain_s > 0)
    std::fprintf(out, "  %u retained messages acknowledged in %.2f s (%s/s)\n", k, r.retain_s,
                 fmt_rate(k / r.retain_s).c_str());
  std::fprintf(out, "  broker RssAnon: %s KiB before, %s KiB subscribed, %s KiB with the retained messages\n",
               kib(r.rss_anon_before_kb).c_str(), kib(r.rss_anon_subscribed_kb).c_str(),
               kib(r.rss_anon_retained_kb).c_str());
  const auto sub = r.rss_per_subscription_bytes(), ret = r.rss_per_retained_bytes();
  std::fprintf(out, "  per subscription: %s bytes, per retained message: %s bytes\n",
               sub ? std::to_string(static_cast<long long>(std::lround(*sub))).c_str() : "?",
               ret ? std::to_string(static_cast<long long>(std::lround(*ret))).c_str() : "?");
}

// A "<Field>:  <n> kB" line of /proc/PID/status.
std::optional<std::uint64_t> read_status_kb(int pid, std::string_view field) {
  if (pid <= 0) return std::nullopt;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
      std::istringstream in(line.substr(field.size() + 1));
      std::uint64_t kb = 0;
      if (in >> kb) return kb;
    }
  }
  return std::nullopt;
}

std::optional<double> growth_per_item(const std::optional<std::uint64_t>& from_kb,
                                      const std::optional<std::uint64_t>& to_kb, std::uint64_t items) {
  if (!from_kb || !to_kb || items == 0) return std::nullopt;
  return (static_cast<double>(*to_kb) - static_cast<double>(*from_kb)) * 1024.0 / static_cast<double>(items);
}

}  // namespace

std::optional<double> Result::rss_per_subscription_bytes() const {
  return growth_per_item(rss_anon_before_kb, rss_anon_subscribed_kb, options.state_items);
}

std::optional<double> Result::rss_per_retained_bytes() const {
  return growth_per_item(rss_anon_subscribed_kb, rss_anon_retained_kb, options.state_items);
}

std::optional<double> Result::rss_per_connection_bytes() const {
  if (!rss_before_kb || !rss_after_kb || connections == 0) return std::nullopt;
  const double delta = (static_cast<double>(*rss_after_kb) - static_cast<double>(*rss_before_kb)) * 1024.0;
  return delta / connections;
}

std::optional<std::uint64_t> read_rss_kb(int pid) { return read_status_kb(pid, "VmRSS"); }

std::optional<std::uint64_t> read_rss_anon_kb(int pid) { return read_status_kb(pid, "RssAnon"); }

std::optional<double> read_cpu_s(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name (which may contain spaces).
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(utime + stime) / static_cast<double>(hz > 0 ? hz : 100);
}

double self_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string to_json(const Result& r) {
  const Options& o = r.options;
  Json j;
  j.open();
  j.key("tool").str("junction-bench");
  j.key("scenario").str(scenario_name(o.scenario));
  j.key("protocol").str(protocol_name(o.protocol));
  j.key("mqtt_version").num(static_cast<std::uint64_t>(o.mqtt_version));
  j.key("description").str(r.description);
  j.key("host").str(o.host);
  j.key("port").num(static_cast<std::uint64_t>(o.port));
  j.key("qos").num(static_cast<std::uint64_t>(o.qos));
  j.key("size").num(static_cast<std::uint64_t>(o.size));
  j.key("publishers").num(static_cast<std::uint64_t>(o.publishers));
  j.key("subscribers").num(static_cast<std::uint64_t>(o.subscribers));
  j.key("inflight").num(static_cast<std::uint64_t>(o.inflight));
  j.key("qos0_window").num(static_cast<std::uint64_t>(o.qos0_window));
  j.key("persistent").boolean(o.persistent);
  j.key("subscribe_with_connect").boolean(o.protocol == Protocol::Mqtt && !o.wait_connack);
  j.key("rate").num(o.rate);
  j.key("duration_s").num(o.duration_s);
  j.key("warmup_s").num(o.warmup_s);
  j.key("run_id").num(static_cast<std::uint64_t>(r.run_id));
  j.key("ok").boolean(r.error.empty());
  j.key("error");
  if (r.error.empty()) {
    j.null();
  } else {
    j.str(r.error);
  }
  j.key("interrupted").boolean(r.interrupted);
  if (o.extra_subscriptions > 0) {
    j.key("extra_subscriptions").num(static_cast<std::uint64_t>(o.extra_subscriptions));
    j.key("extra_connections").num(static_cast<std::uint64_t>(r.extra_connections));
    j.key("extra_subscribe_s").num(r.extra_subscribe_s);
  }
  if (o.scenario == Scenario::State) {
    json_state(j, r);
  } else if (o.scenario == Scenario::Sink) {
    j.key("measured_s").num(r.measured_s);
    j.key("connections").num(r.sink_connections);
    j.key("received").num(r.sink_publishes);
    j.key("received_per_s").num(r.measured_s > 0 ? static_cast<double>(r.sink_publishes) / r.measured_s : 0.0);
    j.key("peak_per_s").num(r.sink_peak_per_s);
    j.key("reflected").num(r.sink_forwarded);
    j.key("reflections_dropped").num(r.sink_dropped);
  } else if (o.scenario == Scenario::Conns) {
    j.key("connections_requested").num(static_cast<std::uint64_t>(r.connections_requested));
    j.key("connections").num(static_cast<std::uint64_t>(r.connections));
    j.key("nofile_limit").num(r.nofile_limit);
    j.key("capped").boolean(r.capped);
    j.key("connect_s").num(r.connect_s);
    j.key("connect_rate").num(r.connect_rate());
    j.key("hold_s").num(o.hold_s);
    j.key("broker_pid");
    if (o.broker_pid > 0) {
      j.num(static_cast<std::uint64_t>(o.broker_pid));
    } else {
      j.null();
    }
    opt_num(j, "rss_before_kb", r.rss_before_kb);
    opt_num(j, "rss_connected_kb", r.rss_connected_kb);
    opt_num(j, "rss_after_kb", r.rss_after_kb);
    opt_num(j, "rss_per_connection_bytes", r.rss_per_connection_bytes());
  } else {
    j.key("measured_s").num(r.measured_s);
    if (o.backlog > 0) {
      j.key("backlog").num(o.backlog);
      j.key("fill_s").num(r.fill_s);
      j.key("fill_per_s").num(r.fill_per_s());
      j.key("backlog_drained_s").num(r.backlog_drained_s);
    }
    j.key("published").num(r.published);
    j.key("published_per_s").num(r.published_per_s());
    j.key("delivered").num(r.delivered);
    j.key("delivered_per_s").num(r.delivered_per_s());
    j.key("acked").num(r.acked);
    j.key("rejected").num(r.rejected);
    j.key("published_total").num(r.published_total);
    j.key("delivered_total").num(r.delivered_total);
    j.key("acked_total").num(r.acked_total);
    opt_num(j, "lost", r.lost);
    j.key("duplicates").num(r.duplicates);
    j.key("foreign").num(r.foreign);
    j.key("drain_s").num(r.drain_s);
    opt_num(j, "generator_cpu_pct", r.generator_cpu_pct);
    opt_num(j, "broker_cpu_pct", r.broker_cpu_pct);
    j.key("latency_us");
    if (r.latency && r.latency->count() > 0) {
      const Histogram& h = *r.latency;
      j.open();
      j.key("count").num(h.count());
      j.key("min").num(us(h.min()));
      j.key("mean").num(h.mean() / 1000.0);
      j.key("p50").num(us(h.value_at_percentile(50)));
      j.key("p90").num(us(h.value_at_percentile(90)));
      j.key("p99").num(us(h.value_at_percentile(99)));
      j.key("p999").num(us(h.value_at_percentile(99.9)));
      j.key("max").num(us(h.max()));
      j.close();
    } else {
      j.null();
    }
  }
  j.close();
  std::string s = j.take();
  s += "\n";
  return s;
}

std::string write_json(const Result& r) {
  const std::string& path = r.options.json_path;
  if (path.empty()) return "";
  const std::string text = to_json(r);
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return "";
  }
  std::ofstream f(path, std::ios::trunc);
  f << text;
  f.close();
  if (!f) return "cannot write " + path;
  return "";
}

void print_summary(const Result& r, std::FILE* out) {
  const Options& o = r.options;
  std::fprintf(out, "%s (%s%s): %s\n", scenario_name(o.scenario), protocol_name(o.protocol),
               o.protocol == Protocol::Mqtt ? (o.mqtt_version == 5 ? " 5" : " 3.1.1") : "", r.description.c_str());
  if (!r.error.empty()) std::fprintf(out, "  error: %s\n", r.error.c_str());
  if (r.interrupted) std::fprintf(out, "  interrupted: figures cover the time before SIGINT\n");
  if (o.extra_subscriptions > 0 && r.extra_subscribe_s > 0)
    std::fprintf(out, "  extra subscriptions: %u filters under %s/ on %u connection%s, subscribed in %.2f s (%s/s)\n",
                 o.extra_subscriptions, extra_tree_root(o).c_str(), r.extra_connections,
                 r.extra_connections == 1 ? "" : "s", r.extra_subscribe_s,
                 fmt_rate(o.extra_subscriptions / r.extra_subscribe_s).c_str());
  if (o.scenario == Scenario::State) {
    print_state(r, out);
    return;
  }
  if (o.scenario == Scenario::Sink) {
    std::fprintf(out, "  received %" PRIu64 " publishes on %" PRIu64 " connections in %.1f s: %s msgs/s (peak %s/s)\n",
                 r.sink_publishes, r.sink_connections, r.measured_s,
                 fmt_rate(r.measured_s > 0 ? static_cast<double>(r.sink_publishes) / r.measured_s : 0).c_str(),
                 fmt_rate(r.sink_peak_per_s).c_str());
    std::fprintf(out, "  reflected %" PRIu64 " messages to exact-topic subscribers (%" PRIu64 " dropped: slow reader)\n",
                 r.sink_forwarded, r.sink_dropped);
    return;
  }
  if (o.scenario == Scenario::Conns) {
    if (r.capped)
      std::fprintf(out, "  capped: %u connections asked, %u opened (open-file limit %" PRIu64 ")\n",
                   r.connections_requested, r.connections, r.nofile_limit);
    std::fprintf(out, "  %u connections subscribed in %.3f s: %s connections/s\n", r.connections, r.connect_s,
                 fmt_rate(r.connect_rate()).c_str());
    if (r.rss_before_kb && r.rss_after_kb) {
      std::fprintf(out, "  broker RSS %" PRIu64 " KiB before, %s KiB connected, %" PRIu64
                   " KiB after the hold: %.0f bytes/connection\n",
                   *r.rss_before_kb, r.rss_connected_kb ? std::to_string(*r.rss_connected_kb).c_str() : "?",
                   *r.rss_after_kb, *r.rss_per_connection_bytes());
    } else {
      std::fprintf(out, "  broker RSS: not measured (give --broker-pid)\n");
    }
    return;
  }
  if (o.backlog > 0) {
    print_backlog(r, out);
  } else {
    std::fprintf(out, "  %.2f s measured: published %s msgs/s, delivered %s msgs/s\n", r.measured_s,
                 fmt_rate(r.published_per_s()).c_str(), fmt_rate(r.delivered_per_s()).c_str());
  }
  std::fprintf(out, "  totals: published %" PRIu64 ", delivered %" PRIu64 ", acked %" PRIu64 ", rejected %" PRIu64
               ", duplicates %" PRIu64 "\n", r.published_total, r.delivered_total, r.acked_total, r.rejected,
               r.duplicates);
  if (r.lost) {
    std::fprintf(out, "  lost (acknowledged, never delivered): %" PRIu64 "%s\n", *r.lost,
                 *r.lost ? "  <-- the broker lost acknowledged messages" : "");
  }
  if (r.generator_cpu_pct) {
    std::fprintf(out, "  cpu: generator %.0f %%", *r.generator_cpu_pct);
    if (r.broker_cpu_pct) std::fprintf(out, ", broker %.0f %%", *r.broker_cpu_pct);
    std::fprintf(out, " of one core%s\n", *r.generator_cpu_pct > 90 ? "  <-- the generator may be the limit" : "");
  }
  if (r.foreign) std::fprintf(out, "  ignored %" PRIu64 " messages left over from other runs\n", r.foreign);
  if (r.latency && r.latency->count() > 0) {
    const Histogram& h = *r.latency;
    std::fprintf(out, "  latency: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%" PRIu64 " samples)\n",
                 fmt_us(h.value_at_percentile(50)).c_str(), fmt_us(h.value_at_percentile(90)).c_str(),
                 fmt_us(h.value_at_percentile(99)).c_str(), fmt_us(h.value_at_percentile(99.9)).c_str(),
                 fmt_us(h.max()).c_str(), h.count());
  }
}

}  // namespace junction::bench
