// junction::bench state: RssAnon growth per subscription and per retained
// message (state.h). One loop, two connections, three readings.
#include "state.h"

#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mqtt_client.h"
#include "progress.h"
#include "scenario.h"
#include "tree.h"

namespace junction::bench {

namespace {

// Before each reading: lets the broker finish what an acknowledgement does
// not wait for (freeing read buffers, background commits, its once-a-second
// housekeeping, which in Junction moves retained bodies at rest out of the
// heap): memory at rest is what "held" means. 3 s covers two such ticks.
constexpr std::uint64_t kSettleMs = 3000;
constexpr std::uint64_t kCloseDeadlineMs = 3000;

double seconds_since(std::uint64_t t0) { return static_cast<double>(uv_hrtime() - t0) / 1e9; }

class StateRun final : public ClientEvents, public TreeLoader::Listener {
 public:
  explicit StateRun(const Options& o) : o_(o), progress_(Progress::wanted(o.quiet, o.json_path)) {
    uv_loop_init(&loop_);
    io_ = std::make_unique<Io>(&loop_);
    std::random_device rd;
    run_id_ = rd() | 1u;
  }
  ~StateRun() override {
    publisher_.reset();  // closed: run() returns only after uv_run()
    tree_.reset();
    io_.reset();
  }
  StateRun(const StateRun&) = delete;
  StateRun& operator=(const StateRun&) = delete;

  int run(Result& out);

 private:
  // Each Settle* step ends with the reading of its name.
  enum class Step : std::uint8_t {
    Connecting, SettleBefore, Subscribing, SettleSubscribed, Retaining, SettleRetained, Closing
  };

  // ClientEvents: the publisher (the subscriber is the TreeLoader's).
  void on_ready(Client& c) override;
  void on_subscribed(Client&) override {}
  void on_message(Client&, Bytes) override {}  // it subscribes to nothing
  void on_publish_ack(Client& c, std::uint16_t id, bool first, bool accepted, bool complete) override;
  void on_failure(Client&, const std::string& why) override { fatal("publisher: " + why); }
  void on_writable(Client&) override {}
  void on_closed(Client&) override;

  // TreeLoader::Listener: the subscriber.
  void on_tree_connected() override { connected_one(); }
  void on_tree_ready() override;
  void on_tree_failure(const std::string& why) override { fatal(why); }
  void on_tree_closed() override;

  bool open_connections(std::string& error);
  void connected_one();
  void settle(Step step);
  void read_and_continue();
  std::optional<std::uint64_t> reading();
  void publish_more();
  void begin_close(bool graceful);
  bool all_closed() const { return publisher_closed_ && tree_->closed(); }
  void close_handles();
  void fatal(const std::string& why);
  void tick();

  static void on_flush_prepare(uv_prepare_t* h) { static_cast<StateRun*>(h->data)->io_->flush(); }
  static void on_flush_check(uv_check_t* h) { static_cast<StateRun*>(h->data)->io_->flush(); }
  static void on_timer(uv_timer_t* h) { static_cast<StateRun*>(h->data)->read_and_continue(); }
  static void on_tick(uv_timer_t* h) { static_cast<StateRun*>(h->data)->tick(); }
  static void on_signal(uv_signal_t* h, int);

  Options o_;
  Result r_;
  Progress progress_;
  uv_loop_t loop_{};
  std::unique_ptr<Io> io_;
  sockaddr_storage addr_{};
  std::uint32_t run_id_ = 0;
  std::unique_ptr<MqttClient> publisher_;
  std::unique_ptr<TreeLoader> tree_;
  std::string payload_;
  std::vector<std::uint16_t> free_ids_;  // packet ids 1..window not in flight
  std::vector<bool> busy_;               // by packet id: in flight
  std::uint32_t window_ = 0, inflight_ = 0, next_ = 0, acked_ = 0;
  std::uint32_t connected_ = 0;
  std::uint64_t t_step_ = 0;
  std::uint64_t tick_ns_ = 0, tick_count_ = 0;
  Step step_ = Step::Connecting;
  bool publisher_closed_ = false;
  bool handles_closed_ = false;

