// junction::bench Engine — runs one client-side scenario (everything but
// sink) on one libuv loop, single-threaded.
//
// Phases:
//   Loading     --extra-subscriptions only: the TreeLoader's connections
//               subscribe their filters; they stay, idle, until Closing.
//   Connecting  connections open --connect-window at a time; subscribers
//               subscribe; a connection counts once CONNACK (+ SUBACK) came.
//   Warmup      publishers start; nothing is counted.
//   Measure     --duration seconds; counters are snapshotted at both ends and
//               the latency histogram only records inside.
//   Hold        conns only: every connection stays idle for --hold seconds.
//   Drain       publishing stops; waits until every QoS > 0 publish is
//               acknowledged and delivered (or until deliveries go quiet),
//               then counts what the broker acknowledged but never delivered.
//   Closing     DISCONNECT and close; after a deadline, abort what remains.
//
// queue --backlog N replaces Warmup and Measure with two phases, and
// Connecting opens the producers only:
//   Fill        the producers publish N messages in all (backlog_share())
//               and wait until each is answered; no consumer exists yet.
//   Consume     the measured window: the consumers connect and subscribe
//               as in Connecting, and it ends once every acknowledged
//               message was delivered (or after --duration). Then Drain.
//
// Publishing: each publisher has a window of --inflight packet ids (QoS >
// 0). Without --rate it sends as fast as the window refills (from the ack
// handler, QoS > 0) or as the socket drains (from a uv_idle, QoS 0, paused
// while the connection is backed up). With --rate a 1 ms timer releases what
// the schedule says is due. All output of an iteration leaves in one write
// per connection (Io::flush from uv_prepare and uv_check).
//
// Invariants: every handle the engine opens is closed before run() returns
// and uv_loop_close() succeeds; clients are destroyed only after uv_run().
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "progress.h"
#include "report.h"
#include "scenario.h"
#include "tracker.h"
#include "tree.h"

namespace junction::bench {

class Engine final : public ClientEvents, public TreeLoader::Listener {
 public:
  explicit Engine(const Options& o);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs to the end and fills `r`. Returns the exit code: 0, or 1 when the
  // run failed (r.error says why: broker unreachable, refused, closed...).
  int run(Result& r);

 private:
  enum class Phase : std::uint8_t { Loading, Connecting, Warmup, Measure, Hold, Fill, Consume, Drain, Closing };

  struct Pub {
    Client* client = nullptr;
    std::uint32_t index = 0;
    std::vector<std::uint16_t> free_ids;  // packet ids 1..inflight not in flight
    std::vector<std::uint32_t> seq_of;    // by packet id; kFree when not in flight
    std::uint32_t inflight = 0;
    std::uint32_t window = 0;  // min(--inflight, the broker's Receive Maximum)
    std::uint32_t next_seq = 0;
    std::uint32_t quota = 0;  // --backlog: this publisher's share of the fill
  };
  static constexpr std::uint32_t kFree = UINT32_MAX;

  // ClientEvents (traffic.cpp and engine.cpp).
  void on_ready(Client& c) override;
  void on_subscribed(Client& c) override;
  void on_message(Client& c, Bytes payload) override;
  void on_publish_ack(Client& c, std::uint16_t id, bool first, bool accepted, bool complete) override;
  void on_failure(Client& c, const std::string& why) override;
  void on_writable(Client& c) override;
  void on_closed(Client& c) override;

  // TreeLoader::Listener (engine.cpp): --extra-subscriptions.
  void on_tree_connected() override;
  void on_tree_ready() override;
  void on_tree_failure(const std::string& why) override;
  void on_tree_closed() override;

