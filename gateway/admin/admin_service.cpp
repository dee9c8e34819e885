#include "admin_service.h"

#include <algorithm>

#include "base64.h"
#include "dashboard_assets.h"
#include "http_uri.h"
#include "log.h"

namespace junction::admin {

namespace {
constexpr std::string_view kApiPrefix = "/api/v1/";

http::HttpResponse unauthorized(std::string_view why) {
  http::HttpResponse r = error_response(401, why);
  r.headers.push_back({"www-authenticate", "Basic realm=\"junction\", charset=\"UTF-8\""});
  return r;
}
// "application/json", any case, parameters (charset) allowed.
bool is_json_media_type(const std::string* ct) {
  if (ct == nullptr) return false;
  std::string_view v(*ct);
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  return v.size() == kJson.size() &&
         std::equal(v.begin(), v.end(), kJson.begin(), [](char a, char b) { return (a | 0x20) == b; });
}
}  // namespace

AdminService::AdminService(core::Broker& broker, AdminSources sources, AdminOptions options)
    : broker_(broker),
      sources_(std::move(sources)),
      options_(std::move(options)),
      started_wall_ms_(broker.clock().wall_ms()) {}

std::optional<http::HttpResponse> AdminService::authorize(const http::HttpRequest& req,
                                                           const core::ConnectionInfo& conn, bool metrics,
                                                           std::string& user) {
  if (!options_.require_auth || (metrics && options_.public_metrics)) return std::nullopt;
  const std::string* h = req.header("authorization");
  if (h == nullptr) return unauthorized("credentials required (HTTP Basic)");
  std::string_view v(*h);
  constexpr std::string_view kBasic = "basic ";
  if (v.size() < kBasic.size() ||
      !std::equal(kBasic.begin(), kBasic.end(), v.begin(), [](char a, char b) { return a == (b | 0x20); }))
    return unauthorized("only HTTP Basic credentials are accepted");
  v.remove_prefix(kBasic.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  std::string decoded;
  if (!core::base64_decode(v, decoded)) return unauthorized("malformed Basic credentials");
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return unauthorized("malformed Basic credentials");
  const std::string name = decoded.substr(0, colon);
  const std::string_view password = std::string_view(decoded).substr(colon + 1);
  core::AccessControl* ac = broker_.access();
  if (ac == nullptr) return unauthorized("no password file to check credentials against");
  const auto result =
      ac->check_password(name, {reinterpret_cast<const std::uint8_t*>(password.data()), password.size()}, "", conn);
  if (result.status != core::AuthStatus::Ok) {
    log::notice("admin %s: user '%s' refused: %s", conn.peer_address.c_str(), name.c_str(), result.reason);
    return unauthorized("wrong user name or password");
  }
  if (std::find(options_.admin_users.begin(), options_.admin_users.end(), name) == options_.admin_users.end()) {
    log::notice("admin %s: user '%s' is not in http.admin_users", conn.peer_address.c_str(), name.c_str());
    return error_response(403, "user '" + name + "' is not an administrator (http.admin_users)");
  }
  user = name;
  return std::nullopt;
}

http::HttpResponse AdminService::handle(const http::HttpRequest& req, const core::ConnectionInfo& conn) {
  const std::string_view path = req.path;
  const bool metrics = path == "/metrics";
  std::string user;
  if (auto refused = authorize(req, conn, metrics, user)) return *refused;
  const bool get = req.method == "GET" || req.method == "HEAD";

  auto only_get = [](const char* what) {
    http::HttpResponse r = error_response(405, std::string(what) + " answers GET");
    r.headers.push_back({"allow", "GET, HEAD"});
    return r;
  };
  if (metrics) {
    if (!get) return only_get("/metrics");
    http::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_text();
    return r;
  }
  if (path.substr(0, kApiPrefix.size()) != kApiPrefix) {
    if (!get) return only_get("the dashboard");
    for (const DashboardAsset& a : dashboard_assets()) {
      if (a.path == path || (a.path == "/" && path == "/index.html")) {
        http::HttpResponse r;
        r.content_type = std::string(a.content_type);
        r.body.assign(a.body);
        r.headers.push_back({"cache-control", "no-cache"});
        r.headers.push_back({"x-content-type-options", "nosniff"});
        r.headers.push_back({"content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                        "script-src 'self' 'unsafe-inline'; img-src 'self' data:"});
        return r;
      }
    }
    return error_response(404, "no such page: " + std::string(path));
  }

  // An empty segment would make the segments and the retained topic
  // (the raw rest of the path) disagree: no such endpoint.
  if (path.find("//") != std::string_view::npos) return error_response(404, "no such endpoint: " + std::string(path));
  Call c{req, {}, {}, {}, user, conn.peer_address, {}};
  for (std::string_view seg : http::split_path(path.substr(kApiPrefix.size()))) {
    auto d = http::percent_decode(seg);
    if (!d) return error_response(400, "bad percent-encoding in the path");
    c.segments.push_back(std::move(*d));
  }
  if (!c.segments.empty()) {
    // After /api/v1/<first>/ the rest is one name (a topic keeps its '/').
    const std::size_t start = kApiPrefix.size() + http::split_path(path.substr(kApiPrefix.size())).front().size() + 1;
    if (start < path.size()) {
      auto d = http::percent_decode(path.substr(start));
      if (!d) return error_response(400, "bad percent-encoding in the path");
      c.rest = std::move(*d);
    }
  }
  auto query = http::parse_query(req.query);
  if (!query) return error_response(400, "bad percent-encoding in the query string");
  for (auto& [k, v] : *query) c.query.emplace(std::move(k), std::move(v));
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    if (!is_json_media_type(req.header("content-type")))
      return error_response(415, "request bodies are JSON (Content-Type: application/json)");
    c.body = json::parse(req.body, nullptr, false);
    if (c.body.is_discarded()) return error_response(400, "the request body is not valid JSON");
  }
  return route_api(c);
}

http::HttpResponse AdminService::route_api(Call& c) {
  const auto& s = c.segments;
  const std::string& m = c.req.method;
  const bool get = m == "GET" || m == "HEAD";
  const bool del = m == "DELETE";
  const bool post = m == "POST";
  auto method_not_allowed = [&](const char* allowed) {
    http::HttpResponse r = error_response(405, std::string("allowed: ") + allowed);
    r.headers.push_back({"allow", allowed});
    return r;
  };
  if (s.empty()) return error_response(404, "no such endpoint");
  const std::string& what = s[0];
  if (what == "broker" && s.size() == 1) return get ? get_broker(c) : method_not_allowed("GET");
  if (what == "bridges" && s.size() == 1) return get ? get_bridges(c) : method_not_allowed("GET");
  if (what == "publish" && s.size() == 1) return post ? post_publish(c) : method_not_allowed("POST");
  if (what == "subscriptions" && s.size() == 1) return get ? get_subscriptions(c) : method_not_allowed("GET");
  if (what == "delayed" && s.size() == 1) return get ? get_delayed(c) : method_not_allowed("GET");
  if (what == "delayed" && s.size() == 2) return del ? delete_delayed(c, s[1]) : method_not_allowed("DELETE");
  if (what == "clients") {
    if (s.size() == 1) return get ? get_clients(c) : method_not_allowed("GET");
    if (s.size() == 2) {
      if (get) return get_client(c, s[1]);
      if (del) return delete_client(c, s[1]);
      return method_not_allowed("GET, DELETE");
    }
  }
  if (what == "retained") {
    if (s.size() == 1) return get ? get_retained_list(c) : method_not_allowed("GET");
    if (get) return get_retained(c);
    if (del) return delete_retained(c);
    return method_not_allowed("GET, DELETE");
  }
  if (what == "queues") {
    if (s.size() == 1) return get ? get_queues(c) : method_not_allowed("GET");
    if (s.size() == 2) {
      if (get) return get_queue(c, s[1]);
      if (del) return delete_queue(c, s[1]);
      return method_not_allowed("GET, DELETE");
    }
    if (s.size() == 3 && s[2] == "messages") {
      if (get) return peek_queue(c, s[1]);
      if (del) return purge_queue(c, s[1]);
      return method_not_allowed("GET, DELETE");
    }
    if (s.size() == 3 && s[2] == "move") return post ? move_queue(c, s[1]) : method_not_allowed("POST");
  }
  return error_response(404, "no such endpoint: " + c.req.path);
}

void AdminService::log_change(const Call& c, std::string_view what) {
  log::notice("admin %s: user '%s': %s %s: %.*s", c.peer.c_str(), c.user.empty() ? "-" : c.user.c_str(),
              c.req.method.c_str(), c.req.target.c_str(), static_cast<int>(what.size()), what.data());
}

http::HttpResponse AdminService::committed(http::HttpResponse r) {
  // The change is in the current batch (or an earlier one): answered once
  // the group commit holding it is done.
  r.commit_ticket = broker_.persistence().ticket();
  return r;
}

}  // namespace junction::admin
