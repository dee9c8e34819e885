// junction::ctl's side of the admin API contract: the request for each
// command and what an answer means (exit code, JSON, one-line error).
// Pure: no I/O; http_client.h carries the requests.
//
// Contract (the admin listener, gateway/admin): every /api/ answer is JSON;
// 2xx with a body on success; 4xx/5xx with {"error": "..."}; 401 missing or
// wrong credentials, 403 a user that is not an admin. A client id or queue
// name is one percent-encoded path segment.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http_client.h"
#include "http_message.h"

namespace junction::ctl {

// The exit codes of `junction ctl`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;  // the server answered with an error (or not JSON)
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitConnect = 3;      // no answer: cannot connect, TLS, timeout, not HTTP
inline constexpr int kExitAuth = 4;         // 401 or 403

struct Answer {
  int exit_code = kExitOk;
  nlohmann::json body;        // the answer's JSON; discarded when it is not JSON
  bool body_is_json = false;
  std::string error;          // exit_code != 0: what to print on stderr
};

Answer interpret(const HttpResponse& response);
Answer interpret(const TransportError& error);

// The requests, authorization left empty.
HttpRequest get_request(std::string_view target);  // GET /api/v1/broker, ...
// GET /api/v1/retained, with ?filter= (percent-encoded) unless `filter` is empty.
HttpRequest retained_request(std::string_view filter);
HttpRequest kick_request(std::string_view client_id, bool remove_session);
HttpRequest purge_request(std::string_view queue);
HttpRequest move_request(std::string_view queue, std::string_view to, std::optional<std::uint64_t> limit);
// Nullopt and `error` when topic or payload is not UTF-8 (JSON strings must be).
std::optional<HttpRequest> publish_request(std::string_view topic, std::string_view payload, int qos, bool retain,
                                           std::string& error);

}  // namespace junction::ctl
