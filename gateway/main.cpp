// junction — the composition root (DESIGN §6): command line, configuration,
// store, broker, protocol front-ends, listeners, signals, run. Nothing
// includes this file; it is the only place that knows every box.
//
//   junction [--config FILE] [--check-config] [--version]
//   junction passwd [-c] [-b] [-D] FILE USER [PASSWORD]   (passwd_command.h)
//
// Exit codes: 0 clean exit (or --version, --help, --check-config OK); 1 a
// configuration or command-line error (message on stderr); 2 start-up
// failed (store, bind);
// 3 the event loop closed with handles still open (a bug, logged).
//
// Shutdown (SIGTERM, SIGINT): listeners stop accepting, each MQTT front-end
// sends DISCONNECT and closes after flushing, the broker writes session
// state; connections get kShutdownGraceMs to finish, then the rest are
// aborted; the store is flushed, the loop stops and must close cleanly.
// A second signal aborts the remaining connections at once.
// SIGHUP re-reads the file and applies what can change live (the log level),
// reloads TLS certificate files (new connections use them) and re-reads the
// password and ACL files (auth_service.h): connected clients lose access
// that was taken away; a bad file is logged and the old one kept.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "auth_file_error.h"
#include "auth_service.h"
#include "bridges.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "listener.h"
#include "lmdb_store.h"
#include "log.h"
#include "loop.h"
#include "mem_store.h"
#include "mqtt_protocol.h"
#include "passwd_command.h"
#include "stomp_protocol.h"
#include "sys_topics.h"
#include "transport_setup.h"
#include "xmpp_bridge.h"

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace junction {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitStartup = 2;
constexpr int kExitUnclean = 3;
constexpr std::int64_t kShutdownGraceMs = 2000;
constexpr std::uint64_t kShutdownPollMs = 20;

std::unique_ptr<store::Store> open_store(const StoreConfig& s) {
  if (s.durability == Durability::Memory) return std::make_unique<store::MemStore>();
  std::error_code ec;
  std::filesystem::create_directories(s.path, ec);
  if (ec) throw std::runtime_error("cannot create the data directory " + s.path + ": " + ec.message());
  store::LmdbOptions o;
  o.path = s.path;
  o.durability = s.durability == Durability::Sync ? store::Durability::Sync : store::Durability::Batch;
  o.sync_interval_ms = s.sync_interval_ms;
  o.initial_map_size = static_cast<std::size_t>(s.map_size_mb) << 20;
  o.max_map_size = static_cast<std::size_t>(s.max_map_size_mb) << 20;
  return std::make_unique<store::LmdbStore>(o);
}

core::BrokerConfig broker_config(const Config& cfg) {
  const LimitsConfig& l = cfg.limits;
  core::BrokerConfig b;
  b.max_queued_messages = l.max_queued_messages;
  b.max_queued_bytes = l.max_queued_bytes;
  b.max_inflight = l.max_inflight;
  b.max_session_expiry_s = l.max_session_expiry;
  b.slow_consumer_ms = l.slow_consumer_ms;
  b.queue_policies = [queues = cfg.queues](std::string_view name) {
    core::QueuePolicy p;
    if (const QueueConfig* q = match_queue_config(queues, name)) {
      p.max_length = q->max_length;
      p.max_bytes = q->max_bytes;
      p.overflow = q->drop_head ? core::Overflow::DropHead : core::Overflow::RejectPublish;
      p.max_deliveries = q->max_deliveries;
      p.dead_letter = q->dead_letter;
      p.ttl_ms = static_cast<std::int64_t>(q->ttl_ms);
    }
    return p;
  };
  return b;
}

frontend::ClientOptions client_options(const Config& cfg, const ListenerConfig& l) {
  frontend::ClientOptions o;
  o.outbound_limit = static_cast<std::size_t>(cfg.limits.outbound_buffer);
  o.max_publish_rate = cfg.limits.max_publish_rate;
  o.allow_anonymous = l.allow_anonymous;
  return o;
}

mqtt::MqttOptions mqtt_options(const Config& cfg, const ListenerConfig& l) {
  const LimitsConfig& limits = cfg.limits;
  mqtt::MqttOptions o;
  o.client = client_options(cfg, l);
  o.max_packet_size = limits.max_packet_size;
  o.max_keepalive = limits.max_keepalive;
  o.receive_maximum = limits.receive_maximum;
  o.topic_alias_maximum = limits.topic_alias_maximum;
  o.disconnect_on_denied_publish_v3 = cfg.auth.disconnect_on_denied_publish_v3;
  return o;
}

// The password and ACL files; null when the configuration names neither.
// Throws auth::AuthFileError ("FILE:LINE: ...").
std::unique_ptr<auth::AuthService> load_auth(const AuthConfig& a) {
  if (a.password_file.empty() && a.acl_file.empty()) return nullptr;
  return std::make_unique<auth::AuthService>(auth::AuthFiles{a.password_file, a.acl_file});
}

stomp::StompOptions stomp_options(const Config& cfg, const ListenerConfig& l) {
  stomp::StompOptions o;
  o.client = client_options(cfg, l);
  o.limits.max_frame_size = cfg.stomp.max_frame_size;
  o.limits.max_headers = cfg.stomp.max_headers;
  o.limits.max_header_line = cfg.stomp.max_header_line;
  o.heart_beat_send_ms = cfg.stomp.heart_beat_ms;
  o.heart_beat_receive_ms = cfg.stomp.heart_beat_ms;
  o.default_prefetch = cfg.stomp.prefetch;
  return o;
}

xmpp::XmppOptions xmpp_options(const XmppConfig& x) {
  xmpp::XmppOptions o;
  o.component = x.component;
  o.secret = x.secret;
  o.scope = x.scope;
  o.qos = x.qos;
  o.retain_pubsub = x.retain_pubsub;
  o.offline_limit = x.offline_limit;
  o.limits.max_stanza_bytes = x.max_stanza_size;
  return o;
}

net::ListenerSpec listener_spec(const LimitsConfig& limits, const ListenerConfig& l) {
  net::ListenerSpec s;
  s.bind = l.bind;
  s.port = l.port;
  s.name = l.name;
  s.max_connections = l.max_connections;
  // on_drained must be able to fire before the front-end's own limit is
  // reached, so high water stays below outbound_buffer.
  std::uint64_t high = std::min<std::uint64_t>(s.high_water, limits.outbound_buffer / 2);
  s.high_water = static_cast<std::uint32_t>(high);
  s.low_water = static_cast<std::uint32_t>(high / 4);
  return s;
}

// Sections SIGHUP cannot apply. Listener line numbers do not count.
bool needs_restart(const Config& a, const Config& b) {
  if (a.listeners.size() != b.listeners.size() || !(a.store == b.store) || !(a.limits == b.limits) ||
      a.queues != b.queues || !(a.stomp == b.stomp) || !(a.auth == b.auth) || !(a.xmpp == b.xmpp) ||
      a.bridges != b.bridges || !(a.sys == b.sys))
    return true;
  for (std::size_t i = 0; i < a.listeners.size(); ++i) {
    ListenerConfig x = a.listeners[i], y = b.listeners[i];
    x.line = y.line = 0;
    if (!(x == y)) return true;
  }
  return false;
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

// Everything the running broker owns. Members are declared in dependency
// order, so they are destroyed in reverse: listeners before front-ends,
// front-ends before the broker, the broker before the store, all before the
// loop.
class App {
 public:
  App(Config cfg, std::string config_path, std::unique_ptr<auth::AuthService> access)
      : cfg_(std::move(cfg)), config_path_(std::move(config_path)), access_(std::move(access)) {}

  ~App() {
    // The store's writer thread must stop waking an Async that is about to
    // go (LmdbStore: once set_notifier returns, the old one is not running).
    if (store_) store_->set_notifier([] {});
    broker_ptr_ = nullptr;
  }

  // Start-up; throws std::runtime_error (store, bind) with a message.
  void start() {
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
    broker_ptr_ = broker_.get();
    store_->set_notifier([this] { store_wake_.send(); });

    std::vector<core::ProtocolFactory*> factories;
    for (const ListenerConfig& lc : cfg_.listeners) {
      if (lc.protocol == "mqtt") {
        protocols_.push_back(std::make_unique<mqtt::MqttProtocol>(*broker_, mqtt_options(cfg_, lc)));
      } else if (lc.protocol == "stomp") {
        protocols_.push_back(std::make_unique<stomp::StompProtocol>(*broker_, stomp_options(cfg_, lc)));
      } else {
        throw std::runtime_error("protocol '" + lc.protocol + "' is not built into this binary");
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

    if (cfg_.xmpp.enabled) {
      // The XMPP bridge: one outbound component connection, kept up by the Connector.
      xmpp_ = std::make_unique<xmpp::XmppBridge>(*broker_, xmpp_options(cfg_.xmpp));
      net::ConnectorSpec spec;
      spec.endpoints.push_back(net::Endpoint{cfg_.xmpp.host, cfg_.xmpp.port});
      spec.name = "xmpp " + cfg_.xmpp.component;
      xmpp_connector_ = std::make_unique<net::Connector>(loop_, spec, *xmpp_);
      xmpp_connector_->start();
      log::notice("xmpp bridge: component %s via %s:%u", cfg_.xmpp.component.c_str(), cfg_.xmpp.host.c_str(),
                  unsigned(cfg_.xmpp.port));
    }

    bridges_ = std::make_unique<Bridges>(loop_, *broker_, cfg_);
    bridges_->start();

    start_sys_topics();

    loop_.on_iteration_end([this] { broker_->flush(); });  // group commit
    loop_.every(1000, [this] {
      broker_->tick();
      if (sys_ && !shutting_down_) sys_->tick();
      bridges_->tick();
    });
    loop_.on_signal(SIGTERM, [this](int s) { begin_shutdown(s); });
    loop_.on_signal(SIGINT, [this](int s) { begin_shutdown(s); });
    loop_.on_signal(SIGHUP, [this](int) { reload(); });

    // The ready lines: tests and scripts wait for these, after every bind.
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      for (std::size_t i : groups_[g]) {
        const ListenerConfig& lc = cfg_.listeners[i];
        log::notice("listening: %s/%s %s%s", lc.protocol.c_str(), lc.transport.c_str(),
                    listeners_[g]->address().c_str(), lc.path.c_str());
      }
    }
    if (broker_->restoring()) load_retained_step();
  }

  // Runs until shutdown; returns the exit code.
  int run() {
    int rc = loop_.run();
    if (rc != 0) return kExitUnclean;  // already logged by the loop
    log::notice("stopped");
    return kExitOk;
  }

 private:
  void begin_shutdown(int signo) {
    if (shutting_down_) {
      log::notice("%s again: closing %zu connections now", signal_name(signo), loop_.connection_count());
      loop_.abort_connections();
      return;
    }
    shutting_down_ = true;
    log::notice("%s: shutting down, %zu connections to close", signal_name(signo), loop_.connection_count());
    for (auto& l : listeners_) l->stop_accepting();
    for (auto& p : protocols_) p->shutdown();
    if (xmpp_) xmpp_->shutdown();  // </stream:stream>; the connector stops once it is closed
    bridges_->shutdown();
    broker_->shutdown();
    deadline_ms_ = clock_.now_ms() + kShutdownGraceMs;
    shutdown_poll_ = loop_.every(kShutdownPollMs, [this] { poll_shutdown(); });
  }

  // The $SYS tree: the core's figures plus what only the net layer and the
  // front-ends count, read once per interval (sys_topics.h).
  void start_sys_topics() {
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
    });
    sys_->start();
  }

  // One chunk of retained messages per loop iteration (a 0 ms timer does
  // not let poll sleep), so clients are served between chunks.
  void load_retained_step() {
    loop_.after(0, [this] {
      if (shutting_down_) return;
      try {
        if (broker_->restore_step()) load_retained_step();
      } catch (const std::exception& e) {
        log::error("loading retained messages failed: %s; shutting down", e.what());
        begin_shutdown(SIGTERM);
      }
    });
  }

  void poll_shutdown() {
    if (xmpp_connector_ && xmpp_connector_->running() && !xmpp_connector_->connected()) xmpp_connector_->stop();
    if (loop_.connection_count() == 0) {
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

  void finish() {
    // Whatever the last close callbacks produced goes to the store too.
    broker_->flush();
    store_->flush();
    store_->set_notifier([] {});
    log::notice("store flushed");
    loop_.stop();
  }

  // New certificate files at the configured paths; a file that does not
  // load keeps the listener on its running certificates.
  void reload_certificates() {
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

  // The password and ACL files named at start-up are read again.
  void reload_auth() {
    if (!access_) return;
    if (auto error = access_->reload()) {
      log::error("SIGHUP: %s; keeping the running password and ACL files", error->c_str());
      return;
    }
    log::notice("SIGHUP: reloaded auth: %zu users, %zu ACL rules", access_->user_count(), access_->rule_count());
    broker_->access_changed();
  }

  void reload() {
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
      log::warning("SIGHUP: %s changes listeners, store, limits or auth file names; those take effect after a restart",
                   config_path_.c_str());
    }
    cfg_.log = next.log;
  }

  Config cfg_;
  std::string config_path_;  // empty: the embedded default
  std::unique_ptr<auth::AuthService> access_;  // null: no password or ACL file
  core::SystemClock clock_;
  net::Loop loop_{clock_};
  core::Broker* broker_ptr_ = nullptr;  // set once restored; the Async may fire before
  net::Async store_wake_{loop_, [this] {
                           if (broker_ptr_ != nullptr) broker_ptr_->on_store_completed();
                         }};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<core::Broker> broker_;
  std::vector<std::unique_ptr<core::ProtocolFactory>> protocols_;  // one per config listener
  std::vector<std::vector<std::size_t>> groups_;  // config listeners per socket
  std::vector<std::unique_ptr<net::Listener>> listeners_;  // one per group
  std::unique_ptr<xmpp::XmppBridge> xmpp_;            // before its connector: destroyed after it
  std::unique_ptr<net::Connector> xmpp_connector_;
  std::unique_ptr<Bridges> bridges_;
  std::unique_ptr<core::SysTopics> sys_;  // null: sys.interval_s 0; reads the members above
  bool shutting_down_ = false;
  bool aborted_ = false;
  std::int64_t deadline_ms_ = 0;
  net::Timer* shutdown_poll_ = nullptr;
};

}  // namespace
}  // namespace junction

int main(int argc, char** argv) {
  using namespace junction;
  if (argc > 1 && std::strcmp(argv[1], "passwd") == 0) return run_passwd_command(argc - 1, argv + 1);

  CLI::App cli{"Junction: a multi-protocol IoT broker (MQTT 3.1.1 / 5.0)", "junction"};
  std::string config_path;
  bool check_only = false;
  cli.add_option("-c,--config", config_path, "YAML configuration file (default: the built-in conf/junction.yaml)");
  cli.add_flag("--check-config", check_only, "Load and validate the configuration, then exit");
  cli.set_version_flag("--version", "junction " JUNCTION_VERSION);
  cli.footer("Password files: junction passwd [-c] [-b] [-D] FILE USER [PASSWORD] (see junction passwd --help)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with 0; a bad command line is exit 1.
    return cli.exit(e) == 0 ? kExitOk : kExitConfig;
  }

  Config cfg;
  try {
    cfg = config_path.empty() ? default_config() : load_config(config_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitConfig;
  }
  std::unique_ptr<auth::AuthService> access;
  try {
    access = load_auth(cfg.auth);
  } catch (const auth::AuthFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitConfig;
  }
  if (check_only) {
    std::printf("%s: configuration OK\n", cfg.source.c_str());
    return kExitOk;
  }

  log::set_level(cfg.log.level);
  // A peer that vanishes mid-write must cost an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  log::notice("junction %s starting (configuration: %s)", JUNCTION_VERSION, cfg.source.c_str());

  try {
    App app(std::move(cfg), config_path, std::move(access));
    app.start();
    return app.run();
  } catch (const std::exception& e) {
    log::error("start-up failed: %s", e.what());
    return kExitStartup;
  }
}
