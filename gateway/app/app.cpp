// The composition: App::start() builds every box from the configuration,
// App::reload() applies what can change live, the shutdown sequence ends
// in finish(). See app.h.
#include "app.h"

#include <algorithm>
#include <csignal>
#include <stdexcept>

#include "log.h"
#include "module_options.h"
#include "mqtt_protocol.h"
#include "http_protocol.h"
#include "stomp_protocol.h"
#include "transport_setup.h"

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace junction::app {

namespace {

constexpr std::int64_t kShutdownGraceMs = 2000;
constexpr std::uint64_t kShutdownPollMs = 20;

// Sections SIGHUP cannot apply (bridges it can). Line numbers do not count.
bool needs_restart(const Config& a, const Config& b) {
  if (a.listeners.size() != b.listeners.size() || !(a.store == b.store) || !(a.limits == b.limits) ||
      a.queues != b.queues || !(a.stomp == b.stomp) || !(a.auth == b.auth) || !(a.sys == b.sys) ||
      !(a.delays == b.delays) || !(a.dedup == b.dedup) || !(a.shared_subscriptions == b.shared_subscriptions) ||
      !(a.unroutable == b.unroutable) || a.plugins.size() != b.plugins.size())
    return true;
  for (std::size_t i = 0; i < a.plugins.size(); ++i) {
    PluginConfig x = a.plugins[i], y = b.plugins[i];
    x.line = y.line = 0;
    if (!(x == y)) return true;
  }
  for (std::size_t i = 0; i < a.listeners.size(); ++i) {
    ListenerConfig x = a.listeners[i], y = b.listeners[i];
    x.line = y.line = 0;
    if (!(x == y)) return true;
  }
  return false;
}

}  // namespace

App::App(Config cfg, std::string config_path, std::unique_ptr<auth::AuthService> access)
    : cfg_(std::move(cfg)), config_path_(std::move(config_path)), access_(std::move(access)) {}

App::~App() {
  // The store's writer thread must stop waking an Async that is about to
  // go (LmdbStore: once set_notifier returns, the old one is not running).
  if (store_) store_->set_notifier([] {});
  broker_ptr_ = nullptr;
}

void App::request_reload() { reload_wake_.send(); }

void App::request_shutdown() { shutdown_wake_.send(); }

std::vector<std::uint16_t> App::listener_ports() const {
  std::vector<std::uint16_t> ports(cfg_.listeners.size(), 0);
  for (std::size_t g = 0; g < groups_.size(); ++g)
    for (std::size_t i : groups_[g]) ports[i] = listeners_[g]->port();
  return ports;
}

void App::arm_due_timer(std::int64_t due_ms) {
  // Armed for the earliest due time asked for; a later one waits its turn
  // (run() asks again for the next one after each run).
  if (due_ms == core::DelayedMessages::kNever || due_ms >= due_timer_at_ || shutting_down_) return;
  due_timer_at_ = due_ms;
  loop_.arm(due_timer_, static_cast<std::uint64_t>(std::max<std::int64_t>(0, due_ms - clock_.wall_ms())));
}

void App::start() {
  store_ = open_store(cfg_.store);
  broker_ = std::make_unique<core::Broker>(broker_config(cfg_), *store_, clock_);
  broker_->set_access_control(access_.get());
  if (access_) {
    log::notice("auth: password file %s (%zu users), ACL file %s (%zu rules)",
                cfg_.auth.password_file.empty() ? "none" : cfg_.auth.password_file.c_str(), access_->user_count(),
                cfg_.auth.acl_file.empty() ? "none" : cfg_.auth.acl_file.c_str(), access_->rule_count());
  }
  std::int64_t t0 = clock_.now_ms();
  // Retained messages load in the background (restore_step below), so a
  // store with a million of them does not delay accepting clients.
  broker_->restore(/*retained_in_background=*/true);
  log::notice("store %s (%s, %s): restored %zu sessions, %zu subscriptions in %lld ms%s",
              store_->name(), durability_name(cfg_.store.durability),
              cfg_.store.durability == Durability::Memory ? "no disk" : cfg_.store.path.c_str(),
              broker_->session_count(), broker_->subscription_count(),
              static_cast<long long>(clock_.now_ms() - t0),
              broker_->restoring() ? "; loading retained messages" : "");
  start_plugins();
  broker_ptr_ = broker_.get();
  store_->set_notifier([this] { store_wake_.send(); });

  std::vector<core::ProtocolFactory*> factories;
  for (const ListenerConfig& lc : cfg_.listeners) {
    switch (lc.protocol) {
      case Protocol::Mqtt:
        protocols_.push_back(std::make_unique<mqtt::MqttProtocol>(*broker_, mqtt_options(cfg_, lc)));
        break;
      case Protocol::Stomp:
        protocols_.push_back(std::make_unique<stomp::StompProtocol>(*broker_, stomp_options(cfg_, lc)));
        break;
      case Protocol::Http:
        protocols_.push_back(std::make_unique<http::HttpProtocol>(*broker_, admin_service(), http_options(cfg_)));
        break;
    }
    factories.push_back(protocols_.back().get());
  }
  loop_.set_admission_limits({cfg_.limits.max_connections, cfg_.limits.max_connect_rate});
  // WebSocket entries on one port with different paths share a socket.
  groups_ = listener_groups(cfg_.listeners);
  for (const auto& group : groups_) {
    const ListenerConfig& lc = cfg_.listeners[group.front()];
    net::ListenerSpec spec = listener_spec(cfg_.limits, lc);
    listeners_.push_back(std::make_unique<net::Listener>(loop_, std::move(spec), *factories[group.front()],
                                                         make_transport(cfg_.listeners, group, factories)));
  }

  bridges_ = std::make_unique<BridgeSet>(loop_, *broker_);
  bridges_->start(cfg_);

  start_sys_topics();

  due_timer_ = loop_.alarm([this] {
    due_timer_at_ = core::DelayedMessages::kNever;
    broker_->run_delayed();
  });
  broker_->set_timer_wakeup([this](std::int64_t due_ms) { arm_due_timer(due_ms); });
  arm_due_timer(broker_->next_timer_ms());  // overdue after a restart: at once

  loop_.on_iteration_end([this] { broker_->flush(); });  // group commit
  loop_.every(1000, [this] {
    broker_->tick();
    if (sys_ && !shutting_down_) sys_->tick();
    bridges_->tick();
  });
  loop_.on_signal(SIGTERM, [this](int) { begin_shutdown("SIGTERM"); });
  loop_.on_signal(SIGINT, [this](int) { begin_shutdown("SIGINT"); });
  loop_.on_signal(SIGHUP, [this](int) { reload(); });

  // The ready lines: tests and scripts wait for these, after every bind.
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (std::size_t i : groups_[g]) {
      const ListenerConfig& lc = cfg_.listeners[i];
      log::notice("listening: %s/%s %s%s", protocol_name(lc.protocol), net::transport_name(lc.transport),
                  listeners_[g]->address().c_str(), lc.path.c_str());
    }
  }
  if (broker_->restoring()) load_retained_step();
}

