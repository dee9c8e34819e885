// /metrics: Prometheus text exposition 0.0.4. Names follow Prometheus's
// conventions (junction_ prefix, base units, _total counters, _seconds
// histograms); process_* are the standard process metrics. Built from the
// counters the core keeps anyway: a scrape costs a walk over listeners,
// bridges and queues, nothing per message.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "admin_service.h"

namespace junction::admin {

namespace {

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // labels: "k1", "v1", "k2", "v2"...
  void sample(std::string_view name, std::initializer_list<std::string_view> labels, double value) {
    out_ += name;
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (auto it = labels.begin(); it != labels.end(); it += 2) {
        if (!first) out_ += ',';
        first = false;
        out_ += *it;
        out_ += "=\"";
        escape(*(it + 1));
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    char buf[64];
    if (value == double(std::uint64_t(value)) && value < 1e18) {
      std::snprintf(buf, sizeof buf, "%" PRIu64, std::uint64_t(value));
    } else {
      std::snprintf(buf, sizeof buf, "%.9g", value);
    }
    out_ += buf;
    out_ += '\n';
  }
  // A histogram from per-bucket (not cumulative) counts: _bucket{le}, _sum, _count.
  template <class Bounds, class Counts>
  void histogram(const std::string& name, const char* help, const Bounds& bounds, const Counts& counts,
                 std::uint64_t count, double sum) {
    family(name.c_str(), "histogram", help);
    std::uint64_t cumulative = 0;
    char le[32];
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += counts[i];
      std::snprintf(le, sizeof le, "%g", bounds[i]);
      sample(name + "_bucket", {"le", le}, double(cumulative));
    }
    sample(name + "_bucket", {"le", "+Inf"}, double(count));
    sample(name + "_sum", {}, sum);
    sample(name + "_count", {}, double(count));
  }
  void one(const char* name, const char* type, const char* help, double value) {
    family(name, type, help);
    sample(name, {}, value);
  }
  std::string take() { return std::move(out_); }

 private:
  void escape(std::string_view v) {
    for (char ch : v) {
      if (ch == '\\') out_ += "\\\\";
      else if (ch == '"') out_ += "\\\"";
      else if (ch == '\n') out_ += "\\n";
      else out_ += ch;
    }
  }
  std::string out_;
};

std::uint64_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * std::uint64_t(sysconf(_SC_PAGESIZE));
}

std::uint64_t open_fds() {
  std::uint64_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    if (n) --n;  // the directory's own fd
  }
  return n;
}

}  // namespace

