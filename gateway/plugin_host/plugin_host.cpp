#include "plugin_host.h"

#include <dlfcn.h>

#include <algorithm>
#include <stdexcept>

#include "log.h"
#include "session.h"
#include "topic.h"

namespace junction::plugins {

namespace {

std::string plugin_name(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (auto dot = name.find('.'); dot != std::string::npos && dot > 0) name.resize(dot);
  return name;
}

std::string offered_list() {
  std::string s;
  for (int v : kOfferedAbiVersions) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return s;
}

}  // namespace

jn_client client_of(const core::Broker& b, core::Session& s) {
  jn_client c;
  c.broker = &b;
  c.session = &s;
  c.client_id = s.client_id;
  c.user = s.identity().user;
  c.anonymous = s.identity().anonymous;
  c.info = s.sink ? s.sink->connection() : nullptr;
  c.protocol = s.protocol;
  c.protocol_version = s.protocol_version;
  return c;
}

PluginHost::PluginHost(net::Loop& loop, core::Broker& broker)
    : loop_(loop), broker_(broker), calls_wake_(loop, [this] { drain_loop_calls(); }) {}

PluginHost::~PluginHost() {
  shutdown();
  for (auto& p : plugins_) {
    if (p->dl) dlclose(p->dl);
  }
}

void PluginHost::load(const std::vector<PluginConfig>& entries, const std::string& config_source) {
  try {
    for (const PluginConfig& e : entries) {
      if (e.builtin.empty()) load_one(e, config_source);
    }
  } catch (...) {
    shutdown();
    throw;
  }
}

void PluginHost::load_one(const PluginConfig& entry, const std::string& config_source) {
  const std::string where = config_source + ":" + std::to_string(entry.line) + ": plugin " + entry.path;
  auto p = std::make_unique<jn_plugin>();
  p->host = this;
  p->index = plugins_.size();
  p->path = entry.path;
  p->name = plugin_name(entry.path);
  dlerror();
  p->dl = dlopen(entry.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (p->dl == nullptr) {
    const char* err = dlerror();
    throw std::runtime_error(where + ": cannot load it: " + (err ? err : "unknown error"));
  }
  jn_plugin* raw = p.get();
  plugins_.push_back(std::move(p));  // dlclosed by the destructor from here on
  auto version = reinterpret_cast<int (*)(int, const int*)>(dlsym(raw->dl, "jn_plugin_version"));
  auto init = reinterpret_cast<int (*)(jn_plugin*, const jn_option*, int, void**)>(dlsym(raw->dl, "jn_plugin_init"));
  raw->cleanup = reinterpret_cast<int (*)(jn_plugin*, void*, const jn_option*, int)>(dlsym(raw->dl, "jn_plugin_cleanup"));
  for (auto [sym, missing] : {std::pair{"jn_plugin_version", version == nullptr},
                              std::pair{"jn_plugin_init", init == nullptr},
                              std::pair{"jn_plugin_cleanup", raw->cleanup == nullptr}}) {
    if (missing) {
      throw std::runtime_error(where + ": it does not export " + sym +
                               " (a plugin exports jn_plugin_version, jn_plugin_init and jn_plugin_cleanup)");
    }
  }
  const int chosen = version(int(kOfferedAbiVersions.size()), kOfferedAbiVersions.data());
  if (std::find(kOfferedAbiVersions.begin(), kOfferedAbiVersions.end(), chosen) == kOfferedAbiVersions.end()) {
    throw std::runtime_error(where + ": it asks for plugin ABI version " + std::to_string(chosen) +
                             ", this broker offers " + offered_list());
  }
  raw->abi_version = chosen;
  raw->option_text = entry.options;
  for (const auto& [k, v] : raw->option_text) raw->options.push_back(jn_option{k.c_str(), v.c_str()});
  const int rc = init(raw, raw->options.data(), int(raw->options.size()), &raw->user_data);
  if (rc != JN_OK) {
    // Not initialised: no cleanup call, but nothing it registered stays.
    for (auto& regs : regs_) std::erase_if(regs, [raw](const Registration& r) { return r.plugin == raw; });
    for (auto& [id, t] : raw->timers) loop_.cancel(t.timer);
    raw->timers.clear();
    if (raw->tick_timer) loop_.cancel(raw->tick_timer);
    raw->tick_timer = nullptr;
    throw std::runtime_error(where + ": its jn_plugin_init failed (" + std::to_string(rc) + ")");
  }
  raw->initialised = true;
  log::notice("plugin %s: loaded %s (ABI version %d)", raw->name.c_str(), raw->path.c_str(), chosen);
}

void PluginHost::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(calls_mutex_);
    calls_closed_ = true;
  }
  const bool loop_alive = !loop_.stopping();
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) {
    jn_plugin* p = it->get();
    for (auto& [id, t] : p->timers)
      if (loop_alive) loop_.cancel(t.timer);
    p->timers.clear();
    if (p->tick_timer && loop_alive) loop_.cancel(p->tick_timer);
    p->tick_timer = nullptr;
    if (p->initialised) {
      p->initialised = false;
      const int rc = p->cleanup(p, p->user_data, p->options.data(), int(p->options.size()));
      if (rc != JN_OK) log::warning("plugin %s: cleanup returned %d", p->name.c_str(), rc);
    }
  }
  for (auto& regs : regs_) regs.clear();
  broker_.set_hooks(nullptr, {});
}

