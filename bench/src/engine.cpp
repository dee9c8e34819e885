// junction::bench Engine: set-up, connection handshakes, phases, shutdown,
// progress. The traffic itself (publish pump, deliveries, acks) is in
// traffic.cpp.
#include "engine.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <random>

namespace junction::bench {

namespace {

constexpr std::uint64_t kCloseDeadlineMs = 3000;
constexpr std::uint64_t kDrainPollMs = 50;
constexpr std::uint64_t kFdReserve = 64;  // stdio, the loop's own fds, the JSON file

double seconds_since(std::uint64_t t0) { return static_cast<double>(uv_hrtime() - t0) / 1e9; }

std::uint64_t ms(double s) { return static_cast<std::uint64_t>(s * 1000.0 + 0.5); }

// Raises the soft open-file limit to the hard one; returns the soft limit.
std::uint64_t nofile_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit up = rl;
    up.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
  }
  return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : static_cast<std::uint64_t>(rl.rlim_cur);
}

}  // namespace

Engine::Engine(const Options& o)
    : o_(o), topo_(build_topology(o)), progress_(Progress::wanted(o.quiet, o.json_path)) {
  uv_loop_init(&loop_);
  io_ = std::make_unique<Io>(&loop_);
  std::random_device rd;
  run_id_ = rd() | 1u;
}

Engine::~Engine() {
  clients_.clear();  // every stream is closed: run() returns only after uv_run()
  tree_.reset();
  io_.reset();
}

bool Engine::setup(std::string& error) {
  int rc = o_.ipv6 ? uv_ip6_addr(o_.host.c_str(), o_.port, reinterpret_cast<sockaddr_in6*>(&addr_))
                   : uv_ip4_addr(o_.host.c_str(), o_.port, reinterpret_cast<sockaddr_in*>(&addr_));
  if (rc != 0) {
    error = "bad address " + o_.host;
    return false;
  }
  const std::uint64_t limit = nofile_limit();
  // --extra-subscriptions: their connections come out of the same limit.
  const std::uint64_t reserve = kFdReserve + TreeLoader::connections_for(o_.extra_subscriptions);
  const std::uint64_t usable = limit > reserve ? limit - reserve : 0;
  r_.nofile_limit = limit;
  r_.connections_requested = o_.connections;
  if (o_.scenario == Scenario::Conns && o_.connections > usable) {
    std::fprintf(stderr,
                 "junction-bench: conns: -K %u capped to %llu: the open-file limit (RLIMIT_NOFILE) is %llu and cannot "
                 "be raised further; %llu descriptors are kept for the tool itself and --extra-subscriptions\n",
                 o_.connections, static_cast<unsigned long long>(usable), static_cast<unsigned long long>(limit),
                 static_cast<unsigned long long>(reserve));
    o_.connections = static_cast<std::uint32_t>(usable);
    r_.capped = true;
    topo_ = build_topology(o_);
    r_.options = o_;
    r_.description = topo_.description + " (capped by RLIMIT_NOFILE " + std::to_string(limit) + ")";
  }
  const std::size_t total = topo_.subscribers.size() + topo_.publishers.size();
  if (total > usable) {
    error = std::to_string(total) + " connections needed but the open-file limit allows about " +
            std::to_string(usable);
    return false;
  }
  if (std::string why = check_extra_topics(); !why.empty()) {
    error = why;
    return false;
  }
  subs_ = static_cast<std::uint32_t>(topo_.subscribers.size());
  for (std::uint32_t i = 0; i < total; ++i) {
    std::string why;
    auto c = make_client(o_, *io_, *this, i, why);
    if (!c) {
      error = why;
      return false;
    }
    clients_.push_back(std::move(c));
  }
  pubs_.resize(topo_.publishers.size());
  for (std::uint32_t i = 0; i < pubs_.size(); ++i) {
    Pub& p = pubs_[i];
    p.client = clients_[subs_ + i].get();
    p.index = i;
    if (o_.backlog > 0) p.quota = backlog_share(o_, i);
    if (o_.qos > 0) {
      p.seq_of.assign(o_.inflight + 1, kFree);
      for (std::uint32_t id = o_.inflight; id >= 1; --id) p.free_ids.push_back(static_cast<std::uint16_t>(id));
    }
  }
  track_loss_ = o_.qos > 0 && o_.size >= kStampSize && !pubs_.empty();
  window0_ = o_.qos == 0 && o_.qos0_window > 0 && o_.rate == 0 && o_.size >= kStampSize && !pubs_.empty();
  if (window0_) {
    seen_.assign(topo_.feeds.size() * pubs_.size(), 0);
    pub_groups_.assign(pubs_.size(), {});
    for (std::uint32_t g = 0; g < topo_.feeds.size(); ++g)
      for (std::uint32_t p : topo_.feeds[g]) pub_groups_[p].push_back(g);
  }
  if (track_loss_) tracker_.init(static_cast<std::uint32_t>(pubs_.size()), topo_.feeds);
  const std::uint32_t msg = o_.size + 64;
  batch0_ = std::max<std::uint32_t>(1, std::min<std::uint32_t>(1024, 64 * 1024 / msg));
  if (o_.extra_subscriptions > 0) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "jb%08x", run_id_);
    tree_ = std::make_unique<TreeLoader>(o_, *io_, *this, extra_tree_root(o_), o_.extra_subscriptions, prefix);
  }
  return true;
}

