// The broker side of junction_plugin.h: the jn_cb_*, jn_client_* and
// jn_message_* functions, exported from the junction executable (see
// junction.dynlist) so that dlopen resolves a plugin's references to them.
// Every entry point is noexcept: nothing may unwind into C.
#include <cstdarg>
#include <cstdio>
#include <string>

#include "broker.h"
#include "log.h"
#include "plugin_host.h"
#include "session.h"
#include "topic.h"

using junction::plugins::from_jn;
using junction::plugins::to_jn;
namespace core = junction::core;
namespace log = junction::log;

namespace {

// Exceptions (allocation failure) end as an error code at the boundary.
template <typename F>
int guarded(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return JN_ERR_STATE;
  }
}

log::Level level_of(int level) {
  switch (level) {
    case JN_LOG_DEBUG: return log::Level::debug;
    case JN_LOG_INFO: return log::Level::info;
    case JN_LOG_NOTICE: return log::Level::notice;
    case JN_LOG_WARNING: return log::Level::warning;
    default: return log::Level::error;
  }
}

}  // namespace

extern "C" {

int jn_cb_register(jn_plugin* plugin, int event, jn_event_cb callback, void* user_data) {
  if (plugin == nullptr) return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->register_callback(plugin, event, callback, user_data); });
}

int jn_cb_unregister(jn_plugin* plugin, int event, jn_event_cb callback) {
  if (plugin == nullptr) return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->unregister_callback(plugin, event, callback); });
}

int jn_cb_set_tick_interval(jn_plugin* plugin, uint32_t interval_ms) {
  if (plugin == nullptr) return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->set_tick_interval(plugin, interval_ms); });
}

void jn_cb_log(jn_plugin* plugin, int level, const char* format, ...) {
  if (format == nullptr) return;
  char text[1024];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(text, sizeof text, format, ap);
  va_end(ap);
  log::write(level_of(level), "plugin %s: %s", plugin ? plugin->name.c_str() : "?", text);
}

int jn_cb_publish(jn_plugin* plugin, const struct jn_publish* message) {
  if (plugin == nullptr || message == nullptr || message->struct_size < offsetof(jn_publish, retain) + sizeof(int))
    return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->publish(plugin, *message); });
}

int jn_cb_disconnect(jn_plugin* plugin, jn_str client_id, int remove_session) {
  if (plugin == nullptr) return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->disconnect(from_jn(client_id), remove_session != 0); });
}

// The handle lives in the plugin's jn_plugin until the next call: valid
// "until the calling callback returns" as promised, and no allocation.
jn_client* jn_cb_find_client(jn_plugin* plugin, jn_str client_id) {
  if (plugin == nullptr) return nullptr;
  core::Broker& b = plugin->host->broker();
  core::Session* s = b.find_session(from_jn(client_id));
  if (s == nullptr || !s->online()) return nullptr;
  static thread_local jn_client found;
  found = junction::plugins::client_of(b, *s);
  return &found;
}

uint64_t jn_cb_timer_start(jn_plugin* plugin, uint32_t ms, int repeat, jn_timer_cb fn, void* user_data) {
  if (plugin == nullptr) return 0;
  try {
    return plugin->host->start_timer(plugin, ms, repeat != 0, fn, user_data);
  } catch (...) {
    return 0;
  }
}

int jn_cb_timer_stop(jn_plugin* plugin, uint64_t timer_id) {
  if (plugin == nullptr) return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->stop_timer(plugin, timer_id); });
}

int jn_cb_run_on_loop(jn_plugin* plugin, jn_loop_cb fn, void* user_data) {
  if (plugin == nullptr) return JN_ERR_INVALID;
  return guarded([&] { return plugin->host->run_on_loop(plugin, fn, user_data); });
}

int64_t jn_cb_now_ms(jn_plugin* plugin) {
  return plugin ? plugin->host->broker().clock().wall_ms() : 0;
}

const char* jn_cb_plugin_name(jn_plugin* plugin) { return plugin ? plugin->name.c_str() : ""; }

// ---- clients ----

jn_str jn_client_id(const jn_client* c) { return c ? to_jn(c->client_id) : jn_str{}; }
jn_str jn_client_username(const jn_client* c) { return c ? to_jn(c->user) : jn_str{}; }
int jn_client_is_anonymous(const jn_client* c) { return c ? c->anonymous : 1; }

