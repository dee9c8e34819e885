#include "api.h"

#include "http_uri.h"
#include "table.h"
#include "url.h"

namespace junction::ctl {

namespace {

// The answer's own words when it has them ({"error": "..."}), else its
// status line, else the start of its body; control characters escaped, as
// this goes to the operator's terminal.
std::string error_text(const HttpResponse& r, const nlohmann::json& body, bool is_json) {
  if (is_json && body.is_object()) {
    const auto it = body.find("error");
    if (it != body.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      return printable(it->get_ref<const std::string&>());
  }
  if (!r.reason.empty()) return printable(r.reason);
  std::string start = r.body.substr(0, 200);
  for (char& c : start)
    if (c == '\n' || c == '\r') c = ' ';
  return start.empty() ? "no reason given" : printable(start);
}

}  // namespace

Answer interpret(const HttpResponse& response) {
  Answer a;
  a.body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  a.body_is_json = !a.body.is_discarded();
  if (!a.body_is_json) a.body = nullptr;
  const int s = response.status;
  if (s >= 200 && s < 300) {
    if (!a.body_is_json) {
      a.exit_code = kExitServerError;
      a.error = "the server's answer (HTTP " + std::to_string(s) + ") is not JSON: is this Junction's admin listener?";
    }
    return a;
  }
  const std::string why = error_text(response, a.body, a.body_is_json);
  if (s == 401) {
    a.exit_code = kExitAuth;
    a.error = "authentication failed: " + why + " (give --user and --password, or JUNCTION_PASSWORD)";
  } else if (s == 403) {
    a.exit_code = kExitAuth;
    a.error = "not allowed: " + why;
  } else {
    a.exit_code = kExitServerError;
    a.error = why + " (HTTP " + std::to_string(s) + ")";
  }
  return a;
}

Answer interpret(const TransportError& error) {
  Answer a;
  a.exit_code = kExitConnect;
  a.error = error.message;
  return a;
}

HttpRequest get_request(std::string_view target) { return HttpRequest{"GET", std::string(target), {}, {}}; }

HttpRequest retained_request(std::string_view filter) {
  std::string target = "/api/v1/retained";
  if (!filter.empty()) target += "?filter=" + http::percent_encode(filter);
  return HttpRequest{"GET", std::move(target), {}, {}};
}

HttpRequest kick_request(std::string_view client_id, bool remove_session) {
  std::string target = "/api/v1/clients/" + http::percent_encode(client_id);
  if (remove_session) target += "?session=true";
  return HttpRequest{"DELETE", std::move(target), {}, {}};
}

HttpRequest purge_request(std::string_view queue) {
  return HttpRequest{"DELETE", "/api/v1/queues/" + http::percent_encode(queue) + "/messages", {}, {}};
}

HttpRequest move_request(std::string_view queue, std::string_view to, std::optional<std::uint64_t> limit) {
  nlohmann::json body = {{"to", std::string(to)}};
  if (limit) body["limit"] = *limit;
  return HttpRequest{"POST", "/api/v1/queues/" + http::percent_encode(queue) + "/move",
                     body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

std::optional<HttpRequest> publish_request(std::string_view topic, std::string_view payload, int qos, bool retain,
                                           std::string& error) {
  const nlohmann::json body = {
      {"topic", std::string(topic)}, {"payload", std::string(payload)}, {"qos", qos}, {"retain", retain}};
  try {
    return HttpRequest{"POST", "/api/v1/publish", body.dump(), {}};
  } catch (const nlohmann::json::type_error&) {
    // dump() throws on invalid UTF-8 (type_error 316); that is a usage
    // error, reported as a value.
    error = "the topic and the payload must be UTF-8 text";
    return std::nullopt;
  }
}

}  // namespace junction::ctl
