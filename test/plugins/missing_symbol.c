/*
 * missing_symbol: has no jn_plugin_cleanup, so that a test can check the
 * broker refuses a plugin missing one of the three required exports
 * (rather than crashing at shutdown).
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
  jn_cb_log(plugin, JN_LOG_ERROR, "missing_symbol: init called although jn_plugin_cleanup is missing");
  return JN_OK;
}