int App::run() {
  int rc = loop_.run();
  if (rc != 0) return kExitUnclean;  // already logged by the loop
  log::notice("stopped");
  return kExitOk;
}

void App::begin_shutdown(const char* why) {
  if (shutting_down_) {
    log::notice("%s again: closing %zu connections now", why, loop_.connection_count());
    loop_.abort_connections();
    return;
  }
  shutting_down_ = true;
  log::notice("%s: shutting down, %zu connections to close", why, loop_.connection_count());
  for (auto& l : listeners_) l->stop_accepting();
  for (auto& p : protocols_) p->shutdown();
  bridges_->stop();
  broker_->shutdown();
  deadline_ms_ = clock_.now_ms() + kShutdownGraceMs;
  shutdown_poll_ = loop_.every(kShutdownPollMs, [this] { poll_shutdown(); });
}

// The admin API's view of what only this composition knows (listeners,
// bridges, the store's files, traffic), read when a request asks.
admin::AdminService& App::admin_service() {
  if (admin_) return *admin_;
  admin::AdminSources src;
  src.version = JUNCTION_VERSION;
  src.node_id = default_node_id(cfg_.store);
  src.listeners = [this] {
    std::vector<admin::ListenerInfo> out;
    for (std::size_t g = 0; g < groups_.size() && g < listeners_.size(); ++g) {
      for (std::size_t i : groups_[g]) {
        const ListenerConfig& lc = cfg_.listeners[i];
        admin::ListenerInfo l;
        l.protocol = protocol_name(lc.protocol);
        l.transport = net::transport_name(lc.transport);
        l.bind = lc.bind;
        l.port = listeners_[g]->port();
        l.path = lc.path;
        l.name = l.protocol + "/" + l.transport + " " + listeners_[g]->address() + lc.path;
        l.connections = protocols_[i]->counters().connections;
        out.push_back(std::move(l));
      }
    }
    return out;
  };
  src.bridges = [this] {
    std::vector<admin::BridgeInfo> out;
    const std::int64_t wall_minus_mono = clock_.wall_ms() - clock_.now_ms();
    for (const BridgeStatus& b : bridges_->status()) {
      admin::BridgeInfo i;
      i.name = b.name;
      i.kind = b.name.substr(0, b.name.find(':'));
      i.state = b.state;
      i.upstream = b.endpoint;
      i.outbox = b.outbox;
      i.confirms_pending = b.confirms_pending;
      i.last_error = b.last_error;
      i.since_wall_ms = b.started_ms + wall_minus_mono;
      out.push_back(std::move(i));
    }
    return out;
  };
  src.store = [this] {
    admin::StoreInfo s;
    s.engine = store_->name();
    s.path = cfg_.store.durability == Durability::Memory ? "" : cfg_.store.path;
    s.mode = durability_name(cfg_.store.durability);
    s.map_size = store_->map_size();
    const store::StoreSpace& sp = broker_->store_space();
    s.used_bytes = sp.used_bytes;
    s.free_disk_bytes = sp.free_disk_bytes;
    return s;
  };
  src.traffic = [this] {
    const net::Traffic t = loop_.traffic();
    admin::TrafficInfo i{t.bytes_received, t.bytes_sent, 0};
    for (const auto& l : listeners_) i.connections_refused += l->refused();
    return i;
  };
  src.loop = [this] {
    const net::IterationStats& st = loop_.iteration_stats();
    admin::LoopInfo i;
    i.busy_seconds.bounds.assign(st.kBounds.begin(), st.kBounds.end());
    i.busy_seconds.counts.assign(st.buckets.begin(), st.buckets.end());
    i.busy_seconds.count = st.count;
    i.busy_seconds.sum = st.busy_sum_s;
    i.idle_seconds = st.idle_sum_s;
    return i;
  };
  admin::AdminOptions opt;
  opt.require_auth = !cfg_.auth.password_file.empty();
  opt.admin_users = cfg_.http.admin_users;
  opt.public_metrics = cfg_.http.public_metrics;
  opt.metrics_max_queues = cfg_.http.metrics_max_queues;
  admin_ = std::make_unique<admin::AdminService>(*broker_, std::move(src), std::move(opt));
  return *admin_;
}

