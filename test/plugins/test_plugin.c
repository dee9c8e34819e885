/*
 * test_plugin: a plugin for the integration tests, driven by its options.
 * It exercises every event and broker function of junction_plugin.h, and
 * with log_events: true logs each event it sees as one NOTICE line
 * "test_plugin: <event> <details>" for the tests to look for. Options
 * (all optional) are described where they are read, in jn_plugin_init.
 * Events a check chain would count it in (BASIC_AUTH, EXT_AUTH_*,
 * ACL_CHECK) and the costly per-message ones are registered only when an
 * option asks for them, so that a test that does not use them keeps the
 * broker's behaviour without plugins.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c99 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "junction_plugin.h"

/* printf arguments for a jn_str (never NUL-terminated) under "%.*s". */
#define STR_ARG(s) (int)((s).len > 500 ? 500 : (s).len), ((s).ptr ? (s).ptr : "")

#define EVENT_LOG(s, ...)                                                    \
  do {                                                                       \
    if ((s)->log_events) jn_cb_log((s)->plugin, JN_LOG_NOTICE, __VA_ARGS__); \
  } while (0)

struct tp {
  jn_plugin *plugin;
  int log_events;
  /* Option values (NUL-terminated, valid until cleanup returns); NULL: unset. */
  const char *allow_user, *allow_password, *deny_user, *ext_auth_method;
  int deny_anonymous;
  const char *deny_prefix, *allow_prefix;
  const char *drop_topic, *rewrite_from, *rewrite_to, *uppercase_topic, *set_qos_topic;
  int drop_code, set_qos;
  const char *out_deny_client;
  unsigned long tick_ms;
  const char *timer_publish_topic, *thread_publish_topic;
  const char *kick_on_publish_topic, *find_client_topic;
  char *find_result_topic; /* "<find_client_topic>/result", owned */
  uint64_t timer_id;
  int timer_fired;
  pthread_t thread;
  int thread_started;
};

static int str_is(jn_str a, const char *c) {
  size_t n;
  if (!c) return 0;
  n = strlen(c);
  return a.len == n && (n == 0 || memcmp(a.ptr, c, n) == 0);
}

static int str_starts(jn_str a, const char *prefix) {
  size_t n;
  if (!prefix) return 0;
  n = strlen(prefix);
  return a.len >= n && (n == 0 || memcmp(a.ptr, prefix, n) == 0);
}

static jn_str client_id_of(const jn_client *client) {
  return client ? jn_client_id(client) : jn_str_of("-");
}

static void publish_text(struct tp *s, const char *topic, const char *text, int retain) {
  struct jn_publish msg;
  int rc;
  memset(&msg, 0, sizeof msg);
  msg.struct_size = sizeof msg;
  msg.topic = jn_str_of(topic);
  msg.payload = jn_str_of(text);
  msg.qos = 0;
  msg.retain = retain;
  rc = jn_cb_publish(s->plugin, &msg);
  if (rc != JN_OK) jn_cb_log(s->plugin, JN_LOG_WARNING, "test_plugin: publish to %s failed: %d", topic, rc);
}

/* The events every instance registers: they only log. */
static int on_lifecycle(int event, void *event_data, void *user_data) {
  struct tp *s = user_data;
  switch (event) {
  case JN_EVT_CONNECT: {
    const struct jn_evt_connect *e = event_data;
    EVENT_LOG(s, "test_plugin: connect client=%.*s user=%.*s proto=%s/%d peer=%.*s",
              STR_ARG(jn_client_id(e->client)), STR_ARG(jn_client_username(e->client)),
              jn_client_protocol(e->client), jn_client_protocol_version(e->client),
              STR_ARG(jn_client_peer_address(e->client)));
    break;
  }
  case JN_EVT_DISCONNECT: {
    const struct jn_evt_disconnect *e = event_data;
    EVENT_LOG(s, "test_plugin: disconnect client=%.*s reason=%d", STR_ARG(jn_client_id(e->client)), e->reason);
    break;
  }
  case JN_EVT_SUBSCRIBE: {
    const struct jn_evt_subscribe *e = event_data;
    EVENT_LOG(s, "test_plugin: subscribe client=%.*s filter=%.*s qos=%d", STR_ARG(jn_client_id(e->client)),
              STR_ARG(e->filter), (int)e->qos);
    break;
  }
  case JN_EVT_UNSUBSCRIBE: {
    const struct jn_evt_subscribe *e = event_data;
    EVENT_LOG(s, "test_plugin: unsubscribe client=%.*s filter=%.*s", STR_ARG(jn_client_id(e->client)),
              STR_ARG(e->filter));
    break;
  }
  case JN_EVT_SESSION_EXPIRY: {
    const struct jn_evt_session_expiry *e = event_data;
    EVENT_LOG(s, "test_plugin: session_expiry client=%.*s", STR_ARG(e->client_id));
    break;
  }
  case JN_EVT_TICK: EVENT_LOG(s, "test_plugin: tick"); break;
  case JN_EVT_RELOAD: EVENT_LOG(s, "test_plugin: reload"); break;
  default: jn_cb_log(s->plugin, JN_LOG_ERROR, "test_plugin: unexpected event %d", event); break;
  }
  return JN_OK;
}