void PluginHost::reload() {
  for (const auto& p : plugins_) {
    jn_evt_reload ev{sizeof ev, p->options.data(), int(p->options.size())};
    for (const Registration& r : regs_[JN_EVT_RELOAD]) {
      if (r.plugin == p.get()) r.cb(JN_EVT_RELOAD, &ev, r.user_data);
    }
  }
}

core::HookKinds PluginHost::hook_kinds() const {
  core::HookKinds k;
  k.message_in = has(JN_EVT_MESSAGE_IN);
  k.message_out = has(JN_EVT_MESSAGE_OUT);
  k.events = has(JN_EVT_CONNECT) || has(JN_EVT_DISCONNECT) || has(JN_EVT_SUBSCRIBE) || has(JN_EVT_UNSUBSCRIBE) ||
             has(JN_EVT_SESSION_EXPIRY);
  return k;
}

int PluginHost::register_callback(jn_plugin* p, int event, jn_event_cb cb, void* ud) {
  if (event < 1 || event > kMaxEvent || cb == nullptr) return JN_ERR_INVALID;
  if (stopped_) return JN_ERR_STATE;
  auto& regs = regs_[event];
  for (const Registration& r : regs) {
    if (r.plugin == p && r.cb == cb) return JN_ERR_INVALID;
  }
  // Config order, whenever a plugin registers (init, or later from a timer).
  auto at = std::find_if(regs.begin(), regs.end(), [p](const Registration& r) { return r.plugin->index > p->index; });
  regs.insert(at, Registration{p, cb, ud});
  if (event == JN_EVT_TICK) arm_tick(p);
  // A registration after start-up changes which hooks the broker calls.
  if (p->initialised) broker_.set_hooks(this, hook_kinds());
  return JN_OK;
}

int PluginHost::unregister_callback(jn_plugin* p, int event, jn_event_cb cb) {
  if (event < 1 || event > kMaxEvent) return JN_ERR_INVALID;
  auto& regs = regs_[event];
  auto it = std::find_if(regs.begin(), regs.end(), [&](const Registration& r) { return r.plugin == p && r.cb == cb; });
  if (it == regs.end()) return JN_ERR_NOT_FOUND;
  regs.erase(it);
  if (event == JN_EVT_TICK) arm_tick(p);
  if (!stopped_) broker_.set_hooks(this, hook_kinds());
  return JN_OK;
}

int PluginHost::set_tick_interval(jn_plugin* p, std::uint32_t ms) {
  if (ms < 10) return JN_ERR_INVALID;
  p->tick_ms = ms;
  arm_tick(p);
  return JN_OK;
}

void PluginHost::arm_tick(jn_plugin* p) {
  if (p->tick_timer) loop_.cancel(p->tick_timer);
  p->tick_timer = nullptr;
  const bool wanted = std::any_of(regs_[JN_EVT_TICK].begin(), regs_[JN_EVT_TICK].end(),
                                  [p](const Registration& r) { return r.plugin == p; });
  if (!wanted || stopped_) return;
  p->tick_timer = loop_.every(p->tick_ms, [this, p] {
    jn_evt_tick ev{sizeof ev, broker_.clock().wall_ms()};
    // A copy: a callback may unregister itself.
    const std::vector<Registration> regs = regs_[JN_EVT_TICK];
    for (const Registration& r : regs) {
      if (r.plugin == p) r.cb(JN_EVT_TICK, &ev, r.user_data);
    }
  });
}

