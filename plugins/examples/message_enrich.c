/*
 * message_enrich: stamps every incoming message with the time the broker
 * received it (a user property), and drops payloads over a size limit
 * before they are stored or routed. See README.md for the options.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "junction_plugin.h"

struct state {
  jn_plugin *plugin;
  jn_str property; /* an option value or a literal: NUL-terminated, lives until cleanup */
  unsigned long long max_payload; /* 0: no limit */
  /* The broker reads the reason after the callback returned, so it cannot
   * be a local buffer; it never changes, so it is formatted once. */
  char reason[64];
};

static int on_message_in(int event, void *event_data, void *user_data) {
  struct jn_evt_message_in *e = event_data;
  struct state *s = user_data;
  jn_str payload = jn_message_payload(e->message);
  char stamp[24];
  int rc;
  (void)event;
  if (s->max_payload != 0 && payload.len > s->max_payload) {
    /* 0x95 Packet too large would say it best, but a PUBACK or PUBREC may
     * not carry it [MQTT-3.4.2-1]; 0x97 Quota exceeded may. */
    e->reason_code = 0x97;
    e->reason = s->reason;
    jn_cb_log(s->plugin, JN_LOG_DEBUG, "dropped a %lu-byte message", (unsigned long)payload.len);
    return JN_DENY;
  }
  snprintf(stamp, sizeof stamp, "%" PRId64, jn_message_created_ms(e->message));
  /* A publisher could send the property itself; readers must be able to
   * trust it, so the client's value goes and the broker's replaces it. */
  jn_message_remove_user_property(e->message, s->property);
  rc = jn_message_add_user_property(e->message, s->property, jn_str_of(stamp));
  if (rc != JN_OK) jn_cb_log(s->plugin, JN_LOG_WARNING, "could not add property '%s': %d", s->property.ptr, rc);
  return JN_OK;
}

/* Option values are text as written in the config; only plain decimal
 * counts are accepted, so "10k" or "-1" is an error rather than a surprise. */
static int parse_count(jn_plugin *plugin, const char *key, const char *value, unsigned long long *out) {
  size_t n = strlen(value);
  if (n == 0 || n > 18 || strspn(value, "0123456789") != n) {
    jn_cb_log(plugin, JN_LOG_ERROR, "option '%s': '%s' is not a byte count", key, value);
    return JN_ERR_INVALID;
  }
  *out = strtoull(value, NULL, 10);
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
  int i, rc = JN_OK;
  if (!s) return JN_ERR_REFUSED;
  s->plugin = plugin;
  s->property = jn_str_of("received-at");
  for (i = 0; i < option_count && rc == JN_OK; ++i) {
    const char *key = options[i].key, *value = options[i].value;
    if (strcmp(key, "property") == 0) {
      s->property = jn_str_of(value);
      if (s->property.len == 0) {
        jn_cb_log(plugin, JN_LOG_ERROR, "option 'property' is empty");
        rc = JN_ERR_INVALID;
      }
    } else if (strcmp(key, "max_payload_bytes") == 0) {
      rc = parse_count(plugin, key, value, &s->max_payload);
    } else {
      jn_cb_log(plugin, JN_LOG_WARNING, "unknown option '%s' ignored", key);
    }
  }
  snprintf(s->reason, sizeof s->reason, "payload over %llu bytes", s->max_payload);
  if (rc == JN_OK) rc = jn_cb_register(plugin, JN_EVT_MESSAGE_IN, on_message_in, s);
  if (rc != JN_OK) {
    free(s);
    return rc;
  }
  if (s->max_payload != 0)
    jn_cb_log(plugin, JN_LOG_INFO, "adds property '%s', drops payloads over %llu bytes", s->property.ptr,
              s->max_payload);
  else
    jn_cb_log(plugin, JN_LOG_INFO, "adds property '%s', no payload limit", s->property.ptr);
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
