/*
 * junction_plugin.h: the plugin ABI of the Junction broker.
 *
 * This is the only header a plugin needs. It is plain C (C99 and later,
 * C++ too), has no broker types and no libuv, LMDB or mbedTLS types.
 * docs/PLUGINS.md is the reference with examples; this header is the
 * contract. Names follow one rule: jn_plugin_* are what a plugin exports,
 * jn_cb_* are broker functions a plugin calls, jn_client_* / jn_message_*
 * read (and in JN_EVT_MESSAGE_IN change) the handles events carry, and
 * JN_EVT_* name events.
 *
 * LIFE OF A PLUGIN
 *   dlopen(path, RTLD_NOW | RTLD_LOCAL), then
 *   1. jn_plugin_version(count, versions): the broker lists the ABI versions
 *      it offers; the plugin returns the one it was written for (normally
 *      JN_PLUGIN_ABI_VERSION), or -1 if it supports none of them: start-up
 *      stops with a message naming the file.
 *   2. jn_plugin_init(plugin, options, option_count, &user_data): registers
 *      callbacks (jn_cb_register) and reads its options; it may start timers
 *      and threads and log, but not publish (no client is served yet). A
 *      result other than JN_OK stops start-up: what the plugin registered
 *      is dropped, its cleanup is NOT called (free your state before
 *      returning), and the plugins initialised before it are cleaned up.
 *   3. events, until shutdown;
 *   4. jn_plugin_cleanup(plugin, user_data, options, option_count): the
 *      plugin frees what it holds (joining its threads is fine: nothing
 *      waits on the loop). Its timers are already stopped and no callback
 *      or queued jn_cb_run_on_loop function runs after this; jn_cb_log
 *      still works, jn_cb_publish answers JN_ERR_STATE.
 *   Plugins are initialised in config order and cleaned up in reverse.
 *
 * THREADING
 *   Every callback runs on the broker's event loop thread, and every jn_cb_*
 *   function must be called from it (from a callback or a timer), except
 *   jn_cb_run_on_loop(), which any thread may call: it is how a plugin that
 *   does blocking work in its own threads hands results back. A callback
 *   must not block: the loop serves every client.
 *
 * POINTERS
 *   Handles (jn_client, jn_message) and every jn_str given to a callback or
 *   returned by an accessor are valid until that callback returns; copy what
 *   you keep. Strings are pointer + length (jn_str) and are not
 *   NUL-terminated unless a function says so. Options' keys and values are
 *   NUL-terminated, exactly as written in the config (a boolean may be
 *   "true" or "yes"...), and live until cleanup returns.
 *
 * CHAINS
 *   Authentication (JN_EVT_BASIC_AUTH, JN_EVT_EXT_AUTH_*) and authorization
 *   (JN_EVT_ACL_CHECK) callbacks form chains in config order, the built-in
 *   password file and ACL file being members too ("builtin" entries of
 *   `plugins:`; first unless placed). Each answers JN_OK (allow: the chain
 *   stops), JN_DENY (refuse: the chain stops) or JN_DEFER (ask the next).
 *   When every member defers, the answer is "refused" if the chain has a
 *   member at all, and "allowed" if it has none (no password file, no
 *   authentication plugin: any user name is accepted, as Mosquitto does).
 *   Other events call every registered callback in config order.
 *   Register chain events in jn_plugin_init: the chains are put together
 *   when start-up has loaded every plugin.
 *
 * VERSIONING PROMISE
 *   JN_PLUGIN_ABI_VERSION changes only when something a built plugin relies
 *   on changes: a function's or callback's signature or meaning, an event
 *   number, a constant's value, a field's offset. Within one ABI version a
 *   release may only ADD: functions, events, constants, and fields at the END
 *   of the event structs (each starts with struct_size, so a plugin can test
 *   whether a field is there). The broker keeps offering older ABI versions
 *   it can still serve. A plugin calling a function newer than the broker
 *   fails to load (dlopen names the missing symbol).
 */
#ifndef JUNCTION_PLUGIN_H
#define JUNCTION_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JN_PLUGIN_ABI_VERSION 1

#if defined(__GNUC__) || defined(__clang__)
#define JN_EXPORT __attribute__((visibility("default")))
#define JN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define JN_EXPORT
#define JN_PRINTF(f, a)
#endif