const char* jn_client_protocol(const jn_client* c) {
  if (c == nullptr || c->broker == nullptr) return "";
  return c->broker->protocol_names()[c->protocol.value % core::kMaxProtocols].c_str();
}

int jn_client_protocol_version(const jn_client* c) { return c ? c->protocol_version : 0; }
jn_str jn_client_peer_address(const jn_client* c) {
  return c && c->info ? to_jn(c->info->peer_address) : jn_str{};
}
int jn_client_peer_port(const jn_client* c) { return c && c->info ? c->info->peer_port : 0; }
const char* jn_client_transport(const jn_client* c) { return c && c->info ? c->info->transport : ""; }
jn_str jn_client_listener(const jn_client* c) { return c && c->info ? to_jn(c->info->listener) : jn_str{}; }
jn_str jn_client_cert_identity(const jn_client* c) {
  return c && c->info ? to_jn(c->info->cert_identity) : jn_str{};
}

// ---- messages ----

jn_str jn_message_topic(const jn_message* m) { return m ? to_jn(m->msg->topic) : jn_str{}; }
jn_str jn_message_payload(const jn_message* m) { return m ? to_jn(m->msg->payload) : jn_str{}; }
int jn_message_qos(const jn_message* m) { return m ? m->msg->qos : 0; }
int jn_message_retain(const jn_message* m) { return m ? m->msg->retain : 0; }
jn_str jn_message_origin_client(const jn_message* m) { return m ? to_jn(m->msg->origin_client) : jn_str{}; }
int64_t jn_message_created_ms(const jn_message* m) { return m ? m->msg->created_ms : 0; }
jn_str jn_message_content_type(const jn_message* m) { return m ? to_jn(m->msg->props().content_type) : jn_str{}; }
size_t jn_message_user_property_count(const jn_message* m) {
  return m ? m->msg->props().user_properties.size() : 0;
}

int jn_message_user_property(const jn_message* m, size_t index, jn_user_property* out) {
  if (m == nullptr || out == nullptr) return JN_ERR_INVALID;
  const auto& props = m->msg->props().user_properties;
  if (index >= props.size()) return JN_ERR_NOT_FOUND;
  out->name = to_jn(props[index].name);
  out->value = to_jn(props[index].value);
  return JN_OK;
}

int jn_message_set_topic(jn_message* m, jn_str topic) {
  if (m == nullptr) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  const std::string_view t = from_jn(topic);
  if (!core::valid_topic_name(t) || core::is_sys_topic(t)) return JN_ERR_INVALID;
  return guarded([&] {
    m->msg->topic.assign(t);
    return JN_OK;
  });
}

int jn_message_set_payload(jn_message* m, jn_str payload) {
  if (m == nullptr) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  return guarded([&] {
    m->msg->payload.assign(from_jn(payload));
    return JN_OK;
  });
}

int jn_message_set_qos(jn_message* m, int qos) {
  if (m == nullptr || qos < 0 || qos > 2) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  m->msg->qos = static_cast<std::uint8_t>(qos);
  return JN_OK;
}

int jn_message_set_retain(jn_message* m, int retain) {
  if (m == nullptr) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  m->msg->retain = retain != 0;
  return JN_OK;
}

int jn_message_set_content_type(jn_message* m, jn_str content_type) {
  if (m == nullptr) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  return guarded([&] {
    m->msg->mutable_props().content_type.assign(from_jn(content_type));
    return JN_OK;
  });
}

int jn_message_add_user_property(jn_message* m, jn_str name, jn_str value) {
  if (m == nullptr) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  return guarded([&] {
    m->msg->mutable_props().user_properties.push_back(
        core::UserProperty{std::string(from_jn(name)), std::string(from_jn(value))});
    return JN_OK;
  });
}

int jn_message_remove_user_property(jn_message* m, jn_str name) {
  if (m == nullptr) return JN_ERR_INVALID;
  if (!m->writable) return JN_ERR_STATE;
  auto& props = m->msg->mutable_props().user_properties;
  const std::size_t before = props.size();
  std::erase_if(props, [&](const core::UserProperty& p) { return p.name == from_jn(name); });
  return props.size() == before ? JN_ERR_NOT_FOUND : JN_OK;
}

}  // extern "C"