// --extra-subscriptions must not change what is delivered: refuses a run
// whose published topics have a shape the extra filters match (a --topic
// or --queue-name like x1/2, w3, y4). TreeLoader fails the run as well
// should a message reach one of its connections anyway.
std::string Engine::check_extra_topics() const {
  if (o_.extra_subscriptions == 0) return "";
  const std::string root = extra_tree_root(o_);
  for (const PublisherSpec& p : topo_.publishers) {
    if (tree_may_match(root, p.topic))
      return "--extra-subscriptions: the published topic " + p.topic + " may match the extra filters (" + root +
             "/x<n>/<n>, " + root + "/+/w<n>, " + root + "/y<n>/#); choose another --topic or --queue-name";
  }
  return "";
}

int Engine::run(Result& out) {
  r_.options = o_;
  if (o_.persistent && o_.protocol == Protocol::Mqtt) topo_.description += ", persistent subscriber sessions";
  if (o_.extra_subscriptions > 0)
    topo_.description += ", " + std::to_string(o_.extra_subscriptions) + " extra subscriptions under " +
                         extra_tree_root(o_) + "/";
  r_.description = topo_.description;
  r_.run_id = run_id_;
  std::string error;
  if (!setup(error)) {
    r_.error = error;
    for (auto& c : clients_) c->abort();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    out = std::move(r_);
    return 1;
  }
  prepare_.data = check_.data = idle_.data = this;
  pace_.data = tick_timer_.data = phase_timer_.data = sigint_.data = sigterm_.data = this;
  uv_prepare_init(&loop_, &prepare_);
  uv_prepare_start(&prepare_, &Engine::on_prepare);
  uv_check_init(&loop_, &check_);
  uv_check_start(&check_, &Engine::on_check);
  uv_idle_init(&loop_, &idle_);
  uv_timer_init(&loop_, &pace_);
  uv_timer_init(&loop_, &tick_timer_);
  uv_timer_init(&loop_, &phase_timer_);
  uv_timer_start(&tick_timer_, &Engine::on_tick, 1000, 1000);
  uv_signal_init(&loop_, &sigint_);
  uv_signal_start(&sigint_, &Engine::on_signal, SIGINT);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_start(&sigterm_, &Engine::on_signal, SIGTERM);

  tick_ns_ = uv_hrtime();
  if (tree_) {
    begin_loading();
  } else {
    begin_connecting();
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  progress_.finish();
  if (uv_loop_close(&loop_) != 0 && r_.error.empty()) r_.error = "internal: the loop closed with handles open";

  r_.published_total = published_;
  r_.delivered_total = delivered_;
  r_.acked_total = acked_;
  r_.foreign = foreign_;
  r_.duplicates = tracker_.duplicates();
  if (r_.measured_s > 0) r_.latency = hist_;
  out = std::move(r_);
  return out.error.empty() ? 0 : 1;
}

// --extra-subscriptions: the tree goes in before any client of the
// scenario connects, so the window measures a broker that already holds it.
void Engine::begin_loading() {
  phase_ = Phase::Loading;
  t_tree_ = uv_hrtime();
  r_.extra_connections = tree_->connections();
  const int rc = tree_->start(reinterpret_cast<const sockaddr*>(&addr_));
  if (rc != 0)
    fatal(std::string("cannot open the extra subscription connections: ") + uv_strerror(rc) + " (" +
          uv_err_name(rc) + ")");
}

void Engine::on_tree_connected() {
  if (phase_ == Phase::Loading) tree_->subscribe();
}

void Engine::on_tree_ready() {
  if (phase_ != Phase::Loading) return;
  r_.extra_subscribe_s = seconds_since(t_tree_);
  begin_connecting();
}

void Engine::on_tree_failure(const std::string& why) {
  if (phase_ == Phase::Closing) return;
  const bool unreachable = phase_ == Phase::Loading && why.find(": connect: ") != std::string::npos;
  fatal(unreachable ? why + "; is the broker running?" : why);
}

void Engine::on_tree_closed() {
  if (phase_ == Phase::Closing && all_closed()) close_handles();
}

// conns reads the broker's RSS only now: the extra subscriptions are not
// the connections' cost.
void Engine::begin_connecting() {
  phase_ = Phase::Connecting;
  if (o_.scenario == Scenario::Conns) r_.rss_before_kb = read_rss_kb(o_.broker_pid);
  // --backlog: the producers fill the queue before any consumer exists.
  next_connect_ = o_.backlog > 0 ? subs_ : 0;
  connect_end_ = static_cast<std::uint32_t>(clients_.size());
  t_connect_ = uv_hrtime();
  connect_next();
}

std::string Engine::role_name(const Client& c) const {
  if (is_publisher(c)) return "publisher " + std::to_string(c.index() - subs_);
  return (o_.scenario == Scenario::Conns ? "connection " : "subscriber ") + std::to_string(c.index());
}

void Engine::connect_next() {
  while ((phase_ == Phase::Connecting || phase_ == Phase::Consume) && handshaking_ < o_.connect_window &&
         next_connect_ < connect_end_) {
    Client& c = *clients_[next_connect_++];
    if (!o_.wait_connack && !is_publisher(c))
      (void)c.subscribe_with_connect(topo_.subscribers[c.index()].filter, o_.qos);
    char id[48];
    std::snprintf(id, sizeof id, "jb%08x-%u", run_id_, c.index());
    const int rc = c.connect(reinterpret_cast<const sockaddr*>(&addr_), id, o_.persistent && !is_publisher(c));
    if (rc != 0) {
      fatal("cannot open " + role_name(c) + " after " + std::to_string(ready_) + " connections: " +
            uv_strerror(rc) + " (" + uv_err_name(rc) + ")");
      return;
    }
    ++handshaking_;
  }
}

void Engine::on_ready(Client& c) {
  if (phase_ == Phase::Closing) return;
  if (is_publisher(c)) {
    Pub& p = pubs_[c.index() - subs_];
    p.window = std::min(o_.inflight, c.send_quota());
    if (o_.dedup_ids) c.use_dedup_ids(o_.id_property);
    c.prepare_publish(topo_.publishers[c.index() - subs_].topic, o_.qos, o_.size);
    handshake_done(c);
  } else if (!c.subscribed_with_connect()) {
    c.subscribe(topo_.subscribers[c.index()].filter, o_.qos);
  }
}

void Engine::on_subscribed(Client& c) {
  if (phase_ == Phase::Closing) return;
  handshake_done(c);
}

void Engine::handshake_done(Client&) {
  --handshaking_;
  ++ready_;
  if (handshaking_ > 0 || next_connect_ < connect_end_) {
    connect_next();
    return;
  }
  // --backlog consumers join a window that is already running (or over:
  // the backlog may be drained before the last consumer subscribes).
  if (phase_ != Phase::Connecting) return;
  r_.connections = ready_;
  r_.connect_s = seconds_since(t_connect_);
  if (o_.scenario == Scenario::Conns) {
    r_.rss_connected_kb = read_rss_kb(o_.broker_pid);
    phase_ = Phase::Hold;
    uv_timer_start(&phase_timer_, &Engine::on_phase, ms(o_.hold_s), 0);
    return;
  }
  if (o_.backlog > 0) {
    begin_fill();
    return;
  }
  begin_traffic();
}

void Engine::begin_traffic() {
  phase_ = Phase::Warmup;
  t_traffic_ = uv_hrtime();
  last_delivery_ms_ = uv_now(&loop_);
  rate_per_pub_ = pubs_.empty() ? 0 : o_.rate / static_cast<double>(pubs_.size());
  if (rate_per_pub_ > 0) {
    uv_timer_start(&pace_, &Engine::on_pace, 1, 1);
  } else if (o_.qos == 0) {
    wake_idle();
  }
  pump_all();
  if (o_.warmup_s > 0) {
    uv_timer_start(&phase_timer_, &Engine::on_phase, ms(o_.warmup_s), 0);
  } else {
    begin_measure();
  }
}

void Engine::begin_measure() {
  phase_ = Phase::Measure;
  t_measure_ = uv_hrtime();
  snap_pub_ = published_;
  snap_del_ = delivered_;
  snap_ack_ = acked_;
  snap_rej_ = rejected_;
  cpu_self0_ = self_cpu_s();
  cpu_broker0_ = read_cpu_s(o_.broker_pid);
  hist_.reset();
  uv_timer_start(&phase_timer_, &Engine::on_phase, ms(o_.duration_s), 0);
}

void Engine::end_measure() {
  r_.measured_s = seconds_since(t_measure_);
  r_.published = published_ - snap_pub_;
  r_.delivered = delivered_ - snap_del_;
  r_.acked = acked_ - snap_ack_;
  r_.rejected = rejected_ - snap_rej_;
  record_cpu();
  begin_drain();
}

void Engine::record_cpu() {
  if (r_.measured_s <= 0) return;
  r_.generator_cpu_pct = (self_cpu_s() - cpu_self0_) / r_.measured_s * 100.0;
  const auto b = read_cpu_s(o_.broker_pid);
  if (b && cpu_broker0_) r_.broker_cpu_pct = (*b - *cpu_broker0_) / r_.measured_s * 100.0;
}

// --backlog: the producers publish their shares as fast as the window (or
// --rate) allows. Nobody consumes yet, so the queue must store all of it.
void Engine::begin_fill() {
  phase_ = Phase::Fill;
  t_fill_ = t_traffic_ = uv_hrtime();
  rate_per_pub_ = pubs_.empty() ? 0 : o_.rate / static_cast<double>(pubs_.size());
  if (rate_per_pub_ > 0) uv_timer_start(&pace_, &Engine::on_pace, 1, 1);
  uv_timer_start(&phase_timer_, &Engine::on_phase, ms(o_.duration_s), 0);
  pump_all();
  check_fill();
}

bool Engine::fill_done() const {
  for (const Pub& p : pubs_)
    if (p.next_seq < p.quota || p.inflight > 0) return false;
  return true;
}

// Called on each completed acknowledgement: the fill ends when every
// message of every share is answered (acknowledged or rejected). Until the
// last one is sent, the counter spares the walk over the producers.
void Engine::check_fill() {
  if (phase_ != Phase::Fill || published_ < o_.backlog || !fill_done()) return;
  record_fill(false);
  if (o_.fill_only) {
    track_loss_ = false;  // nothing is consumed here: nothing can be counted lost
    begin_close(true);
    return;
  }
  begin_consume();
}

void Engine::record_fill(bool limited) {
  uv_timer_stop(&pace_);
  r_.fill_s = seconds_since(t_fill_);
  r_.fill_limited = limited;
  r_.published = published_;
  r_.acked = acked_;
  r_.rejected = rejected_;
}

// The measured window starts before the first consumer connects: a broker
// that is slow to hand a stored backlog to a new subscriber shows in it.
void Engine::begin_consume() {
  phase_ = Phase::Consume;
  t_measure_ = uv_hrtime();
  last_delivery_ms_ = uv_now(&loop_);
  snap_del_ = delivered_;
  cpu_self0_ = self_cpu_s();
  cpu_broker0_ = read_cpu_s(o_.broker_pid);
  hist_.reset();
  uv_timer_start(&phase_timer_, &Engine::on_phase, ms(o_.duration_s), 0);
  next_connect_ = 0;
  connect_end_ = subs_;
  connect_next();
  check_consumed();  // everything rejected: nothing to wait for
}

// The window ends once every acknowledged message arrived. consumed_ (new
// distinct deliveries) is the cheap gate; the tracker then confirms that
// they are the acknowledged ones. A producer still waiting for an answer
// (a fill cut by the limit) may yet add to the backlog.
void Engine::check_consumed() {
  if (phase_ != Phase::Consume || consumed_ < acked_) return;
  for (const Pub& p : pubs_)
    if (p.inflight > 0) return;
  if (tracker_.outstanding() == 0) {
    record_consume(false);
    begin_drain();
  }
}

void Engine::record_consume(bool limited) {
  r_.measured_s = r_.backlog_drained_s = seconds_since(t_measure_);
  r_.drain_limited = limited;
  r_.delivered = delivered_ - snap_del_;
  record_cpu();
}

void Engine::begin_drain() {
  phase_ = Phase::Drain;
  t_drain_ = uv_hrtime();
  last_delivery_ms_ = uv_now(&loop_);
  uv_timer_stop(&pace_);
  if (idle_active_) {
    uv_idle_stop(&idle_);
    idle_active_ = false;
  }
  uv_timer_start(&phase_timer_, &Engine::on_phase, kDrainPollMs, kDrainPollMs);
}

void Engine::check_drain() {
  const double elapsed = seconds_since(t_drain_);
  bool acks_done = true;
  for (const Pub& p : pubs_) acks_done = acks_done && p.inflight == 0;
  const std::uint64_t quiet_ms = uv_now(&loop_) - last_delivery_ms_;
  bool done;
  if (o_.qos == 0) {
    done = quiet_ms >= 200 || elapsed >= 5.0;
  } else {
    const bool all_delivered = track_loss_ && tracker_.outstanding() == 0;
    done = elapsed >= 10.0 || (acks_done && (all_delivered || quiet_ms >= (track_loss_ ? 1000u : 300u)));
  }
  if (!done) return;
  r_.drain_s = elapsed;
  if (track_loss_) r_.lost = tracker_.lost();
  begin_close(true);
}

void Engine::begin_close(bool graceful) {
  if (phase_ == Phase::Closing) return;
  phase_ = Phase::Closing;
  uv_timer_stop(&pace_);
  uv_timer_stop(&tick_timer_);
  if (idle_active_) {
    uv_idle_stop(&idle_);
    idle_active_ = false;
  }
  progress_.finish();
  for (auto& c : clients_) {
    if (o_.scenario == Scenario::Conns) {
      c->reset();  // see Stream::reset: the next run starts from a clean kernel state
    } else if (graceful) {
      c->disconnect();
    } else {
      c->abort();
    }
  }
  if (tree_) tree_->close(graceful);
  io_->flush();
  uv_timer_start(&phase_timer_, &Engine::on_phase, kCloseDeadlineMs, 0);
  if (all_closed()) close_handles();
}

void Engine::close_handles() {
  if (handles_closed_) return;
  handles_closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&pace_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&phase_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
}

void Engine::fatal(const std::string& why) {
  if (r_.error.empty()) r_.error = why;
  // A failed backlog run still says how far it got (a broker at its queue
  // limit closes MQTT 3.1.1 and STOMP producers: they cannot be refused).
  if (phase_ == Phase::Fill) record_fill(false);
  if (phase_ == Phase::Consume) record_consume(false);
  begin_close(false);
}

void Engine::on_failure(Client& c, const std::string& why) {
  if (phase_ == Phase::Closing) return;
  if (phase_ == Phase::Connecting && why.rfind("connect: ", 0) == 0) {
    std::string msg = "cannot connect to " + o_.host + ":" + std::to_string(o_.port) + ": " + why.substr(9);
    if (ready_ == 0) {
      msg += "; is the broker running?";
    } else {
      msg += " (" + role_name(c) + ", after " + std::to_string(ready_) + " connections)";
    }
    fatal(msg);
    return;
  }
  std::string msg = role_name(c) + ": " + why;
  if (phase_ == Phase::Connecting) msg += " (after " + std::to_string(ready_) + " connections were ready)";
  fatal(msg);
}

void Engine::on_closed(Client&) {
  ++closed_;
  if (phase_ == Phase::Closing && all_closed()) close_handles();
}

void Engine::interrupt() {
  r_.interrupted = true;
  switch (phase_) {
    case Phase::Loading: fatal("interrupted while subscribing the extra filters"); break;
    case Phase::Connecting: fatal("interrupted while connecting"); break;
    case Phase::Warmup: begin_close(true); break;
    case Phase::Measure: end_measure(); break;
    case Phase::Fill:
      record_fill(false);
      begin_close(true);
      break;
    case Phase::Consume:
      record_consume(false);
      begin_drain();
      break;
    case Phase::Hold:
      r_.rss_after_kb = read_rss_kb(o_.broker_pid);
      begin_close(true);
      break;
    case Phase::Drain:
      if (track_loss_) r_.lost = tracker_.lost();
      begin_close(true);
      break;
    case Phase::Closing:
      for (auto& c : clients_) c->abort();
      break;
  }
}

void Engine::on_prepare(uv_prepare_t* h) { static_cast<Engine*>(h->data)->io_->flush(); }
void Engine::on_check(uv_check_t* h) { static_cast<Engine*>(h->data)->io_->flush(); }
void Engine::on_tick(uv_timer_t* h) { static_cast<Engine*>(h->data)->tick(); }
void Engine::on_signal(uv_signal_t* h, int) { static_cast<Engine*>(h->data)->interrupt(); }

void Engine::on_phase(uv_timer_t* h) {
  auto* self = static_cast<Engine*>(h->data);
  switch (self->phase_) {
    case Phase::Warmup: self->begin_measure(); break;
    case Phase::Measure: self->end_measure(); break;
    case Phase::Hold:
      self->r_.rss_after_kb = read_rss_kb(self->o_.broker_pid);
      self->begin_close(true);
      break;
    case Phase::Fill:  // --duration limit: drain what was stored
      self->record_fill(true);
      self->begin_consume();
      break;
    case Phase::Consume:
      self->record_consume(true);
      self->begin_drain();
      break;
    case Phase::Drain: self->check_drain(); break;
    case Phase::Closing:  // deadline: abort what did not close gracefully
      for (auto& c : self->clients_) c->abort();
      if (self->tree_) self->tree_->close(false);
      break;
    case Phase::Loading:
    case Phase::Connecting: break;
  }
}

void Engine::tick() {
  if (!progress_.enabled()) return;
  const std::uint64_t now = uv_hrtime();
  const double dt = static_cast<double>(now - tick_ns_) / 1e9;
  tick_ns_ = now;
  const double pub = static_cast<double>(published_ - tick_pub_) / dt;
  const double del = static_cast<double>(delivered_ - tick_del_) / dt;
  const double conn = static_cast<double>(ready_ - tick_ready_) / dt;
  tick_pub_ = published_;
  tick_del_ = delivered_;
  tick_ready_ = ready_;
  char line[256];
  switch (phase_) {
    case Phase::Loading: {
      const std::uint64_t acks = tree_->acknowledged();
      std::snprintf(line, sizeof line, "%s  extra subscriptions %llu/%u  %s/s", scenario_name(o_.scenario),
                    static_cast<unsigned long long>(acks), o_.extra_subscriptions,
                    short_rate(static_cast<double>(acks - tick_tree_) / dt).c_str());
      tick_tree_ = acks;
      break;
    }
    case Phase::Connecting:
      std::snprintf(line, sizeof line, "%s  connecting %u/%zu  %s conn/s", scenario_name(o_.scenario), ready_,
                    o_.backlog > 0 ? pubs_.size() : clients_.size(), short_rate(conn).c_str());
      break;
    case Phase::Fill: {
      std::uint32_t inflight = 0;
      for (const Pub& p : pubs_) inflight += p.inflight;
      std::snprintf(line, sizeof line, "%s  fill %.0fs  %llu/%llu acknowledged  pub %s/s  inflight %u",
                    scenario_name(o_.scenario), seconds_since(t_fill_), static_cast<unsigned long long>(acked_),
                    static_cast<unsigned long long>(o_.backlog), short_rate(pub).c_str(), inflight);
      break;
    }
    case Phase::Consume:
      std::snprintf(line, sizeof line, "%s  drain %.0f/%.0fs  consumers %zu/%u  recv %s/s  %llu left",
                    scenario_name(o_.scenario), seconds_since(t_measure_), o_.duration_s, ready_ - pubs_.size(),
                    subs_, short_rate(del).c_str(),
                    static_cast<unsigned long long>(acked_ > consumed_ ? acked_ - consumed_ : 0));
      break;
    case Phase::Hold:
      std::snprintf(line, sizeof line, "%s  holding %u connections  broker RSS %s KiB", scenario_name(o_.scenario),
                    ready_, o_.broker_pid > 0 ? std::to_string(read_rss_kb(o_.broker_pid).value_or(0)).c_str() : "?");
      break;
    case Phase::Warmup:
    case Phase::Measure: {
      std::uint32_t inflight = 0;  // QoS 0: sent, not yet received by every group
      for (const Pub& p : pubs_) inflight += window0_ ? undelivered(p) : p.inflight;
      const bool m = phase_ == Phase::Measure;
      const double t = m ? seconds_since(t_measure_) : seconds_since(t_traffic_);
      std::string lat;
      if (m && hist_.count() > 0)
        lat = "  p50 " + std::to_string(hist_.value_at_percentile(50) / 1000) + "us p99 " +
              std::to_string(hist_.value_at_percentile(99) / 1000) + "us";
      std::snprintf(line, sizeof line, "%s  %s %.0f/%.0fs  pub %s/s  recv %s/s  inflight %u%s",
                    scenario_name(o_.scenario), m ? "measure" : "warmup", t, m ? o_.duration_s : o_.warmup_s,
                    short_rate(pub).c_str(), short_rate(del).c_str(), inflight, lat.c_str());
      break;
    }
    case Phase::Drain:
      std::snprintf(line, sizeof line, "%s  draining (%llu outstanding)", scenario_name(o_.scenario),
                    static_cast<unsigned long long>(track_loss_ ? tracker_.outstanding() : 0));
      break;
    case Phase::Closing: return;
  }
  progress_.update(line);
}

}  // namespace junction::bench
