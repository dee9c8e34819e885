/*
 * token_auth: accepts users by a static list of tokens that expire: the
 * checks a JWT plugin makes once the signature is verified, without the
 * crypto. See README.md for the options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "junction_plugin.h"

/* printf arguments for a jn_str (never NUL-terminated) under "%.*s". */
#define STR_ARG(s) (int)((s).len > 200 ? 200 : (s).len), ((s).ptr ? (s).ptr : "")

struct entry {
  jn_str user;       /* both point into state.buf */
  jn_str token;
  int64_t expires_s; /* 0: never */
};

struct state {
  jn_plugin *plugin;
  char *buf; /* a copy of the `tokens` option, which the entries point into */
  struct entry *entries;
  size_t count;
  const char *method; /* option values live until cleanup returns */
};

static int str_eq(jn_str a, jn_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The time taken depends on the stored token's length only, so how fast a
 * guess is refused tells a client nothing about how much of it was right. */
static int token_equal(jn_str stored, jn_str given) {
  unsigned diff = given.len != stored.len;
  size_t i;
  for (i = 0; i < stored.len; ++i) {
    unsigned char g = i < given.len ? (unsigned char)given.ptr[i] : 0;
    diff |= (unsigned)(g ^ (unsigned char)stored.ptr[i]);
  }
  return diff == 0;
}

/* JN_DEFER for a user not in the list. A user may have several entries (a
 * token being rotated): any live match admits, and every entry is compared
 * so that the timing does not say which one matched. */
static int check(struct state *s, jn_str user, jn_str token, int *expired) {
  int known = 0, live = 0;
  int64_t now_ms = jn_cb_now_ms(s->plugin);
  size_t i;
  *expired = 0;
  for (i = 0; i < s->count; ++i) {
    const struct entry *e = &s->entries[i];
    if (!str_eq(e->user, user)) continue;
    known = 1;
    if (!token_equal(e->token, token)) continue;
    if (e->expires_s != 0 && now_ms >= e->expires_s * 1000) *expired = 1;
    else live = 1;
  }
  if (!known) return JN_DEFER;
  if (live) return JN_OK;
  jn_cb_log(s->plugin, JN_LOG_NOTICE, "user '%.*s' refused: %s", STR_ARG(user),
            *expired ? "its token expired" : "wrong token");
  return JN_DENY;
}

static int on_basic_auth(int event, void *event_data, void *user_data) {
  struct jn_evt_basic_auth *e = event_data;
  int expired;
  (void)event;
  /* A certificate identity was already verified by TLS: not ours to judge. */
  if (!e->has_username || e->from_certificate) return JN_DEFER;
  return check(user_data, e->username, e->has_password ? e->password : jn_str_of(NULL), &expired);
}

/* The method is ours, so an unknown user is refused rather than deferred:
 * no later member would understand this Authentication Data either. */
static int on_ext_auth_start(int event, void *event_data, void *user_data) {
  struct jn_evt_ext_auth *e = event_data;
  struct state *s = user_data;
  const char *colon;
  jn_str user, token;
  int rc, expired = 0;
  (void)event;
  if (!str_eq(e->method, jn_str_of(s->method))) return JN_DEFER;
  colon = e->data_in.len ? memchr(e->data_in.ptr, ':', e->data_in.len) : NULL;
  if (!colon) {
    e->reason = "authentication data is not user:token";
    return JN_DENY;
  }
  user.ptr = e->data_in.ptr;
  user.len = (size_t)(colon - e->data_in.ptr);
  token.ptr = colon + 1;
  token.len = e->data_in.len - user.len - 1;
  rc = check(s, user, token, &expired);
  if (rc == JN_OK) return JN_OK;
  e->reason = expired ? "token expired" : "not authorized";
  return JN_DENY;
}

static int on_reload(int event, void *event_data, void *user_data) {
  struct state *s = user_data;
  (void)event;
  (void)event_data;
  jn_cb_log(s->plugin, JN_LOG_INFO, "reload: options are unchanged, %lu token(s) kept", (unsigned long)s->count);
  return JN_OK;
}

/* Splits a copy of `tokens` in place. The token is what lies between the
 * first and the last colon, so a token may contain colons, a user name may
 * not. Errors name an entry by position and user, never by its token. */
static int parse_tokens(struct state *s, const char *value) {
  size_t n = strlen(value), i, entries = 1;
  char *next;
  for (i = 0; i < n; ++i) entries += value[i] == ',';
  s->buf = malloc(n + 1);
  s->entries = calloc(entries, sizeof *s->entries);
  if (!s->buf || !s->entries) return JN_ERR_REFUSED;
  memcpy(s->buf, value, n + 1);
  for (next = s->buf; next; ++s->count) {
    struct entry *e = &s->entries[s->count];
    char *p = next, *end, *first, *last;
    next = strchr(p, ',');
    if (next) *next++ = '\0';
    while (*p == ' ') ++p;
    for (end = p + strlen(p); end > p && end[-1] == ' ';) *--end = '\0';
    first = strchr(p, ':');
    last = strrchr(p, ':');
    /* At most 14 digits (3 million years): expires_s * 1000 cannot overflow. */
    if (!first || first == p || last - first < 2 || !last[1] || strlen(last + 1) > 14 ||
        strspn(last + 1, "0123456789") != strlen(last + 1)) {
      jn_cb_log(s->plugin, JN_LOG_ERROR, "tokens entry %lu (user '%.*s') is malformed: want user:token:expires, "
                "expires in Unix seconds", (unsigned long)s->count + 1, first ? (int)(first - p) : 0, p);
      return JN_ERR_INVALID;
    }
    e->user.ptr = p;
    e->user.len = (size_t)(first - p);
    e->token.ptr = first + 1;
    e->token.len = (size_t)(last - first - 1);
    e->expires_s = strtoll(last + 1, NULL, 10);
  }
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
  const char *tokens = NULL;
  int i, rc;
  if (!s) return JN_ERR_REFUSED;
  s->plugin = plugin;
  for (i = 0; i < option_count; ++i) {
    if (strcmp(options[i].key, "tokens") == 0) tokens = options[i].value;
    else if (strcmp(options[i].key, "method") == 0) s->method = options[i].value;
    else jn_cb_log(plugin, JN_LOG_WARNING, "unknown option '%s' ignored", options[i].key);
  }
  if (!tokens) {
    jn_cb_log(plugin, JN_LOG_ERROR, "option 'tokens' (user:token:expires,...) is missing");
    rc = JN_ERR_INVALID;
  } else {
    rc = parse_tokens(s, tokens);
  }
  if (rc == JN_OK) rc = jn_cb_register(plugin, JN_EVT_BASIC_AUTH, on_basic_auth, s);
  if (rc == JN_OK && s->method) rc = jn_cb_register(plugin, JN_EVT_EXT_AUTH_START, on_ext_auth_start, s);
  if (rc == JN_OK) rc = jn_cb_register(plugin, JN_EVT_RELOAD, on_reload, s);
  if (rc != JN_OK) {
    jn_plugin_cleanup(plugin, s, options, option_count);
    return rc;
  }
  jn_cb_log(plugin, JN_LOG_INFO, "%lu token(s)%s%s", (unsigned long)s->count,
            s->method ? ", authentication method " : "", s->method ? s->method : "");
  *user_data = s;
  return JN_OK;
}

JN_EXPORT int jn_plugin_cleanup(jn_plugin *plugin, void *user_data, const jn_option *options, int option_count) {
  struct state *s = user_data;
  (void)plugin;
  (void)options;
  (void)option_count;
  if (s) {
    free(s->entries);
    free(s->buf);
    free(s);
  }
  return JN_OK;
}