/* ---- results -------------------------------------------------------- */

enum jn_rc {
  JN_OK = 0,            /* done; in a check: allow */
  JN_DENY = 1,          /* in a check: refuse; in JN_EVT_MESSAGE_IN/OUT: drop */
  JN_DEFER = 2,         /* in a check: not mine, ask the next member */
  JN_AUTH_CONTINUE = 3, /* JN_EVT_EXT_AUTH_*: send data_out, await the client's next AUTH */
  JN_ERR_INVALID = -1,  /* a bad argument (a malformed topic, an unknown event...) */
  JN_ERR_NOT_FOUND = -2,/* no such client, timer... */
  JN_ERR_STATE = -3,    /* not allowed now (wrong event, shutting down); calls from
                           another thread are not detected: they are a data race */
  JN_ERR_REFUSED = -4   /* the broker turned it down (a full queue, a store limit) */
};

/* ---- plain data ------------------------------------------------------ */

typedef struct jn_str {
  const char *ptr; /* may be NULL when len is 0 */
  size_t len;
} jn_str;

typedef struct jn_option {
  const char *key;   /* NUL-terminated */
  const char *value; /* NUL-terminated; numbers and booleans as written in the config */
} jn_option;

typedef struct jn_user_property {
  jn_str name;
  jn_str value;
} jn_user_property;

/* Opaque handles. */
typedef struct jn_plugin jn_plugin;   /* one loaded plugin (one config entry) */
typedef struct jn_client jn_client;   /* a connected client, during one callback */
typedef struct jn_message jn_message; /* a message, during one callback */

/* ---- what a plugin exports ------------------------------------------ */
/* All three are required; a missing one stops start-up. */

/* Returns one of versions[0..count-1], or -1. */
JN_EXPORT int jn_plugin_version(int count, const int *versions);
JN_EXPORT int jn_plugin_init(jn_plugin *plugin, const jn_option *options, int option_count, void **user_data);
JN_EXPORT int jn_plugin_cleanup(jn_plugin *plugin, void *user_data, const jn_option *options, int option_count);

/* ---- events ---------------------------------------------------------- */

enum jn_event {
  JN_EVT_BASIC_AUTH = 1,         /* struct jn_evt_basic_auth; chain */
  JN_EVT_EXT_AUTH_START = 2,     /* struct jn_evt_ext_auth; chain by method */
  JN_EVT_EXT_AUTH_CONTINUE = 3,  /* struct jn_evt_ext_auth */
  JN_EVT_ACL_CHECK = 4,          /* struct jn_evt_acl_check; chain */
  JN_EVT_MESSAGE_IN = 5,         /* struct jn_evt_message_in */
  JN_EVT_MESSAGE_OUT = 6,        /* struct jn_evt_message_out */
  JN_EVT_CONNECT = 7,            /* struct jn_evt_connect */
  JN_EVT_DISCONNECT = 8,         /* struct jn_evt_disconnect */
  JN_EVT_SUBSCRIBE = 9,          /* struct jn_evt_subscribe */
  JN_EVT_UNSUBSCRIBE = 10,       /* struct jn_evt_subscribe */
  JN_EVT_SESSION_EXPIRY = 11,    /* struct jn_evt_session_expiry */
  JN_EVT_TICK = 12,              /* struct jn_evt_tick; period: jn_cb_set_tick_interval */
  JN_EVT_RELOAD = 13             /* struct jn_evt_reload; SIGHUP */
};

/* One signature for every event: `event` is the JN_EVT_* value, event_data
 * points to the event's struct, user_data is what jn_cb_register was given. */
typedef int (*jn_event_cb)(int event, void *event_data, void *user_data);

/* A client's user name and password (both optional: MQTT without a user
 * name, STOMP without login), or its TLS certificate identity. Called for
 * anonymous clients the listener admits, too (has_username 0): JN_DENY
 * refuses them, JN_DEFER/JN_OK leave them admitted.
 * Answer JN_OK, JN_DENY or JN_DEFER. */
struct jn_evt_basic_auth {
  size_t struct_size;
  jn_client *client;  /* client id, peer, listener, certificate (no user yet) */
  int has_username;
  jn_str username;
  int has_password;
  jn_str password;    /* bytes; never log it */
  int from_certificate; /* username is the verified certificate identity (use_identity_as_username) */
};

