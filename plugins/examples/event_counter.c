/*
 * event_counter: counts client events and publishes the running totals as
 * a retained JSON message on every tick, so a dashboard that subscribes
 * late still gets the latest figures at once. See README.md for the options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "junction_plugin.h"

struct state {
  jn_plugin *plugin;
  const char *topic; /* an option value or a literal: lives until cleanup */
  unsigned long long connects, disconnects, subscribes, unsubscribes, messages, session_expiries;
  int last_rc; /* of the last publish: a failure is logged once, not every tick */
};

static const int counted[] = {JN_EVT_CONNECT, JN_EVT_DISCONNECT, JN_EVT_SUBSCRIBE,
                              JN_EVT_UNSUBSCRIBE, JN_EVT_MESSAGE_IN, JN_EVT_SESSION_EXPIRY};

/* One callback for every counted event: none of them needs its event data. */
static int on_event(int event, void *event_data, void *user_data) {
  struct state *s = user_data;
  (void)event_data;
  switch (event) {
  case JN_EVT_CONNECT: s->connects++; break;
  case JN_EVT_DISCONNECT: s->disconnects++; break;
  case JN_EVT_SUBSCRIBE: s->subscribes++; break;
  case JN_EVT_UNSUBSCRIBE: s->unsubscribes++; break;
  case JN_EVT_MESSAGE_IN: s->messages++; break;
  case JN_EVT_SESSION_EXPIRY: s->session_expiries++; break;
  default: break;
  }
  return JN_OK; /* MESSAGE_IN: the message goes on unchanged */
}

static int on_tick(int event, void *event_data, void *user_data) {
  struct state *s = user_data;
  struct jn_publish msg;
  char json[256];
  int n, rc;
  (void)event;
  (void)event_data;
  n = snprintf(json, sizeof json,
               "{\"connects\":%llu,\"disconnects\":%llu,\"subscribes\":%llu,\"unsubscribes\":%llu,"
               "\"messages\":%llu,\"session_expiries\":%llu}",
               s->connects, s->disconnects, s->subscribes, s->unsubscribes, s->messages, s->session_expiries);
  /* Zeroed so that every field this plugin does not set (expiry, content
   * type, properties, and any a later ABI adds) means "none". */
  memset(&msg, 0, sizeof msg);
  msg.struct_size = sizeof msg;
  msg.topic = jn_str_of(s->topic);
  msg.payload.ptr = json;
  msg.payload.len = (size_t)n; /* six 20-digit numbers and the names fit */
  msg.qos = 0;
  msg.retain = 1;
  rc = jn_cb_publish(s->plugin, &msg);
  if (rc != JN_OK && rc != s->last_rc)
    jn_cb_log(s->plugin, JN_LOG_WARNING, "publishing to '%s' failed: %d", s->topic, rc);
  s->last_rc = rc;
  return JN_OK;
}

JN_EXPORT int jn_plugin_version(int count, const int *versions) {
  int i;
  for (i = 0; i < count; ++i)
    if (versions[i] == JN_PLUGIN_ABI_VERSION) return JN_PLUGIN_ABI_VERSION;
  return -1;
}

JN_EXPORT int jn_plugin_init(jn_plugin *plugin, const jn_option *options, int option_count, void **user_data) {
  struct state *s = calloc(1, sizeof *s);
  unsigned long interval_ms = 10000;
  int i, rc = JN_OK;
  size_t e;
  if (!s) return JN_ERR_REFUSED;
  s->plugin = plugin;
  s->topic = "junction/plugins/event_counter";
  for (i = 0; i < option_count && rc == JN_OK; ++i) {
    const char *key = options[i].key, *value = options[i].value;
    size_t n = strlen(value);
    if (strcmp(key, "topic") == 0) {
      s->topic = value;
    } else if (strcmp(key, "interval_ms") == 0) {
      /* Plain decimal only, so that "10s" is an error rather than 10 ms. */
      if (n == 0 || n > 9 || strspn(value, "0123456789") != n) {
        jn_cb_log(plugin, JN_LOG_ERROR, "option 'interval_ms': '%s' is not a number of ms", value);
        rc = JN_ERR_INVALID;
      }
      interval_ms = strtoul(value, NULL, 10);
    } else {
      jn_cb_log(plugin, JN_LOG_WARNING, "unknown option '%s' ignored", key);
    }
  }
  /* Below the minimum (10 ms) the broker decides; a refusal stops start-up. */
  if (rc == JN_OK) {
    rc = jn_cb_set_tick_interval(plugin, (uint32_t)interval_ms);
    if (rc != JN_OK) jn_cb_log(plugin, JN_LOG_ERROR, "interval_ms %lu refused: %d", interval_ms, rc);
  }
  for (e = 0; e < sizeof counted / sizeof counted[0] && rc == JN_OK; ++e)
    rc = jn_cb_register(plugin, counted[e], on_event, s);
  if (rc == JN_OK) rc = jn_cb_register(plugin, JN_EVT_TICK, on_tick, s);
  if (rc != JN_OK) {
    free(s);
    return rc;
  }
  jn_cb_log(plugin, JN_LOG_INFO, "publishes totals to '%s' every %lu ms", s->topic, interval_ms);
  *user_data = s;
  return JN_OK;
}

JN_EXPORT int jn_plugin_cleanup(jn_plugin *plugin, void *user_data, const jn_option *options, int option_count) {
  (void)plugin;
  (void)options;
  (void)option_count;
  free(user_data);
  return JN_OK;
}
