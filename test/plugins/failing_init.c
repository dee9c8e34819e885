/*
 * failing_init: refuses to start, so that a test can check a failing
 * jn_plugin_init stops start-up and its log line gets through.
 */
#include "junction_plugin.h"

JN_EXPORT int jn_plugin_version(int count, const int *versions) {
  int i;
  for (i = 0; i < count; ++i)
    if (versions[i] == JN_PLUGIN_ABI_VERSION) return JN_PLUGIN_ABI_VERSION;
  return -1;
}

JN_EXPORT int jn_plugin_init(jn_plugin *plugin, const jn_option *options, int option_count, void **user_data) {
  (void)options;
  (void)option_count;
  *user_data = NULL;
  jn_cb_log(plugin, JN_LOG_ERROR, "failing_init: refusing to start");
  return JN_ERR_INVALID;
}

JN_EXPORT int jn_plugin_cleanup(jn_plugin *plugin, void *user_data, const jn_option *options, int option_count) {
  (void)user_data;
  (void)options;
  (void)option_count;
  jn_cb_log(plugin, JN_LOG_NOTICE, "failing_init: cleanup");
  return JN_OK;
}