/* MQTT 5 enhanced authentication [MQTT-4.12]. START comes with the CONNECT
 * (a plugin that does not know `method` answers JN_DEFER); CONTINUE with each
 * AUTH the client sends back (only to the plugin that answered
 * JN_AUTH_CONTINUE; `method` is set on both). Answer JN_OK (CONNACK success,
 * with data_out if set), JN_AUTH_CONTINUE (AUTH 0x18 with data_out), JN_DENY
 * (CONNACK 0x87 Not authorized) or, on START, JN_DEFER. data_out and reason
 * are read right after the callback returns: point them at static or
 * plugin-owned memory that is still valid then (the broker copies them).
 * After the CONNACK the client may re-authenticate (AUTH 0x19): the same
 * START/CONTINUE events run again; JN_DENY then ends the connection
 * (DISCONNECT 0x87). On JN_OK the client is
 * authenticated (JN_EVT_BASIC_AUTH is not asked); its user name is the
 * CONNECT's, if it sent one. */
struct jn_evt_ext_auth {
  size_t struct_size;
  jn_client *client;
  jn_str method;
  jn_str data_in;       /* Authentication Data of the CONNECT or AUTH (may be empty) */
  const void *data_out; /* set by the plugin */
  size_t data_out_len;
  const char *reason;   /* set by the plugin: reason string, NUL-terminated (optional) */
};

enum jn_access {
  JN_ACCESS_READ = 1,      /* a message is about to be delivered to client */
  JN_ACCESS_WRITE = 2,     /* client publishes (or its will) to topic */
  JN_ACCESS_SUBSCRIBE = 4  /* client subscribes with filter `topic` */
};

/* Topics are the broker's core names whatever the protocol: MQTT topics as
 * they are, STOMP `/topic/<name>` as `<name>` and `/queue/<q>` as `$queue/<q>`.
 * Answer JN_OK, JN_DENY or JN_DEFER. A subscription a plugin allows is
 * checked again per message on delivery (JN_ACCESS_READ), so answer READ as
 * you answer SUBSCRIBE; those checks run for every delivery to such
 * clients: keep them fast. For the message itself, see JN_EVT_MESSAGE_IN
 * and JN_EVT_MESSAGE_OUT. */
struct jn_evt_acl_check {
  size_t struct_size;
  jn_client *client;
  jn_str topic;              /* a topic name, or a filter for JN_ACCESS_SUBSCRIBE */
  int access;                /* enum jn_access */
};

/* A message entering the broker: from a client (MQTT PUBLISH, STOMP SEND),
 * a will, a bridge, the admin API. Not for messages a plugin publishes
 * itself. The plugin may change the message (jn_message_set_*) and answer
 * JN_OK, or drop it: JN_DENY with reason_code (an MQTT 5 PUBACK/PUBREC
 * reason code >= 0x80; 0: 0x83 Implementation specific error) and reason
 * (NUL-terminated, copied): the MQTT 5 publisher gets both, a STOMP
 * publisher an ERROR frame with the reason, an MQTT 3 publisher an
 * acknowledgement (it has no negative one). Only the codes a PUBACK/PUBREC
 * may carry pass: 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99; any other
 * becomes 0x83. reason is read right after the callback returns (static or
 * plugin-owned memory). A jn_str read from the message before a
 * jn_message_set_* call on the same field is no longer valid after it. */
struct jn_evt_message_in {
  size_t struct_size;
  jn_client *client;    /* the publisher's session (an MQTT or STOMP client, a bridge's own
                           session); NULL for wills and the admin API */
  jn_message *message;  /* changeable */
  uint8_t reason_code;  /* set by the plugin with JN_DENY */
  const char *reason;   /* set by the plugin with JN_DENY */
};

/* A message about to be queued or sent to one subscriber (topic
 * subscriptions; queue deliveries are not included). Answer JN_OK, or
 * JN_DENY to skip this subscriber's copy. Costs one call per delivery: the
 * broker skips it entirely when no plugin registers it. */
struct jn_evt_message_out {
  size_t struct_size;
  jn_client *client;           /* the subscriber (may be offline: a persistent session) */
  const jn_message *message;
  uint8_t qos;                 /* the delivery's QoS */
};