static int on_basic_auth(int event, void *event_data, void *user_data) {
  struct tp *s = user_data;
  const struct jn_evt_basic_auth *e = event_data;
  (void)event;
  EVENT_LOG(s, "test_plugin: auth client=%.*s user=%.*s", STR_ARG(jn_client_id(e->client)),
            STR_ARG(e->has_username ? e->username : jn_str_of(NULL)));
  if (!e->has_username) return s->deny_anonymous ? JN_DENY : JN_DEFER;
  if (str_is(e->username, s->deny_user)) return JN_DENY;
  if (s->allow_user && s->allow_password && str_is(e->username, s->allow_user) && e->has_password &&
      str_is(e->password, s->allow_password))
    return JN_OK;
  return JN_DEFER;
}

/* A two-step exchange: "challenge" out, "response" expected back. */
static int on_ext_auth(int event, void *event_data, void *user_data) {
  struct tp *s = user_data;
  struct jn_evt_ext_auth *e = event_data;
  static const char challenge[] = "challenge", welcome[] = "welcome";
  if (event == JN_EVT_EXT_AUTH_START) {
    EVENT_LOG(s, "test_plugin: ext_auth_start client=%.*s method=%.*s", STR_ARG(jn_client_id(e->client)),
              STR_ARG(e->method));
    if (!str_is(e->method, s->ext_auth_method)) return JN_DEFER;
    e->data_out = challenge;
    e->data_out_len = sizeof challenge - 1;
    return JN_AUTH_CONTINUE;
  }
  EVENT_LOG(s, "test_plugin: ext_auth_continue client=%.*s", STR_ARG(jn_client_id(e->client)));
  if (str_is(e->data_in, "response")) {
    e->data_out = welcome;
    e->data_out_len = sizeof welcome - 1;
    return JN_OK;
  }
  e->reason = "wrong response";
  return JN_DENY;
}

static int on_acl_check(int event, void *event_data, void *user_data) {
  struct tp *s = user_data;
  const struct jn_evt_acl_check *e = event_data;
  (void)event;
  EVENT_LOG(s, "test_plugin: acl client=%.*s access=%d topic=%.*s", STR_ARG(client_id_of(e->client)), e->access,
            STR_ARG(e->topic));
  if (str_starts(e->topic, s->deny_prefix)) return JN_DENY;
  if (str_starts(e->topic, s->allow_prefix)) return JN_OK;
  return JN_DEFER;
}

static void find_client(struct tp *s, jn_str client_id) {
  jn_client *c = jn_cb_find_client(s->plugin, client_id);
  char text[600];
  if (c)
    snprintf(text, sizeof text, "found user=%.*s proto=%s transport=%s", STR_ARG(jn_client_username(c)),
             jn_client_protocol(c), jn_client_transport(c));
  else
    snprintf(text, sizeof text, "not found");
  publish_text(s, s->find_result_topic, text, 0);
}