std::string AdminService::metrics_text() {
  Exposition x;
  const core::BrokerStats& st = broker_.stats();
  const auto& names = broker_.protocol_names();
  auto protocol = [&](std::size_t i) -> std::string_view { return i == 0 ? "internal" : std::string_view(names[i]); };

  x.family("junction_build_info", "gauge", "Version and node id of this broker (value 1).");
  x.sample("junction_build_info", {"version", sources_.version, "node_id", sources_.node_id}, 1);
  x.one("junction_uptime_seconds", "gauge", "Seconds since the broker started.",
        double(broker_.clock().wall_ms() - started_wall_ms_) / 1000.0);

  x.family("junction_connections", "gauge", "Open connections by protocol and listener.");
  if (sources_.listeners) {
    for (const ListenerInfo& l : sources_.listeners())
      x.sample("junction_connections", {"protocol", l.protocol, "listener", l.name}, double(l.connections));
  }
  x.one("junction_sessions", "gauge", "Sessions (connected, and persistent ones offline).", double(broker_.session_count()));
  x.family("junction_sessions_connected", "gauge", "Sessions with a live connection, by protocol (bridges included).");
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (!names[i].empty())
      x.sample("junction_sessions_connected", {"protocol", names[i]}, double(broker_.connected_count(core::ProtocolId{std::uint8_t(i)})));
  }

  x.family("junction_messages_received_total", "counter", "Messages published to the broker, by the publisher's protocol.");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i == 0 || !names[i].empty())
      x.sample("junction_messages_received_total", {"protocol", protocol(i)}, double(st.received_by_protocol[i]));
  }
  x.family("junction_messages_delivered_total", "counter", "Deliveries to subscribers and consumers, by their protocol.");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i == 0 || !names[i].empty())
      x.sample("junction_messages_delivered_total", {"protocol", protocol(i)}, double(st.delivered_by_protocol[i]));
  }
  x.family("junction_messages_dropped_total", "counter", "Messages or copies dropped, by reason.");
  x.sample("junction_messages_dropped_total", {"reason", "queue_full"}, double(st.dropped_qos0 - st.dropped_slow_consumer));
  x.sample("junction_messages_dropped_total", {"reason", "slow_consumer"}, double(st.dropped_slow_consumer));
  x.sample("junction_messages_dropped_total", {"reason", "oldest"}, double(st.dropped_oldest));
  x.sample("junction_messages_dropped_total", {"reason", "expired"}, double(st.expired));
  x.sample("junction_messages_dropped_total", {"reason", "duplicate"}, double(st.dedup_dropped));
  x.sample("junction_messages_dropped_total", {"reason", "unroutable"}, double(st.unroutable - st.unroutable_diverted));
  x.sample("junction_messages_dropped_total", {"reason", "delayed_target_full"}, double(st.delayed_dropped));
  x.family("junction_publishes_refused_total", "counter", "Publishes refused to their publisher, by reason.");
  x.sample("junction_publishes_refused_total", {"reason", "quota"}, double(st.refused_quota));
  x.sample("junction_publishes_refused_total", {"reason", "store_limit"}, double(st.refused_disk));
  x.sample("junction_publishes_refused_total", {"reason", "delay"}, double(st.delayed_refused));
  x.sample("junction_publishes_refused_total", {"reason", "sys_topic"}, double(st.sys_publish_refused));
  x.sample("junction_publishes_refused_total", {"reason", "dedup_id"}, double(st.dedup_refused));
  x.one("junction_slow_consumer_episodes_total", "counter", "Times a connection became a slow consumer.",
        double(st.slow_consumers));
  x.one("junction_wills_published_total", "counter", "Will messages published.", double(st.wills_published));

  if (sources_.traffic) {
    const TrafficInfo t = sources_.traffic();
    x.one("junction_network_received_bytes_total", "counter", "Bytes read from client and bridge sockets.",
          double(t.bytes_received));
    x.one("junction_network_sent_bytes_total", "counter", "Bytes written to client and bridge sockets.",
          double(t.bytes_sent));
    x.one("junction_connections_refused_total", "counter", "Connections closed at accept (limits).",
          double(t.connections_refused));
  }
  x.one("junction_subscriptions", "gauge", "Topic subscriptions.", double(broker_.subscription_count()));
  x.one("junction_retained_messages", "gauge", "Retained messages.", double(broker_.retained().size()));
  x.one("junction_delayed_messages", "gauge", "Delayed messages waiting for their time.", double(broker_.delayed().pending()));

  // Queues: one series each for the largest metrics_max_queues (label
  // cardinality stays bounded); the totals cover them all.
  std::vector<core::Queue*> queues = broker_.queues().list();
  std::uint64_t all_messages = 0;
  for (core::Queue* q : queues) all_messages += q->ready_count();
  x.one("junction_queues", "gauge", "Queues.", double(queues.size()));
  x.one("junction_queues_messages", "gauge", "Ready messages in all queues together.", double(all_messages));
  const std::size_t shown = std::min<std::size_t>(queues.size(), options_.metrics_max_queues);
  std::partial_sort(queues.begin(), queues.begin() + shown, queues.end(),
                    [](core::Queue* a, core::Queue* b) { return a->ready_count() > b->ready_count(); });
  x.one("junction_queue_series_omitted", "gauge", "Queues without their own series (http.metrics_max_queues).",
        double(queues.size() - shown));
  x.family("junction_queue_messages", "gauge", "Ready messages in a queue (memory and disk).");
  for (std::size_t i = 0; i < shown; ++i) x.sample("junction_queue_messages", {"queue", queues[i]->name()}, double(queues[i]->ready_count()));
  x.family("junction_queue_unacked", "gauge", "Messages delivered from a queue and not acknowledged yet.");
  for (std::size_t i = 0; i < shown; ++i) x.sample("junction_queue_unacked", {"queue", queues[i]->name()}, double(queues[i]->unacked_count()));
  x.family("junction_queue_consumers", "gauge", "Consumers of a queue.");
  for (std::size_t i = 0; i < shown; ++i) x.sample("junction_queue_consumers", {"queue", queues[i]->name()}, double(queues[i]->consumer_count()));
  x.family("junction_queue_bytes", "gauge", "Payload bytes a queue holds.");
  for (std::size_t i = 0; i < shown; ++i) x.sample("junction_queue_bytes", {"queue", queues[i]->name()}, double(queues[i]->bytes()));
  const core::QueueStats& qs = broker_.queues().stats();
  x.family("junction_queue_operations_total", "counter", "Queue message events, all queues together.");
  x.sample("junction_queue_operations_total", {"event", "enqueued"}, double(qs.enqueued));
  x.sample("junction_queue_operations_total", {"event", "delivered"}, double(qs.delivered));
  x.sample("junction_queue_operations_total", {"event", "acked"}, double(qs.acked));
  x.sample("junction_queue_operations_total", {"event", "redelivered"}, double(qs.redelivered));
  x.sample("junction_queue_operations_total", {"event", "dead_lettered"}, double(qs.dead_lettered));
  x.sample("junction_queue_operations_total", {"event", "expired"}, double(qs.expired));
  x.sample("junction_queue_operations_total", {"event", "rejected"}, double(qs.rejected));
  x.sample("junction_queue_operations_total", {"event", "dropped"}, double(qs.dropped));

  if (sources_.bridges) {
    const std::vector<BridgeInfo> bridges = sources_.bridges();
    x.family("junction_bridge_up", "gauge", "1 while the bridge's upstream connection is up.");
    for (const BridgeInfo& b : bridges) x.sample("junction_bridge_up", {"bridge", b.name, "kind", b.kind}, b.state == "up" ? 1 : 0);
    x.family("junction_bridge_outbox_messages", "gauge", "Messages waiting for the upstream or its confirm.");
    for (const BridgeInfo& b : bridges) x.sample("junction_bridge_outbox_messages", {"bridge", b.name}, double(b.outbox));
    x.family("junction_bridge_confirms_pending", "gauge", "Messages sent upstream, not confirmed yet.");
    for (const BridgeInfo& b : bridges) x.sample("junction_bridge_confirms_pending", {"bridge", b.name}, double(b.confirms_pending));
  }

  const core::Persistence::CommitStats& cs = broker_.persistence().commit_stats();
  x.histogram("junction_store_commit_duration_seconds", "Group commits: submit to completion.",
              core::Persistence::kLatencyBounds, cs.buckets, cs.count, cs.latency_sum_s);
  x.one("junction_store_commit_operations_total", "counter", "Records written or erased by group commits (batch sizes summed).",
        double(cs.ops_sum));
  x.one("junction_store_commits_failed_total", "counter", "Group commits that failed (disk full, I/O).", double(cs.failed));
  if (sources_.store) {
    const StoreInfo s = sources_.store();
    x.one("junction_store_used_bytes", "gauge", "Bytes of store pages holding records.", double(s.used_bytes));
    x.one("junction_store_free_disk_bytes", "gauge", "Free bytes of the store's filesystem.", double(s.free_disk_bytes));
    x.one("junction_store_map_size_bytes", "gauge", "Size of the store's memory map.", double(s.map_size));
  }

  if (sources_.loop) {
    const LoopInfo l = sources_.loop();
    x.histogram("junction_loop_iteration_seconds", "Busy time of each event-loop iteration (between two waits for I/O).",
                l.busy_seconds.bounds, l.busy_seconds.counts, l.busy_seconds.count, l.busy_seconds.sum);
    x.one("junction_loop_idle_seconds_total", "counter", "Time the event loop spent waiting for I/O.", l.idle_seconds);
  }

  x.one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", double(resident_bytes()));
  x.one("process_open_fds", "gauge", "Number of open file descriptors.", double(open_fds()));
  x.one("process_max_fds", "gauge", "Maximum number of open file descriptors.", double(sysconf(_SC_OPEN_MAX)));
  x.one("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
        double(started_wall_ms_) / 1000.0);
  return x.take();
}

}  // namespace junction::admin