  // engine.cpp: lifecycle.
  bool setup(std::string& error);
  std::string check_extra_topics() const;
  void begin_loading();
  void begin_connecting();
  bool all_closed() const { return closed_ == clients_.size() && (!tree_ || tree_->closed()); }
  void connect_next();
  void handshake_done(Client& c);
  void begin_traffic();
  void begin_measure();
  void end_measure();
  void record_cpu();
  void begin_fill();
  void check_fill();
  void record_fill(bool limited);
  void begin_consume();
  void check_consumed();
  void record_consume(bool limited);
  void begin_drain();
  void check_drain();
  void begin_close(bool graceful);
  void close_handles();
  void fatal(const std::string& why);
  void tick();
  void interrupt();
  std::string role_name(const Client& c) const;
  bool is_publisher(const Client& c) const { return c.index() >= subs_; }
  bool publishing() const { return phase_ == Phase::Warmup || phase_ == Phase::Measure || phase_ == Phase::Fill; }
  bool fill_done() const;

  // traffic.cpp: publishing.
  void pump_all();
  bool pump_one(Pub& p, std::uint64_t now);  // true when it may send more right away
  std::uint32_t undelivered(const Pub& p) const;  // QoS 0 window use
  void send(Pub& p, std::uint32_t n, std::uint64_t now);
  void wake_idle();

  static void on_prepare(uv_prepare_t* h);
  static void on_check(uv_check_t* h);
  static void on_idle(uv_idle_t* h);
  static void on_pace(uv_timer_t* h);
  static void on_tick(uv_timer_t* h);
  static void on_phase(uv_timer_t* h);
  static void on_signal(uv_signal_t* h, int signum);

  Options o_;
  Topology topo_;
  Result r_;
  Progress progress_;
  uv_loop_t loop_{};
  std::unique_ptr<Io> io_;
  sockaddr_storage addr_{};
  std::uint32_t run_id_ = 0;

  std::vector<std::unique_ptr<Client>> clients_;  // subscribers first, then publishers
  std::unique_ptr<TreeLoader> tree_;              // --extra-subscriptions
  std::uint32_t subs_ = 0;
  std::vector<Pub> pubs_;
  LossTracker tracker_;
  bool track_loss_ = false;
  // QoS 0 window (Options::qos0_window): highest sequence + 1 each group has
  // received from each publisher, [group * publishers + pub], and the groups
  // each publisher feeds.
  bool window0_ = false;
  std::vector<std::uint32_t> seen_;
  std::vector<std::vector<std::uint32_t>> pub_groups_;
  Histogram hist_;

  Phase phase_ = Phase::Connecting;
  // Clients [next_connect_, connect_end_) are still to be opened: all of
  // them, or with --backlog the producers first and the consumers later.
  std::uint32_t next_connect_ = 0;
  std::uint32_t connect_end_ = 0;
  std::uint32_t handshaking_ = 0;
  std::uint32_t ready_ = 0;
  std::uint32_t closed_ = 0;
  bool handles_closed_ = false;
  bool idle_active_ = false;
  std::uint32_t batch0_ = 64;  // QoS 0 messages per publisher per iteration

  std::uint64_t t_connect_ = 0, t_traffic_ = 0, t_measure_ = 0, t_drain_ = 0, t_fill_ = 0, t_tree_ = 0;
  std::uint64_t last_delivery_ms_ = 0;
  double rate_per_pub_ = 0;

  // Running totals; the window figures are differences of snapshots.
  std::uint64_t published_ = 0, delivered_ = 0, acked_ = 0, rejected_ = 0, foreign_ = 0;
  std::uint64_t consumed_ = 0;  // --backlog: distinct messages of this run delivered
  std::uint64_t snap_pub_ = 0, snap_del_ = 0, snap_ack_ = 0, snap_rej_ = 0;
  std::uint64_t tick_pub_ = 0, tick_del_ = 0, tick_ready_ = 0, tick_tree_ = 0;
  std::uint64_t tick_ns_ = 0;
  double cpu_self0_ = 0;
  std::optional<double> cpu_broker0_;

  uv_prepare_t prepare_{};
  uv_check_t check_{};
  uv_idle_t idle_{};
  uv_timer_t pace_{};
  uv_timer_t tick_timer_{};
  uv_timer_t phase_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
};

}  // namespace junction::bench