static void uppercase_payload(struct tp *s, jn_message *m) {
  jn_str payload = jn_message_payload(m);
  char *copy = malloc(payload.len + 1); /* + 1: malloc(0) may return NULL */
  jn_str upper;
  size_t i;
  int rc;
  if (!copy) return;
  for (i = 0; i < payload.len; ++i) {
    char c = payload.ptr[i];
    copy[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; /* ASCII only, whatever the locale */
  }
  upper.ptr = copy;
  upper.len = payload.len;
  rc = jn_message_set_payload(m, upper); /* copies */
  if (rc != JN_OK) jn_cb_log(s->plugin, JN_LOG_WARNING, "test_plugin: set_payload failed: %d", rc);
  free(copy);
}

static int on_message_in(int event, void *event_data, void *user_data) {
  struct tp *s = user_data;
  struct jn_evt_message_in *e = event_data;
  jn_str topic = jn_message_topic(e->message);
  /* Every match is decided on the topic as published, before any change. */
  int kick = str_is(topic, s->kick_on_publish_topic), find = str_is(topic, s->find_client_topic);
  int drop = str_is(topic, s->drop_topic), rewrite = str_is(topic, s->rewrite_from);
  int upper = str_is(topic, s->uppercase_topic), set_qos = str_is(topic, s->set_qos_topic);
  int rc = JN_OK;
  (void)event;
  EVENT_LOG(s, "test_plugin: message_in client=%.*s topic=%.*s qos=%d", STR_ARG(client_id_of(e->client)),
            STR_ARG(topic), jn_message_qos(e->message));
  if (kick) {
    jn_str id = e->client ? jn_client_id(e->client) : jn_message_origin_client(e->message);
    rc = jn_cb_disconnect(s->plugin, id, 0);
    if (rc != JN_OK) jn_cb_log(s->plugin, JN_LOG_WARNING, "test_plugin: disconnect failed: %d", rc);
  }
  if (find) find_client(s, jn_message_payload(e->message));
  if (drop) {
    e->reason_code = (uint8_t)s->drop_code;
    e->reason = "dropped by test_plugin";
    return JN_DENY;
  }
  if (rewrite) {
    rc = jn_message_set_topic(e->message, jn_str_of(s->rewrite_to));
    if (rc == JN_OK) rc = jn_message_add_user_property(e->message, jn_str_of("x-test-plugin"), jn_str_of("seen"));
    if (rc != JN_OK) jn_cb_log(s->plugin, JN_LOG_WARNING, "test_plugin: rewrite failed: %d", rc);
  }
  if (upper) uppercase_payload(s, e->message);
  if (set_qos && (rc = jn_message_set_qos(e->message, s->set_qos)) != JN_OK)
    jn_cb_log(s->plugin, JN_LOG_WARNING, "test_plugin: set_qos failed: %d", rc);
  return JN_OK;
}

static int on_message_out(int event, void *event_data, void *user_data) {
  struct tp *s = user_data;
  const struct jn_evt_message_out *e = event_data;
  jn_str id = client_id_of(e->client);
  (void)event;
  EVENT_LOG(s, "test_plugin: message_out client=%.*s topic=%.*s qos=%d", STR_ARG(id),
            STR_ARG(jn_message_topic(e->message)), (int)e->qos);
  return str_is(id, s->out_deny_client) ? JN_DENY : JN_OK;
}

static void on_timer(jn_plugin *plugin, void *user_data) {
  struct tp *s = user_data;
  (void)plugin;
  s->timer_fired = 1; /* a one-shot timer is gone once it ran: nothing to stop */
  publish_text(s, s->timer_publish_topic, "timer", 1);
}

static void on_loop_from_thread(jn_plugin *plugin, void *user_data) {
  struct tp *s = user_data;
  (void)plugin;
  publish_text(s, s->thread_publish_topic, "from-thread", 1);
}

/* Stands for a plugin's worker thread: it may not call jn_cb_* (not even
 * jn_cb_log) except jn_cb_run_on_loop, which hands the rest to the loop. */
static void *thread_main(void *arg) {
  struct tp *s = arg;
  struct timespec delay = {0, 300L * 1000 * 1000};
  while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
  }
  /* JN_ERR_STATE (shutting down) needs nothing: s is freed by cleanup,
   * which joins this thread first. */
  (void)jn_cb_run_on_loop(s->plugin, on_loop_from_thread, s);
  return NULL;
}

static int is_true(const char *v) {
  return strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

/* Decimal, or hex with 0x; the whole value must be a number in [min, max]. */
static int parse_number(struct tp *s, const char *key, const char *value, unsigned long min, unsigned long max,
                        unsigned long *out) {
  char *end;
  int hex = value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
  errno = 0;
  *out = strtoul(value, &end, hex ? 16 : 10);
  if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || *out < min || *out > max) {
    jn_cb_log(s->plugin, JN_LOG_ERROR, "test_plugin: option %s: '%s' is not a number in [%lu, %lu]", key, value,
              min, max);
    return JN_ERR_INVALID;
  }
  return JN_OK;
}

