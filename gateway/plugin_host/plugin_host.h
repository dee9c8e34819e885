// junction::plugins::PluginHost — loads the `plugins:` entries of the
// config (dlopen), negotiates each one's ABI version, keeps the callbacks
// they register per event in config order, and is the broker's
// BrokerHooks. The jn_cb_* functions (plugin_abi.cpp) land here.
//
// Chains (authentication, authorization) are PluginAccessControl's
// (plugin_access.h); this class only runs the non-chain events and owns
// the timers and the run-on-loop queue.
//
// Lifetime: build after the Broker, before listeners; shutdown() calls
// every plugin's cleanup (reverse order) while the loop still runs; the
// destructor dlcloses. Threading: loop thread, except run_on_loop().
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker.h"
#include "broker_hooks.h"
#include "config.h"
#include "loop.h"
#include "plugin_types.h"

namespace junction::plugins {

// The ABI versions this broker serves, newest first.
inline constexpr std::array<int, 1> kOfferedAbiVersions{JN_PLUGIN_ABI_VERSION};
inline constexpr int kMaxEvent = JN_EVT_RELOAD;

class PluginHost final : public core::BrokerHooks {
 public:
  PluginHost(net::Loop& loop, core::Broker& broker);
  ~PluginHost() override;
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads and initialises each plugin entry in order (built-in entries are
  // skipped here). Throws std::runtime_error naming the config file, line
  // and plugin file on a dlopen failure, a missing symbol, no common ABI
  // version or an init failure; plugins already initialised are cleaned up.
  void load(const std::vector<PluginConfig>& entries, const std::string& config_source);
  // Cleanup of every plugin, newest first; callbacks stop.
  void shutdown();
  // SIGHUP: JN_EVT_RELOAD to every plugin that registered it.
  void reload();

  std::size_t size() const { return plugins_.size(); }
  bool has(int event) const { return event >= 1 && event <= kMaxEvent && !regs_[event].empty(); }
  core::HookKinds hook_kinds() const;

  struct Registration {
    jn_plugin* plugin;
    jn_event_cb cb;
    void* user_data;
  };
  const std::vector<Registration>& registrations(int event) const { return regs_[event]; }
  const std::vector<std::unique_ptr<jn_plugin>>& plugins() const { return plugins_; }
  core::Broker& broker() { return broker_; }

  // ---- what plugin_abi.cpp calls ----
  int register_callback(jn_plugin* p, int event, jn_event_cb cb, void* ud);
  int unregister_callback(jn_plugin* p, int event, jn_event_cb cb);
  int set_tick_interval(jn_plugin* p, std::uint32_t ms);
  std::uint64_t start_timer(jn_plugin* p, std::uint32_t ms, bool repeat, jn_timer_cb fn, void* ud);
  int stop_timer(jn_plugin* p, std::uint64_t id);
  int run_on_loop(jn_plugin* p, jn_loop_cb fn, void* ud);  // any thread
  int publish(jn_plugin* p, const jn_publish& m);
  int disconnect(std::string_view client_id, bool remove_session);

  // ---- core::BrokerHooks ----
  bool on_message_in(core::Message& msg, core::Session* publisher, core::MessageDrop& drop) override;
  bool on_message_out(core::Session& subscriber, const core::Message& msg, std::uint8_t qos) override;
  void on_connect(core::Session& s) override;
  void on_disconnect(core::Session& s, core::DisconnectReason why) override;
  void on_subscribe(core::Session& s, std::string_view filter, std::uint8_t qos) override;
  void on_unsubscribe(core::Session& s, std::string_view filter) override;
  void on_session_expired(std::string_view client_id) override;

 private:
  void load_one(const PluginConfig& entry, const std::string& config_source);
  // Calls every registration of `event` in order (events that are not
  // chains: the answers do not matter).
  void notify(int event, void* data);
  void arm_tick(jn_plugin* p);
  void drain_loop_calls();

  net::Loop& loop_;
  core::Broker& broker_;
  std::vector<std::unique_ptr<jn_plugin>> plugins_;
  std::array<std::vector<Registration>, kMaxEvent + 1> regs_;
  bool stopped_ = false;

  struct LoopCall {
    jn_plugin* plugin;
    jn_loop_cb fn;
    void* user_data;
  };
  std::mutex calls_mutex_;
  std::deque<LoopCall> calls_;
  bool calls_closed_ = false;  // guarded by calls_mutex_
  net::Async calls_wake_;
};

}  // namespace junction::plugins