struct jn_evt_connect {
  size_t struct_size;
  jn_client *client;
};

enum jn_disconnect_reason {
  JN_DISCONNECT_NORMAL = 0,      /* the client disconnected cleanly */
  JN_DISCONNECT_ERROR = 1,       /* network loss, keep-alive timeout, protocol error (will published) */
  JN_DISCONNECT_TAKEN_OVER = 2,  /* another connection took its client id */
  JN_DISCONNECT_ADMIN = 3,       /* an operator or a plugin disconnected it */
  JN_DISCONNECT_SHUTDOWN = 4     /* the broker stops */
};

struct jn_evt_disconnect {
  size_t struct_size;
  jn_client *client;
  int reason;  /* enum jn_disconnect_reason */
};

struct jn_evt_subscribe {
  size_t struct_size;
  jn_client *client;
  jn_str filter;  /* core filter, with a $share/<group>/ prefix if shared */
  uint8_t qos;    /* JN_EVT_SUBSCRIBE: the granted maximum QoS; 0 for UNSUBSCRIBE */
};

struct jn_evt_session_expiry {
  size_t struct_size;
  jn_str client_id;
};

struct jn_evt_tick {
  size_t struct_size;
  int64_t now_ms;  /* wall clock, ms since 1970 */
};

struct jn_evt_reload {
  size_t struct_size;
  const jn_option *options;  /* as at start-up (the config file's plugin entries are not re-read) */
  int option_count;
};

/* ---- broker functions (jn_cb_*): loop thread only unless stated ----- */

/* Registers callback for event (several events may share one callback).
 * Registering the same (event, callback) twice is JN_ERR_INVALID. */
int jn_cb_register(jn_plugin *plugin, int event, jn_event_cb callback, void *user_data);
int jn_cb_unregister(jn_plugin *plugin, int event, jn_event_cb callback);
/* The JN_EVT_TICK period for this plugin, in ms (default 1000; below 10:
 * JN_ERR_INVALID). */
int jn_cb_set_tick_interval(jn_plugin *plugin, uint32_t interval_ms);

enum jn_log_level { JN_LOG_DEBUG = 0, JN_LOG_INFO = 1, JN_LOG_NOTICE = 2, JN_LOG_WARNING = 3, JN_LOG_ERROR = 4 };
/* printf-style; the broker prefixes the plugin's name. */
void jn_cb_log(jn_plugin *plugin, int level, const char *format, ...) JN_PRINTF(3, 4);

/* Publishes a message as the broker. topic is a core name: a topic, or
 * "$queue/<name>" for a queue, or "$delayed/<seconds>/<topic>". Returns
 * JN_OK, JN_ERR_INVALID (bad topic, qos > 2, $SYS/...), JN_ERR_REFUSED (a
 * full queue, a store limit) or JN_ERR_STATE (shutting down). */
struct jn_publish {
  size_t struct_size;  /* sizeof(struct jn_publish) */
  jn_str topic;
  jn_str payload;
  int qos;
  int retain;
  uint32_t message_expiry_s;  /* 0: never */
  jn_str content_type;
  const jn_user_property *user_properties;
  size_t user_property_count;
};
int jn_cb_publish(jn_plugin *plugin, const struct jn_publish *message);

/* Disconnects the client (MQTT 5: DISCONNECT 0x98 Administrative action;
 * STOMP: ERROR); no will. remove_session also ends its session. It takes
 * effect once the current callback chain has returned (on the next loop
 * turn), so it is safe inside an event about that very client.
 * JN_ERR_NOT_FOUND: no such session (or not connected, without
 * remove_session). */
int jn_cb_disconnect(jn_plugin *plugin, jn_str client_id, int remove_session);

/* A connected client by id, valid until the calling callback returns or
 * the next jn_cb_find_client call, whichever comes first; NULL if it is
 * not connected. */
jn_client *jn_cb_find_client(jn_plugin *plugin, jn_str client_id);

/* Timers. fn runs on the loop; a one-shot timer (repeat 0) is gone after
 * it ran. Returns an id > 0, or 0 on error. */
