/*
 * bad_version: asks for an ABI version no broker offers, so that a test
 * can check start-up stops with a message naming this file. init and
 * cleanup exist so that the version is the only thing wrong.
 */
#include "junction_plugin.h"

JN_EXPORT int jn_plugin_version(int count, const int *versions) {
  (void)count;
  (void)versions;
  return 999;
}

JN_EXPORT int jn_plugin_init(jn_plugin *plugin, const jn_option *options, int option_count, void **user_data) {
  (void)options;
  (void)option_count;
  *user_data = NULL;
  jn_cb_log(plugin, JN_LOG_ERROR, "bad_version: init called although the version was refused");
  return JN_OK;
}

JN_EXPORT int jn_plugin_cleanup(jn_plugin *plugin, void *user_data, const jn_option *options, int option_count) {
  (void)plugin;
  (void)user_data;
  (void)options;
  (void)option_count;
  return JN_OK;
}