std::uint64_t PluginHost::start_timer(jn_plugin* p, std::uint32_t ms, bool repeat, jn_timer_cb fn, void* ud) {
  if (fn == nullptr || stopped_ || loop_.stopping()) return 0;
  const std::uint64_t id = p->next_timer_id++;
  jn_plugin::PluginTimer t;
  t.fn = fn;
  t.user_data = ud;
  t.repeat = repeat;
  auto fire = [this, p, id] {
    auto it = p->timers.find(id);
    if (it == p->timers.end()) return;
    const jn_plugin::PluginTimer timer = it->second;
    if (!timer.repeat) {
      loop_.cancel(timer.timer);  // safe inside its own callback
      p->timers.erase(it);
    }
    timer.fn(p, timer.user_data);
  };
  if (repeat) {
    t.timer = loop_.every(std::max<std::uint32_t>(ms, 1), fire);
  } else {
    t.timer = loop_.alarm(fire);
    loop_.arm(t.timer, ms);
  }
  if (t.timer == nullptr) return 0;
  p->timers.emplace(id, t);
  return id;
}

int PluginHost::stop_timer(jn_plugin* p, std::uint64_t id) {
  auto it = p->timers.find(id);
  if (it == p->timers.end()) return JN_ERR_NOT_FOUND;
  loop_.cancel(it->second.timer);
  p->timers.erase(it);
  return JN_OK;
}

int PluginHost::run_on_loop(jn_plugin* p, jn_loop_cb fn, void* ud) {
  if (fn == nullptr) return JN_ERR_INVALID;
  {
    std::lock_guard lock(calls_mutex_);
    if (calls_closed_) return JN_ERR_STATE;
    calls_.push_back(LoopCall{p, fn, ud});
  }
  calls_wake_.send();
  return JN_OK;
}

void PluginHost::drain_loop_calls() {
  std::deque<LoopCall> batch;
  {
    std::lock_guard lock(calls_mutex_);
    batch.swap(calls_);
  }
  for (const LoopCall& c : batch) {
    if (!c.plugin->initialised) continue;
    c.fn(c.plugin, c.user_data);
  }
}

int PluginHost::publish(jn_plugin* p, const jn_publish& m) {
  if (stopped_ || loop_.stopping()) return JN_ERR_STATE;
  const std::string_view topic = from_jn(m.topic);
  if (m.qos < 0 || m.qos > 2 || core::is_sys_topic(topic)) return JN_ERR_INVALID;
  if (!core::valid_topic_name(topic)) return JN_ERR_INVALID;
  if (topic.substr(0, core::kQueueTopicPrefix.size()) == core::kQueueTopicPrefix &&
      !core::QueueManager::valid_name(topic.substr(core::kQueueTopicPrefix.size())))
    return JN_ERR_INVALID;
  core::MessageRef msg = broker_.make_message();
  msg->topic.assign(topic);
  msg->payload.assign(from_jn(m.payload));
  msg->qos = static_cast<std::uint8_t>(m.qos);
  msg->retain = m.retain != 0;
  if (m.message_expiry_s) msg->expiry_ms = msg->created_ms + std::int64_t(m.message_expiry_s) * 1000;
  // Fields past what the plugin's header had are left at their defaults.
  const bool has_props = m.struct_size >= offsetof(jn_publish, user_property_count) + sizeof(size_t);
  if (has_props) {
    if (m.content_type.len) msg->mutable_props().content_type.assign(from_jn(m.content_type));
    for (std::size_t i = 0; i < m.user_property_count && m.user_properties; ++i) {
      msg->mutable_props().user_properties.push_back(
          core::UserProperty{std::string(from_jn(m.user_properties[i].name)), std::string(from_jn(m.user_properties[i].value))});
    }
  }
  const core::PublishResult r = broker_.publish_unhooked(msg, nullptr);
  if (r.refused || r.invalid) {
    log::info("plugin %s: publish to '%.*s' refused: %s", p->name.c_str(), int(topic.size()), topic.data(),
              r.why ? r.why : "invalid");
    return JN_ERR_INVALID;
  }
  if (r.quota_exceeded) return JN_ERR_REFUSED;
  return JN_OK;
}

