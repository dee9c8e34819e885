// junction::app::App — the whole broker as a library: configuration in,
// store, broker, client front-ends, listeners, bridges, $SYS, signals and
// the loop out. main.cpp is only the command line around it; in-process
// tests build one on port-0 listeners and drive it over real sockets.
//
// Lifecycle: start() (throws std::runtime_error naming what failed: store,
// bind, TLS file), then run() on the thread that called start(), until a
// shutdown. SIGTERM/SIGINT or request_shutdown(): listeners stop accepting,
// every front-end says goodbye in its protocol, bridges stop, the broker
// writes session state; connections get kShutdownGraceMs, then the rest are
// aborted; the store is flushed and the loop must close every handle
// (run() returns kExitUnclean otherwise). A second signal aborts at once.
// SIGHUP or request_reload(): see reload() in app.cpp (log level, TLS files,
// password and ACL files, bridges; the rest needs a restart and is logged).
//
// Members are declared in dependency order, so they are destroyed in
// reverse: listeners before front-ends, front-ends before the broker, the
// broker before the store, all before the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "admin_service.h"
#include "auth_service.h"
#include "bridges.h"
#include "broker.h"
#include "clock.h"
#include "config.h"
#include "frontend.h"
#include "listener.h"
#include "loop.h"
#include "plugin_access.h"
#include "plugin_host.h"
#include "store.h"
#include "sys_topics.h"

namespace junction::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUnclean = 3;  // the loop closed with handles still open (a bug, logged)

class App {
 public:
  // `config_path`: the file SIGHUP reads again; empty for the embedded
  // default. `access`: the password and ACL files, or null.
  App(Config cfg, std::string config_path, std::unique_ptr<auth::AuthService> access);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  void start();
  // Runs the loop until the shutdown has finished; kExitOk or kExitUnclean.
  int run();

  // What SIGHUP and SIGTERM do, callable from any thread.
  void request_reload();
  void request_shutdown();

  // After start(): the port each configured listener is bound to (in config
  // order; port 0 in the configuration gets the one the kernel chose).
  std::vector<std::uint16_t> listener_ports() const;
  // Loop thread (or before run()): the bridges as they are now.
  std::vector<BridgeStatus> bridge_status() const { return bridges_ ? bridges_->status() : std::vector<BridgeStatus>{}; }
  core::Broker& broker() { return *broker_; }
  const Config& config() const { return cfg_; }

 private:
  void begin_shutdown(const char* why);
  void poll_shutdown();
  void finish();
  void reload();
  void reload_certificates();
  void reload_auth();
  void start_plugins();
  void start_sys_topics();
  admin::AdminService& admin_service();
  void load_retained_step();

  Config cfg_;
  std::string config_path_;
  std::unique_ptr<auth::AuthService> access_;
  core::SystemClock clock_;
  net::Loop loop_{clock_};
  core::Broker* broker_ptr_ = nullptr;  // set once restored; the Async may fire before
  net::Async store_wake_{loop_, [this] {
                           if (broker_ptr_ != nullptr) broker_ptr_->on_store_completed();
                         }};
  net::Async reload_wake_{loop_, [this] { reload(); }};
  net::Async shutdown_wake_{loop_, [this] { begin_shutdown("shutdown requested"); }};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<core::Broker> broker_;
  // After the broker: its cleanup (finish()) unhooks it from the broker.
  std::unique_ptr<plugins::PluginHost> plugins_;
  std::unique_ptr<plugins::PluginAccessControl> plugin_access_;
  std::unique_ptr<admin::AdminService> admin_;  // the http listeners' service (null without one)
  std::vector<std::unique_ptr<core::ProtocolFactory>> protocols_;  // one per config listener
  std::vector<std::vector<std::size_t>> groups_;                   // config listeners per socket
  std::vector<std::unique_ptr<net::Listener>> listeners_;          // one per group
  std::unique_ptr<BridgeSet> bridges_;
  std::unique_ptr<core::SysTopics> sys_;  // null: sys.interval_s 0; reads the members above
  bool shutting_down_ = false;
  bool aborted_ = false;
  std::int64_t deadline_ms_ = 0;
  net::Timer* shutdown_poll_ = nullptr;
  // Delayed messages and queue back-offs: one timer, armed for the earliest due time.
  void arm_due_timer(std::int64_t due_ms);
  net::Timer* due_timer_ = nullptr;
  std::int64_t due_timer_at_ = core::DelayedMessages::kNever;
};

}  // namespace junction::app
