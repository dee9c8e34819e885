// junction::admin::AdminService — the admin listener's meaning (README
// "Operations"): HTTP Basic against the password file and http.admin_users,
// the JSON API under /api/v1/, Prometheus text at /metrics, the dashboard
// at /. Runs on the loop thread like everything else: every handler reads
// the broker's state directly, and a change answers once it is committed.
//
// Contract (outside tests use it): paths, field names, status codes, the
// list shape {"items": [...], "total": N}, errors {"error": "..."}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "admin_sources.h"
#include "api_common.h"
#include "broker.h"
#include "http_service.h"

namespace junction::admin {

class AdminService final : public http::HttpService {
 public:
  AdminService(core::Broker& broker, AdminSources sources, AdminOptions options);

  http::HttpResponse handle(const http::HttpRequest& req, const core::ConnectionInfo& conn) override;

  // The text of /metrics (exposition format 0.0.4).
  std::string metrics_text();

 private:
  // One API request, decoded: segments after /api/v1/, the query, who asks.
  struct Call {
    const http::HttpRequest& req;
    std::vector<std::string> segments;  // percent-decoded
    std::string rest;                   // after /api/v1/<first>/, decoded (the retained topic)
    Query query;
    std::string user;  // "" without authentication (loopback only)
    std::string peer;
    json body;         // POST bodies
  };

  // Null when the request may go on (`user` set); else the 401 / 403.
  std::optional<http::HttpResponse> authorize(const http::HttpRequest& req, const core::ConnectionInfo& conn,
                                              bool metrics, std::string& user);
  http::HttpResponse route_api(Call& c);
  void log_change(const Call& c, std::string_view what);

  // api_broker.cpp
  http::HttpResponse get_broker(Call& c);
  http::HttpResponse get_bridges(Call& c);
  http::HttpResponse post_publish(Call& c);
  http::HttpResponse get_delayed(Call& c);
  http::HttpResponse delete_delayed(Call& c, std::string_view id);
  // api_clients.cpp
  http::HttpResponse get_clients(Call& c);
  http::HttpResponse get_client(Call& c, std::string_view id);
  http::HttpResponse delete_client(Call& c, std::string_view id);
  http::HttpResponse get_subscriptions(Call& c);
  json client_json(const core::Session& s) const;
  // api_retained.cpp
  http::HttpResponse get_retained_list(Call& c);
  http::HttpResponse get_retained(Call& c);
  http::HttpResponse delete_retained(Call& c);
  // api_queues.cpp
  http::HttpResponse get_queues(Call& c);
  http::HttpResponse get_queue(Call& c, std::string_view name);
  http::HttpResponse peek_queue(Call& c, std::string_view name);
  http::HttpResponse purge_queue(Call& c, std::string_view name);
  http::HttpResponse move_queue(Call& c, std::string_view name);
  http::HttpResponse delete_queue(Call& c, std::string_view name);
  json queue_json(core::Queue& q);

  // An answer that waits for the current store batch (the change is durable).
  http::HttpResponse committed(http::HttpResponse r);

  core::Broker& broker_;
  AdminSources sources_;
  AdminOptions options_;
  std::int64_t started_wall_ms_;
};

}  // namespace junction::admin