// Not at once: the caller may be inside a hook about this very client (its
// MESSAGE_IN), whose session and connection the broker and the front-end
// still use until the callback chain returns.
int PluginHost::disconnect(std::string_view client_id, bool remove_session) {
  if (stopped_ || loop_.stopping()) return JN_ERR_STATE;
  core::Session* s = broker_.find_session(client_id);
  if (s == nullptr || (!s->online() && !remove_session)) return JN_ERR_NOT_FOUND;
  loop_.after(0, [this, id = std::string(client_id), remove_session] {
    if (!stopped_) broker_.kick(id, remove_session);
  });
  return JN_OK;
}

// By index, not iterator: a callback may register or unregister (which at
// worst skips or repeats a neighbour for this one event, never crashes).
void PluginHost::notify(int event, void* data) {
  const auto& regs = regs_[event];
  for (std::size_t i = 0; i < regs.size(); ++i) {
    const Registration r = regs[i];
    r.cb(event, data, r.user_data);
  }
}

// ---- hooks ----

bool PluginHost::on_message_in(core::Message& msg, core::Session* publisher, core::MessageDrop& drop) {
  jn_client client;
  if (publisher) client = client_of(broker_, *publisher);
  jn_message m{&msg, true};
  const auto& regs = regs_[JN_EVT_MESSAGE_IN];
  for (std::size_t i = 0; i < regs.size(); ++i) {
    const Registration r = regs[i];
    jn_evt_message_in ev{sizeof ev, publisher ? &client : nullptr, &m, 0, nullptr};
    if (r.cb(JN_EVT_MESSAGE_IN, &ev, r.user_data) == JN_DENY) {
      drop.reason_code = ev.reason_code;
      drop.reason = ev.reason ? ev.reason : "dropped by plugin " + r.plugin->name;
      return false;
    }
  }
  msg.drop_empty_props();
  return true;
}

bool PluginHost::on_message_out(core::Session& subscriber, const core::Message& msg, std::uint8_t qos) {
  jn_client client = client_of(broker_, subscriber);
  jn_message m{const_cast<core::Message*>(&msg), false};
  jn_evt_message_out ev{sizeof ev, &client, &m, qos};
  const auto& regs = regs_[JN_EVT_MESSAGE_OUT];
  for (std::size_t i = 0; i < regs.size(); ++i) {
    const Registration r = regs[i];
    if (r.cb(JN_EVT_MESSAGE_OUT, &ev, r.user_data) == JN_DENY) return false;
  }
  return true;
}

void PluginHost::on_connect(core::Session& s) {
  if (regs_[JN_EVT_CONNECT].empty()) return;
  jn_client client = client_of(broker_, s);
  jn_evt_connect ev{sizeof ev, &client};
  notify(JN_EVT_CONNECT, &ev);
}

void PluginHost::on_disconnect(core::Session& s, core::DisconnectReason why) {
  if (regs_[JN_EVT_DISCONNECT].empty()) return;
  jn_client client = client_of(broker_, s);
  jn_evt_disconnect ev{sizeof ev, &client, static_cast<int>(why)};
  notify(JN_EVT_DISCONNECT, &ev);
}

void PluginHost::on_subscribe(core::Session& s, std::string_view filter, std::uint8_t qos) {
  if (regs_[JN_EVT_SUBSCRIBE].empty()) return;
  jn_client client = client_of(broker_, s);
  jn_evt_subscribe ev{sizeof ev, &client, to_jn(filter), qos};
  notify(JN_EVT_SUBSCRIBE, &ev);
}

void PluginHost::on_unsubscribe(core::Session& s, std::string_view filter) {
  if (regs_[JN_EVT_UNSUBSCRIBE].empty()) return;
  jn_client client = client_of(broker_, s);
  jn_evt_subscribe ev{sizeof ev, &client, to_jn(filter), 0};
  notify(JN_EVT_UNSUBSCRIBE, &ev);
}

void PluginHost::on_session_expired(std::string_view client_id) {
  jn_evt_session_expiry ev{sizeof ev, to_jn(client_id)};
  notify(JN_EVT_SESSION_EXPIRY, &ev);
}

}  // namespace junction::plugins
