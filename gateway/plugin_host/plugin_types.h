// The ABI's opaque types as the broker defines them (junction_plugin.h
// declares them incomplete). Internal to gateway/plugin_host.
//
// jn_client and jn_message are built on the stack for one callback and
// point into the broker's state: they never outlive it (the header's
// pointer rule). jn_plugin lives as long as its PluginHost.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "junction_plugin.h"
#include "message.h"

namespace junction::core {
class Broker;
class Session;
struct ConnectionInfo;
}  // namespace junction::core
namespace junction::net {
class Timer;
}

namespace junction::plugins {
class PluginHost;
}

struct jn_plugin {
  junction::plugins::PluginHost* host = nullptr;
  std::size_t index = 0;  // config order among plugins
  std::string name;       // file name without directory and extension
  std::string path;
  void* dl = nullptr;
  int abi_version = 0;
  void* user_data = nullptr;
  int (*cleanup)(jn_plugin*, void*, const jn_option*, int) = nullptr;
  std::vector<std::pair<std::string, std::string>> option_text;
  std::vector<jn_option> options;  // points into option_text
  bool initialised = false;
  std::uint32_t tick_ms = 1000;
  junction::net::Timer* tick_timer = nullptr;
  struct PluginTimer {
    junction::net::Timer* timer = nullptr;
    jn_timer_cb fn = nullptr;
    void* user_data = nullptr;
    bool repeat = false;
  };
  std::map<std::uint64_t, PluginTimer> timers;
  std::uint64_t next_timer_id = 1;
};

struct jn_client {
  const junction::core::Broker* broker = nullptr;
  junction::core::Session* session = nullptr;  // null while authenticating
  std::string_view client_id;
  std::string_view user;
  bool anonymous = true;
  const junction::core::ConnectionInfo* info = nullptr;  // null: not connected (offline session, bridge)
  junction::core::ProtocolId protocol{};
  std::uint8_t protocol_version = 0;
};

struct jn_message {
  junction::core::Message* msg = nullptr;
  bool writable = false;  // JN_EVT_MESSAGE_IN only
};

namespace junction::plugins {

inline jn_str to_jn(std::string_view s) { return jn_str{s.data(), s.size()}; }
inline std::string_view from_jn(jn_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }

// A client handle for a session (its connection's details when online).
jn_client client_of(const core::Broker& b, core::Session& s);

}  // namespace junction::plugins