// The $SYS tree: the core's figures plus what only the net layer and the
// front-ends count, read once per interval (sys_topics.h).
void App::start_sys_topics() {
  if (cfg_.sys.interval_s == 0) return;
  sys_ = std::make_unique<core::SysTopics>(*broker_, cfg_.sys.interval_s, "junction " JUNCTION_VERSION);
  sys_->add_source([this](core::SysReport& r) {
    const net::Traffic t = loop_.traffic();
    r.add("bytes/received", t.bytes_received);
    r.add("bytes/sent", t.bytes_sent);
    std::uint64_t refused = 0;
    for (const auto& l : listeners_) refused += l->refused();
    r.add("connections/refused", refused);
    std::uint64_t limited = 0;
    for (const auto& p : protocols_) limited += p->counters().rate_limited;
    r.add("publish/rate_limited", limited);
    // Mosquitto's name for a bridge's state: 1 connected, 0 not; and what
    // waits for the upstream (an outage is watched by this number growing).
    for (const BridgeStatus& b : bridges_->status()) {
      r.add("connection/" + b.name + "/state", std::string_view(b.state) == "up" ? 1 : 0);
      r.add("connection/" + b.name + "/outbox", b.outbox);
    }
  });
  sys_->start();
}

// One chunk of retained messages per loop iteration (a 0 ms timer does
// not let poll sleep), so clients are served between chunks.
void App::load_retained_step() {
  loop_.after(0, [this] {
    if (shutting_down_) return;
    try {
      if (broker_->restore_step()) load_retained_step();
    } catch (const std::exception& e) {
      log::error("loading retained messages failed: %s; shutting down", e.what());
      begin_shutdown("retained messages not loaded");
    }
  });
}

