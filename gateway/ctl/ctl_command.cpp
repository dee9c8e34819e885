#include "ctl_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "api.h"
#include "http_client.h"
#include "table.h"
#include "terminal.h"
#include "url.h"
#include "views.h"

namespace junction::ctl {

namespace {

constexpr const char* kDefaultUrl = "http://127.0.0.1:8081";

struct Options {
  std::string url = kDefaultUrl;
  std::string user;
  std::string password;
  bool json = false;
  double timeout_s = 10;
  std::string cacert;
  bool insecure = false;
};

// What one command sends and how its success is shown.
struct Call {
  HttpRequest request;
  std::function<std::string(const nlohmann::json&)> render;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "junction ctl: %s\n", message.c_str());
  return kExitUsage;
}

// --password, else JUNCTION_PASSWORD, else a prompt on a terminal.
bool resolve_password(Options& o, std::string& error) {
  if (o.user.empty() || !o.password.empty()) return true;
  if (const char* env = std::getenv("JUNCTION_PASSWORD"); env != nullptr && *env != '\0') {
    o.password = env;
    return true;
  }
  if (!terminal::stdin_is_terminal()) {
    error = "--user " + o.user + " needs a password: --password, JUNCTION_PASSWORD, or run on a terminal";
    return false;
  }
  const std::string prompt = "Password for " + o.user + ": ";
  if (!terminal::read_line(prompt.c_str(), true, o.password)) {
    error = "no password read";
    return false;
  }
  return true;
}

int execute(const Options& o, const Url& url, Call call) {
  ClientOptions client;
  client.url = url;
  client.timeout_ms = static_cast<int>(o.timeout_s * 1000);
  client.tls.ca_file = o.cacert;
  client.tls.insecure = o.insecure;
  if (!o.user.empty()) call.request.authorization = basic_authorization(o.user, o.password);

  const HttpResult result = perform(client, call.request);
  if (const auto* failure = std::get_if<TransportError>(&result)) {
    std::fprintf(stderr, "junction ctl: %s\n", interpret(*failure).error.c_str());
    return kExitConnect;
  }
  const auto& response = std::get<HttpResponse>(result);
  const Answer answer = interpret(response);
  if (o.json && answer.body_is_json) {
    // The server's bytes as they came, one trailing newline.
    std::string out = response.body;
    if (out.empty() || out.back() != '\n') out += '\n';
    std::fputs(out.c_str(), stdout);
  }
  if (answer.exit_code != kExitOk) {
    std::fprintf(stderr, "junction ctl: %s\n", answer.error.c_str());
    return answer.exit_code;
  }
  if (!o.json) {
    const std::string text = call.render(answer.body);
    if (text.empty()) {
      std::fprintf(stderr, "junction ctl: unexpected answer from the server (not the API's shape): %s\n",
                   printable(response.body.substr(0, 200)).c_str());
      return kExitServerError;
    }
    std::fputs(text.c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace

int run_ctl_command(int argc, char** argv) {
  CLI::App cli{"Inspect and manage a running Junction broker over its admin HTTP API", "junction ctl"};
  Options o;
  cli.add_option("--url", o.url, "Admin API base URL (http:// or https://)")
      ->envname("JUNCTION_URL")
      ->capture_default_str();
  cli.add_option("-u,--user", o.user, "Admin user (HTTP Basic authentication)")->envname("JUNCTION_USER");
  cli.add_option("-p,--password", o.password,
                 "Password (else JUNCTION_PASSWORD, else asked on a terminal); visible to other local users in ps");
  cli.add_flag("--json", o.json, "Print the server's JSON answer instead of a table");
  cli.add_option("--timeout", o.timeout_s, "Seconds to wait for the connection and for each answer")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cli.add_option("--cacert", o.cacert, "https: CA file to verify the server with (default: the system's)")
      ->check(CLI::ExistingFile);
  cli.add_flag("-k,--insecure", o.insecure, "https: do not verify the server's certificate");
  cli.require_subcommand(1);
  // Global options may also follow the command: `junction ctl clients --json`.
  cli.fallthrough();
  cli.footer("Exit codes: 0 ok, 1 the server answered an error, 2 usage, 3 cannot connect, 4 authentication failed");

  std::string id, queue, to, filter, topic, payload;
  bool session = false, retain = false;
  std::optional<std::uint64_t> limit;
  int qos = 0;
  auto* status = cli.add_subcommand("status", "Version, uptime, listeners, store and counters");
  auto* clients = cli.add_subcommand("clients", "Connected clients");
  auto* kick = cli.add_subcommand("kick", "Disconnect a client");
  kick->add_option("ID", id, "Client id")->required();
  kick->add_flag("--session", session, "Also remove its session (subscriptions, queued messages)");
  auto* queues = cli.add_subcommand("queues", "Queues with their depth, consumers and oldest message");
  auto* purge = cli.add_subcommand("purge", "Delete every message of a queue");
  purge->add_option("QUEUE", queue, "Queue name")->required();
  auto* move = cli.add_subcommand("move", "Move messages from one queue to another (dead letters back, say)");
  move->add_option("QUEUE", queue, "Source queue")->required();
  move->add_option("--to", to, "Destination queue")->required();
  move->add_option("--limit", limit, "Move at most N messages (default: all)")->check(CLI::PositiveNumber);
  auto* retained = cli.add_subcommand("retained", "Retained messages");
  retained->add_option("--filter", filter, "Only topics matching this MQTT filter (sensors/+/temp, a/#)");
  auto* bridges = cli.add_subcommand("bridges", "Bridges and their state");
  auto* publish = cli.add_subcommand("publish", "Publish a message");
  publish->add_option("TOPIC", topic, "Topic")->required();
  publish->add_option("PAYLOAD", payload, "Payload (UTF-8 text)")->required();
  publish->add_option("--qos", qos, "QoS 0, 1 or 2")->check(CLI::Range(0, 2))->capture_default_str();
  publish->add_flag("--retain", retain, "Retain the message");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help ends here with 0; a bad command line is kExitUsage.
    return cli.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  // The URL first: a typo should not cost a password prompt.
  std::string error;
  const auto url = parse_url(o.url, error);
  if (!url) return usage_error(error);
  if (!resolve_password(o, error)) return usage_error(error);

  Call call;
  if (status->parsed()) {
    call = {get_request("/api/v1/broker"), render_status};
  } else if (clients->parsed()) {
    call = {get_request("/api/v1/clients"), render_clients};
  } else if (kick->parsed()) {
    call = {kick_request(id, session), [&](const nlohmann::json& j) { return render_kick(j, id); }};
  } else if (queues->parsed()) {
    call = {get_request("/api/v1/queues"), render_queues};
  } else if (purge->parsed()) {
    call = {purge_request(queue), [&](const nlohmann::json& j) { return render_purge(j, queue); }};
  } else if (move->parsed()) {
    call = {move_request(queue, to, limit), [&](const nlohmann::json& j) { return render_move(j, queue, to); }};
  } else if (retained->parsed()) {
    if (!filter.empty() && !valid_topic_filter(filter)) return usage_error("'" + filter + "' is not an MQTT topic filter");
    call = {retained_request(filter), render_retained};
  } else if (bridges->parsed()) {
    call = {get_request("/api/v1/bridges"), render_bridges};
  } else if (publish->parsed()) {
    auto req = publish_request(topic, payload, qos, retain, error);
    if (!req) return usage_error(error);
    call = {std::move(*req), [&](const nlohmann::json& j) { return render_publish(j, topic); }};
  }
  return execute(o, *url, std::move(call));
}

}  // namespace junction::ctl