typedef void (*jn_timer_cb)(jn_plugin *plugin, void *user_data);
uint64_t jn_cb_timer_start(jn_plugin *plugin, uint32_t ms, int repeat, jn_timer_cb fn, void *user_data);
int jn_cb_timer_stop(jn_plugin *plugin, uint64_t timer_id);

/* The completion function for blocking work: ANY thread may call this; fn
 * runs on the loop thread soon after (in call order per calling thread),
 * where it may call every jn_cb_* function. It never blocks. Returns
 * JN_ERR_STATE once the broker is shutting down (fn then never runs: free
 * user_data yourself); a function queued before cleanup that has not run
 * by then never runs either. */
typedef void (*jn_loop_cb)(jn_plugin *plugin, void *user_data);
int jn_cb_run_on_loop(jn_plugin *plugin, jn_loop_cb fn, void *user_data);

/* Wall clock in ms since 1970, as the broker sees it. */
int64_t jn_cb_now_ms(jn_plugin *plugin);
/* The plugin's name: the file name without directory and extension. NUL-terminated. */
const char *jn_cb_plugin_name(jn_plugin *plugin);

/* ---- client accessors ------------------------------------------------ */

jn_str jn_client_id(const jn_client *client);
/* The authenticated user name (empty for anonymous clients and during
 * JN_EVT_BASIC_AUTH). */
jn_str jn_client_username(const jn_client *client);
int jn_client_is_anonymous(const jn_client *client);
/* "mqtt", "stomp", "xmpp", "amqp"... NUL-terminated; "" if unknown. */
const char *jn_client_protocol(const jn_client *client);
/* MQTT: 3, 4 or 5; STOMP: 10, 11, 12; 0 if unknown. */
int jn_client_protocol_version(const jn_client *client);
/* Numeric peer address ("127.0.0.1", "::1"); empty for a bridge. */
jn_str jn_client_peer_address(const jn_client *client);
int jn_client_peer_port(const jn_client *client);
/* "tcp", "tls", "ws", "wss"; NUL-terminated. */
const char *jn_client_transport(const jn_client *client);
/* The listener's name, e.g. "mqtt/tcp 127.0.0.1:1883". */
jn_str jn_client_listener(const jn_client *client);
/* The verified TLS client certificate's identity; empty without one. */
jn_str jn_client_cert_identity(const jn_client *client);

/* ---- message accessors ----------------------------------------------- */

jn_str jn_message_topic(const jn_message *message);
jn_str jn_message_payload(const jn_message *message);
int jn_message_qos(const jn_message *message);
int jn_message_retain(const jn_message *message);
/* The publisher's client id; empty for the broker's own messages. */
jn_str jn_message_origin_client(const jn_message *message);
/* Time the broker received it, ms since 1970. */
int64_t jn_message_created_ms(const jn_message *message);
jn_str jn_message_content_type(const jn_message *message);
size_t jn_message_user_property_count(const jn_message *message);
/* The index-th user property; JN_ERR_NOT_FOUND past the end. */
int jn_message_user_property(const jn_message *message, size_t index, jn_user_property *out);

/* Only in JN_EVT_MESSAGE_IN (JN_ERR_STATE elsewhere); the values are copied.
 * set_topic refuses (JN_ERR_INVALID) a topic that is not a valid topic name
 * or is under $SYS/. set_qos lowers or raises the QoS the message is routed
 * with (the publisher's own acknowledgement does not change). */
int jn_message_set_topic(jn_message *message, jn_str topic);
int jn_message_set_payload(jn_message *message, jn_str payload);
int jn_message_set_qos(jn_message *message, int qos);
int jn_message_set_retain(jn_message *message, int retain);
int jn_message_set_content_type(jn_message *message, jn_str content_type);
int jn_message_add_user_property(jn_message *message, jn_str name, jn_str value);
/* Removes every user property called name; JN_ERR_NOT_FOUND if none. */
int jn_message_remove_user_property(jn_message *message, jn_str name);

/* A jn_str from a NUL-terminated string (or NULL: empty). */
static inline jn_str jn_str_of(const char *s) {
  jn_str r;
  size_t n = 0;
  if (s) {
    while (s[n]) ++n;
  }
  r.ptr = s;
  r.len = n;
  return r;
}

#ifdef __cplusplus
}
#endif

#endif /* JUNCTION_PLUGIN_H */