void App::poll_shutdown() {
  bridges_->poll();
  if (loop_.connection_count() == 0 && bridges_->stopped()) {
    loop_.cancel(shutdown_poll_);
    shutdown_poll_ = nullptr;
    finish();
    return;
  }
  if (!aborted_ && clock_.now_ms() >= deadline_ms_) {
    aborted_ = true;
    log::warning("%zu connections still open after %lld ms; closing them", loop_.connection_count(),
                 static_cast<long long>(kShutdownGraceMs));
    loop_.abort_connections();  // their close callbacks run before the next poll
  }
}

void App::finish() {
  // Plugins' cleanup while their timers can still be cancelled.
  if (plugins_) plugins_->shutdown();
  // Whatever the last close callbacks produced goes to the store too.
  broker_->flush();
  store_->flush();
  store_->set_notifier([] {});
  log::notice("store flushed");
  loop_.stop();
}

// New certificate files at the configured paths; a file that does not
// load keeps the listener on its running certificates.
void App::reload_certificates() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const ListenerConfig& lc = cfg_.listeners[groups_[g].front()];
    const auto& running = listeners_[g]->transport();
    if (!running || !running->tls) continue;
    try {
      listeners_[g]->set_transport(reload_tls(*running, lc.tls));
      log::notice("SIGHUP: %s: reloaded %s", listeners_[g]->name().c_str(), lc.tls.cert_file.c_str());
    } catch (const std::exception& e) {
      log::error("SIGHUP: %s: %s; keeping the running certificates", listeners_[g]->name().c_str(), e.what());
    }
  }
}

// The password and ACL files named at start-up are read again, and every
// plugin hears JN_EVT_RELOAD (its rules may change with it).
void App::reload_auth() {
  bool changed = false;
  if (access_) {
    if (auto error = access_->reload()) {
      log::error("SIGHUP: %s; keeping the running password and ACL files", error->c_str());
    } else {
      log::notice("SIGHUP: reloaded auth: %zu users, %zu ACL rules", access_->user_count(), access_->rule_count());
      changed = true;
    }
  }
  if (plugins_ && plugins_->size() > 0) {
    plugins_->reload();
    if (plugin_access_) plugin_access_->rules_changed();
    changed = true;
  }
  if (changed) broker_->access_changed();
}

// The `plugins:` chain: loaded in config order (a failure stops start-up),
// then the broker's hooks and, when a plugin authenticates or authorizes,
// the chain in place of the password and ACL files alone.
void App::start_plugins() {
  if (cfg_.plugins.empty()) return;
  plugins_ = std::make_unique<plugins::PluginHost>(loop_, *broker_);
  plugins_->load(cfg_.plugins, cfg_.source);
  const bool placed = std::any_of(cfg_.plugins.begin(), cfg_.plugins.end(),
                                  [](const PluginConfig& p) { return !p.builtin.empty(); });
  if (plugins::PluginAccessControl::needed(*plugins_) || placed) {
    plugin_access_ = std::make_unique<plugins::PluginAccessControl>(*plugins_, access_.get(), cfg_.plugins, cfg_.source);
    broker_->set_access_control(plugin_access_.get());
    log::notice("auth: chain %s", plugin_access_->describe().c_str());
  }
  broker_->set_hooks(plugins_.get(), plugins_->hook_kinds());
}

void App::reload() {
  reload_certificates();
  reload_auth();
  if (config_path_.empty()) {
    log::notice("SIGHUP: running the built-in default configuration; nothing to reload");
    return;
  }
  Config next;
  try {
    next = load_config(config_path_);
  } catch (const ConfigError& e) {
    log::error("SIGHUP: %s; keeping the running configuration", e.what());
    return;
  }
  log::set_level(next.log.level);
  log::notice("SIGHUP: reloaded %s: log level %s", config_path_.c_str(), log::level_name(next.log.level));
  if (needs_restart(cfg_, next)) {
    log::warning("SIGHUP: %s changes listeners, store, limits, delays, dedup or auth file names; those take effect after a restart",
                 config_path_.c_str());
  }
  cfg_.log = next.log;
  bridges_->reload(next);
  cfg_.xmpp = next.xmpp;
  cfg_.bridges = next.bridges;
}

}  // namespace junction::app