  uv_prepare_t prepare_{};
  uv_check_t check_{};
  uv_timer_t timer_{};  // the pauses, then the close deadline
  uv_timer_t tick_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
};

int StateRun::run(Result& out) {
  r_.options = o_;
  r_.description = build_topology(o_).description;
  r_.run_id = run_id_;
  std::string error;
  if (!read_rss_anon_kb(o_.broker_pid)) {
    error = "cannot read RssAnon from /proc/" + std::to_string(o_.broker_pid) +
            "/status: --broker-pid must be the broker's process id";
  } else {
    const int rc = o_.ipv6 ? uv_ip6_addr(o_.host.c_str(), o_.port, reinterpret_cast<sockaddr_in6*>(&addr_))
                           : uv_ip4_addr(o_.host.c_str(), o_.port, reinterpret_cast<sockaddr_in*>(&addr_));
    if (rc != 0) error = "bad address " + o_.host;
  }
  if (!error.empty()) {
    r_.error = error;
    uv_loop_close(&loop_);
    out = std::move(r_);
    return 1;
  }
  prepare_.data = check_.data = timer_.data = tick_timer_.data = sigint_.data = sigterm_.data = this;
  uv_prepare_init(&loop_, &prepare_);
  uv_prepare_start(&prepare_, &StateRun::on_flush_prepare);
  uv_check_init(&loop_, &check_);
  uv_check_start(&check_, &StateRun::on_flush_check);
  uv_timer_init(&loop_, &timer_);
  uv_timer_init(&loop_, &tick_timer_);
  uv_timer_start(&tick_timer_, &StateRun::on_tick, 1000, 1000);
  uv_signal_init(&loop_, &sigint_);
  uv_signal_start(&sigint_, &StateRun::on_signal, SIGINT);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_start(&sigterm_, &StateRun::on_signal, SIGTERM);
  tick_ns_ = uv_hrtime();
  if (!open_connections(error)) fatal(error);
  uv_run(&loop_, UV_RUN_DEFAULT);
  progress_.finish();
  if (uv_loop_close(&loop_) != 0 && r_.error.empty()) r_.error = "internal: the loop closed with handles open";
  out = std::move(r_);
  return out.error.empty() ? 0 : 1;
}

bool StateRun::open_connections(std::string& error) {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "jb%08x", run_id_);
  // One client holds all K filters, whatever their number.
  tree_ = std::make_unique<TreeLoader>(o_, *io_, *this, std::string(kStateRoot), o_.state_items, prefix,
                                       o_.state_items);
  publisher_ = std::make_unique<MqttClient>(*io_, *this, 0, o_.mqtt_version);
  const auto* addr = reinterpret_cast<const sockaddr*>(&addr_);
  int rc = publisher_->connect(addr, std::string(prefix) + "-p");
  if (rc == 0) rc = tree_->start(addr);
  if (rc == 0) return true;
  error = std::string("cannot open a connection: ") + uv_strerror(rc) + " (" + uv_err_name(rc) + ")";
  return false;
}

void StateRun::on_ready(Client&) {
  window_ = std::min(o_.inflight, publisher_->send_quota());
  busy_.assign(window_ + 1, false);
  for (std::uint32_t id = window_; id >= 1; --id) free_ids_.push_back(static_cast<std::uint16_t>(id));
  connected_one();
}

// Both connections exist before the first reading: their own cost is not
// the subscriptions'.
void StateRun::connected_one() {
  if (step_ == Step::Connecting && ++connected_ == 2) settle(Step::SettleBefore);
}

void StateRun::settle(Step step) {
  step_ = step;
  uv_timer_start(&timer_, &StateRun::on_timer, kSettleMs, 0);
}

std::optional<std::uint64_t> StateRun::reading() {
  auto kb = read_rss_anon_kb(o_.broker_pid);
  if (!kb) fatal("the broker's RssAnon is no longer readable (did it exit?)");
  return kb;
}

void StateRun::read_and_continue() {
  switch (step_) {
    case Step::SettleBefore:
      if (!(r_.rss_anon_before_kb = reading())) return;
      step_ = Step::Subscribing;
      t_step_ = uv_hrtime();
      tree_->subscribe();
      break;
    case Step::SettleSubscribed:
      if (!(r_.rss_anon_subscribed_kb = reading())) return;
      step_ = Step::Retaining;
      t_step_ = uv_hrtime();
      payload_.assign(o_.size, 'r');
      publish_more();
      break;
    case Step::SettleRetained:
      if (!(r_.rss_anon_retained_kb = reading())) return;
      begin_close(true);
      break;
    case Step::Closing:  // deadline: abort what did not close gracefully
      publisher_->abort();
      tree_->close(false);
      break;
    default: break;
  }
}

void StateRun::on_tree_ready() {
  if (step_ != Step::Subscribing) return;
  r_.subscribe_s = seconds_since(t_step_);
  settle(Step::SettleSubscribed);
}

void StateRun::publish_more() {
  const Bytes payload(reinterpret_cast<const std::uint8_t*>(payload_.data()), payload_.size());
  while (!free_ids_.empty() && next_ < o_.state_items) {
    const std::uint16_t id = free_ids_.back();
    free_ids_.pop_back();
    busy_[id] = true;
    ++inflight_;
    publisher_->publish_to(retained_topic(next_++), 1, true, id, payload);
  }
}

void StateRun::on_publish_ack(Client&, std::uint16_t id, bool first, bool accepted, bool complete) {
  if (step_ != Step::Retaining) return;
  if (id == 0 || id > window_ || !busy_[id]) {
    fatal("publisher: acknowledgement for packet id " + std::to_string(id) + ", which is not in flight");
    return;
  }
  if (first && !accepted) {
    fatal("the broker refused a retained message (reason code >= 0x80) after " + std::to_string(acked_));
    return;
  }
  if (!complete) return;
  busy_[id] = false;
  free_ids_.push_back(id);
  --inflight_;
  if (++acked_ == o_.state_items) {
    r_.retain_s = seconds_since(t_step_);
    settle(Step::SettleRetained);
    return;
  }
  publish_more();
}

void StateRun::begin_close(bool graceful) {
  if (step_ == Step::Closing) return;
  step_ = Step::Closing;
  uv_timer_stop(&tick_timer_);
  progress_.finish();
  if (graceful) {
    publisher_->disconnect();
  } else {
    publisher_->abort();
  }
  tree_->close(graceful);
  io_->flush();
  uv_timer_start(&timer_, &StateRun::on_timer, kCloseDeadlineMs, 0);
  if (all_closed()) close_handles();
}

void StateRun::on_closed(Client&) {
  publisher_closed_ = true;
  if (step_ == Step::Closing && all_closed()) close_handles();
}

void StateRun::on_tree_closed() {
  if (step_ == Step::Closing && all_closed()) close_handles();
}

void StateRun::close_handles() {
  if (handles_closed_) return;
  handles_closed_ = true;
  for (auto* h : {reinterpret_cast<uv_handle_t*>(&prepare_), reinterpret_cast<uv_handle_t*>(&check_),
                  reinterpret_cast<uv_handle_t*>(&timer_), reinterpret_cast<uv_handle_t*>(&tick_timer_),
                  reinterpret_cast<uv_handle_t*>(&sigint_), reinterpret_cast<uv_handle_t*>(&sigterm_)})
    uv_close(h, nullptr);
}

void StateRun::fatal(const std::string& why) {
  if (step_ == Step::Closing) return;
  if (r_.error.empty()) r_.error = why;
  begin_close(false);
}

void StateRun::on_signal(uv_signal_t* h, int) {
  auto* self = static_cast<StateRun*>(h->data);
  self->r_.interrupted = true;
  if (self->step_ == Step::Closing) {
    self->publisher_->abort();
    self->tree_->close(false);
    return;
  }
  self->fatal("interrupted before the last RssAnon reading");
}

void StateRun::tick() {
  if (!progress_.enabled()) return;
  const std::uint64_t now = uv_hrtime();
  const double dt = static_cast<double>(now - tick_ns_) / 1e9;
  tick_ns_ = now;
  const std::uint64_t count = step_ == Step::Subscribing ? tree_->acknowledged() : acked_;
  const std::string rate = short_rate(static_cast<double>(count - std::min(count, tick_count_)) / dt);
  tick_count_ = count;
  char line[160];
  switch (step_) {
    case Step::Connecting: std::snprintf(line, sizeof line, "state  connecting"); break;
    case Step::Subscribing:
      std::snprintf(line, sizeof line, "state  subscribed %llu/%u  %s/s", static_cast<unsigned long long>(count),
                    o_.state_items, rate.c_str());
      break;
    case Step::Retaining:
      std::snprintf(line, sizeof line, "state  retained %u/%u acknowledged  %s/s  inflight %u", acked_,
                    o_.state_items, rate.c_str(), inflight_);
      break;
    default: std::snprintf(line, sizeof line, "state  pausing before reading the broker's RssAnon"); break;
  }
  progress_.update(line);
}

}  // namespace

int run_state(const Options& o, Result& r) {
  StateRun s(o);
  return s.run(r);
}

}  // namespace junction::bench