JN_EXPORT int jn_plugin_version(int count, const int *versions) {
  int i;
  for (i = 0; i < count; ++i)
    if (versions[i] == JN_PLUGIN_ABI_VERSION) return JN_PLUGIN_ABI_VERSION;
  return -1;
}

static void free_state(struct tp *s) {
  if (!s) return;
  if (s->thread_started) pthread_join(s->thread, NULL);
  if (s->timer_id != 0 && !s->timer_fired) jn_cb_timer_stop(s->plugin, s->timer_id);
  free(s->find_result_topic);
  free(s);
}

/* Registers unless an earlier step failed, so that init reads as a list. */
static int reg(struct tp *s, int event, jn_event_cb cb, int *rc) {
  if (*rc == JN_OK) {
    *rc = jn_cb_register(s->plugin, event, cb, s);
    if (*rc != JN_OK) jn_cb_log(s->plugin, JN_LOG_ERROR, "test_plugin: registering event %d failed: %d", event, *rc);
  }
  return *rc;
}

JN_EXPORT int jn_plugin_init(jn_plugin *plugin, const jn_option *options, int option_count, void **user_data) {
  struct tp *s = calloc(1, sizeof *s);
  int i, rc = JN_OK;
  unsigned long n;
  if (!s) return JN_ERR_REFUSED;
  s->plugin = plugin;
  s->drop_code = 0x99; /* Payload format invalid */
  s->set_qos = -1;
  for (i = 0; i < option_count && rc == JN_OK; ++i) {
    const char *k = options[i].key, *v = options[i].value;
    if (strcmp(k, "log_events") == 0) s->log_events = is_true(v);
    /* BASIC_AUTH: the allow pair -> JN_OK, deny_user -> JN_DENY, anonymous
     * -> JN_DENY with deny_anonymous, everything else JN_DEFER. */
    else if (strcmp(k, "allow_user") == 0) s->allow_user = v;
    else if (strcmp(k, "allow_password") == 0) s->allow_password = v;
    else if (strcmp(k, "deny_user") == 0) s->deny_user = v;
    else if (strcmp(k, "deny_anonymous") == 0) s->deny_anonymous = is_true(v);
    /* EXT_AUTH with this method: "challenge" / "response" / "welcome". */
    else if (strcmp(k, "ext_auth_method") == 0) s->ext_auth_method = v;
    /* ACL_CHECK (every access): deny_prefix -> JN_DENY, allow_prefix -> JN_OK. */
    else if (strcmp(k, "deny_prefix") == 0) s->deny_prefix = v;
    else if (strcmp(k, "allow_prefix") == 0) s->allow_prefix = v;
    /* MESSAGE_IN on exactly these topics. */
    else if (strcmp(k, "drop_topic") == 0) s->drop_topic = v;
    else if (strcmp(k, "drop_code") == 0) {
      /* Codes under 0x80 are let through: how the broker copes is worth a test. */
      if ((rc = parse_number(s, k, v, 0, 0xff, &n)) == JN_OK) s->drop_code = (int)n;
    } else if (strcmp(k, "rewrite_from") == 0) s->rewrite_from = v;
    else if (strcmp(k, "rewrite_to") == 0) s->rewrite_to = v;
    else if (strcmp(k, "uppercase_topic") == 0) s->uppercase_topic = v;
    else if (strcmp(k, "set_qos_topic") == 0) s->set_qos_topic = v;
    else if (strcmp(k, "set_qos") == 0) {
      if ((rc = parse_number(s, k, v, 0, 2, &n)) == JN_OK) s->set_qos = (int)n;
    } else if (strcmp(k, "kick_on_publish_topic") == 0) s->kick_on_publish_topic = v;
    else if (strcmp(k, "find_client_topic") == 0) s->find_client_topic = v;
    /* MESSAGE_OUT: this subscriber's copies are skipped. */
    else if (strcmp(k, "out_deny_client") == 0) s->out_deny_client = v;
    else if (strcmp(k, "tick_ms") == 0) rc = parse_number(s, k, v, 1, 0xffffffffUL, &s->tick_ms);
    /* One retained publish after init: from a timer (200 ms), or from a
     * thread through jn_cb_run_on_loop (300 ms). */
    else if (strcmp(k, "timer_publish_topic") == 0) s->timer_publish_topic = v;
    else if (strcmp(k, "thread_publish_topic") == 0) s->thread_publish_topic = v;
    else jn_cb_log(plugin, JN_LOG_WARNING, "test_plugin: unknown option %s", k);
  }
  if (rc == JN_OK && (!s->rewrite_from != !s->rewrite_to || !s->set_qos_topic != (s->set_qos < 0) ||
                      !s->allow_user != !s->allow_password)) {
    jn_cb_log(plugin, JN_LOG_ERROR, "test_plugin: rewrite_from/rewrite_to, set_qos_topic/set_qos and "
                                    "allow_user/allow_password go in pairs");
    rc = JN_ERR_INVALID;
  }
  if (rc == JN_OK && s->find_client_topic) {
    size_t len = strlen(s->find_client_topic);
    s->find_result_topic = malloc(len + sizeof "/result");
    if (s->find_result_topic) {
      memcpy(s->find_result_topic, s->find_client_topic, len);
      memcpy(s->find_result_topic + len, "/result", sizeof "/result");
    } else {
      rc = JN_ERR_REFUSED;
    }
  }

  reg(s, JN_EVT_CONNECT, on_lifecycle, &rc);
  reg(s, JN_EVT_DISCONNECT, on_lifecycle, &rc);
  reg(s, JN_EVT_SUBSCRIBE, on_lifecycle, &rc);
  reg(s, JN_EVT_UNSUBSCRIBE, on_lifecycle, &rc);
  reg(s, JN_EVT_SESSION_EXPIRY, on_lifecycle, &rc);
  reg(s, JN_EVT_RELOAD, on_lifecycle, &rc);
  if (s->allow_user || s->deny_user || s->deny_anonymous) reg(s, JN_EVT_BASIC_AUTH, on_basic_auth, &rc);
  if (s->ext_auth_method) {
    reg(s, JN_EVT_EXT_AUTH_START, on_ext_auth, &rc);
    reg(s, JN_EVT_EXT_AUTH_CONTINUE, on_ext_auth, &rc);
  }
  if (s->deny_prefix || s->allow_prefix) reg(s, JN_EVT_ACL_CHECK, on_acl_check, &rc);
  if (s->drop_topic || s->rewrite_from || s->uppercase_topic || s->set_qos_topic || s->kick_on_publish_topic ||
      s->find_client_topic)
    reg(s, JN_EVT_MESSAGE_IN, on_message_in, &rc);
  if (s->out_deny_client) reg(s, JN_EVT_MESSAGE_OUT, on_message_out, &rc);
  if (rc == JN_OK && s->tick_ms) {
    rc = jn_cb_set_tick_interval(plugin, (uint32_t)s->tick_ms);
    if (rc != JN_OK) jn_cb_log(plugin, JN_LOG_ERROR, "test_plugin: set_tick_interval failed: %d", rc);
    reg(s, JN_EVT_TICK, on_lifecycle, &rc);
  }

  /* Timer and thread last, so that a failed init has at most the timer to
   * undo (free_state does). */
  if (rc == JN_OK && s->timer_publish_topic) {
    s->timer_id = jn_cb_timer_start(plugin, 200, 0, on_timer, s);
    if (s->timer_id == 0) {
      jn_cb_log(plugin, JN_LOG_ERROR, "test_plugin: timer_start failed");
      rc = JN_ERR_STATE;
    }
  }
  if (rc == JN_OK && s->thread_publish_topic) {
    if (pthread_create(&s->thread, NULL, thread_main, s) == 0) {
      s->thread_started = 1;
    } else {
      jn_cb_log(plugin, JN_LOG_ERROR, "test_plugin: pthread_create failed");
      rc = JN_ERR_STATE;
    }
  }
  if (rc != JN_OK) {
    free_state(s);
    return rc;
  }
  jn_cb_log(plugin, JN_LOG_NOTICE, "test_plugin: init (%d options)", option_count);
  *user_data = s;
  return JN_OK;
}

JN_EXPORT int jn_plugin_cleanup(jn_plugin *plugin, void *user_data, const jn_option *options, int option_count) {
  (void)options;
  (void)option_count;
  free_state(user_data);
  jn_cb_log(plugin, JN_LOG_NOTICE, "test_plugin: cleanup");
  return JN_OK;
}
