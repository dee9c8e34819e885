// junction — the command line. Everything the broker is lives in the app
// library (gateway/app/app.h); this file parses arguments, loads and checks
// the configuration, and runs an app::App.
//
//   junction [--config FILE] [--check-config] [--version]
//   junction passwd [-c] [-b] [-D] FILE USER [PASSWORD]   (passwd_command.h)
//   junction ctl [--url URL] [--user U] [--json] COMMAND ...  (ctl/ctl_command.h)
//
// Exit codes: 0 clean exit (or --version, --help, --check-config OK); 1 a
// configuration or command-line error (message on stderr); 2 start-up
// failed (store, bind); 3 the event loop closed with handles still open (a
// bug, logged). Signals: see app.h. Under systemd (Type=notify) READY=1 is
// sent once every listener is bound and STOPPING=1 when the loop is done.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "app.h"
#include "auth_file_error.h"
#include "config.h"
#include "ctl_command.h"
#include "log.h"
#include "module_options.h"
#include "passwd_command.h"
#include "sd_notify.h"

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace {
constexpr int kExitConfig = 1;
constexpr int kExitStartup = 2;

// A broken NOTIFY_SOCKET is worth a line in the log, not a failed start:
// systemd will time the start out on its own if READY=1 never arrives.
void notify_systemd(junction::sd::NotifyResult (*send)(std::string*)) {
  std::string error;
  if (send(&error) == junction::sd::NotifyResult::Failed) junction::log::warning("sd_notify: %s", error.c_str());
}
}  // namespace

int main(int argc, char** argv) {
  using namespace junction;
  if (argc > 1 && std::strcmp(argv[1], "passwd") == 0) return run_passwd_command(argc - 1, argv + 1);
  if (argc > 1 && std::strcmp(argv[1], "ctl") == 0) return ctl::run_ctl_command(argc - 1, argv + 1);

  CLI::App cli{"Junction: a multi-protocol IoT gateway broker (MQTT 3.1, 3.1.1 and 5.0; STOMP 1.0, 1.1 and 1.2 on TCP, "
               "TLS and WebSocket; bridges to XMPP and AMQP 0-9-1)",
               "junction"};
  std::string config_path;
  bool check_only = false;
  cli.add_option("-c,--config", config_path, "YAML configuration file (default: the built-in conf/junction.yaml)");
  cli.add_flag("--check-config", check_only, "Load and validate the configuration, then exit");
  cli.set_version_flag("--version", "junction " JUNCTION_VERSION);
  cli.footer("Password files: junction passwd [-c] [-b] [-D] FILE USER [PASSWORD] (see junction passwd --help)\n"
             "Admin client: junction ctl [--url URL] COMMAND (see junction ctl --help)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with 0; a bad command line is exit 1.
    return cli.exit(e) == 0 ? app::kExitOk : kExitConfig;
  }

  Config cfg;
  try {
    cfg = config_path.empty() ? default_config() : load_config(config_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitConfig;
  }
  std::unique_ptr<auth::AuthService> access;
  try {
    access = app::load_auth(cfg.auth);
  } catch (const auth::AuthFileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitConfig;
  }
  if (check_only) {
    std::printf("%s: configuration OK\n", cfg.source.c_str());
    return app::kExitOk;
  }

  log::set_level(cfg.log.level);
  // A peer that vanishes mid-write must cost an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  log::notice("junction %s starting (configuration: %s)", JUNCTION_VERSION, cfg.source.c_str());

  try {
    app::App app(std::move(cfg), config_path, std::move(access));
    app.start();
    notify_systemd(sd::notify_ready);
    const int rc = app.run();
    notify_systemd(sd::notify_stopping);
    return rc;
  } catch (const std::exception& e) {
    log::error("start-up failed: %s", e.what());
    return kExitStartup;
  }
}
