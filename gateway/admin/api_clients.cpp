// /api/v1/clients and /api/v1/subscriptions.
#include "admin_service.h"
#include "topic.h"

namespace junction::admin {

namespace {
// Bridges' own sessions ($bridge/..., XMPP JIDs' $xmpp/...) are not clients.
bool is_client(const core::Session& s) { return !s.client_id.empty() && s.client_id.front() != '$'; }

std::string version_text(std::string_view protocol, std::uint8_t v) {
  if (protocol == "mqtt") return v == 5 ? "5.0" : v == 4 ? "3.1.1" : v == 3 ? "3.1" : std::to_string(v);
  if (protocol == "stomp") return v == 12 ? "1.2" : v == 11 ? "1.1" : v == 10 ? "1.0" : std::to_string(v);
  return std::to_string(v);
}
}  // namespace

json AdminService::client_json(const core::Session& s) const {
  const std::string& protocol = broker_.protocol_names()[s.protocol.value % core::kMaxProtocols];
  json j;
  j["client_id"] = s.client_id;
  j["protocol"] = protocol;
  j["protocol_version"] = version_text(protocol, s.protocol_version);
  j["username"] = s.identity().anonymous ? json() : json(s.identity().user);
  j["connected"] = s.online();
  const core::ConnectionInfo* info = s.online() ? s.sink->connection() : nullptr;
  j["peer"] = info ? json(info->peer_address + ":" + std::to_string(info->peer_port)) : json();
  j["listener"] = info ? json(std::string(info->listener)) : json();
  j["transport"] = info ? json(info->transport) : json();
  j["connected_at"] = s.online() && s.sink->connected_at_ms() ? json(iso_time(s.sink->connected_at_ms())) : json();
  j["disconnected_at"] = !s.online() && s.disconnected_wall_ms ? json(iso_time(s.disconnected_wall_ms)) : json();
  j["persistent"] = s.persistent();
  j["session_expiry_s"] = s.expiry_interval_s;
  j["subscriptions"] = s.subscriptions().size();
  j["queued"] = s.pending().size() + s.backlog();
  j["inflight"] = s.inflight().size();
  j["dropped"] = s.dropped_oldest();
  return j;
}

http::HttpResponse AdminService::get_clients(Call& c) {
  const auto filter = query_value(c.query, "filter");
  if (filter && !core::valid_topic_filter(*filter)) return error_response(400, "filter is not a valid MQTT topic filter");
  json items = json::array();
  for (core::Session* s : broker_.sessions_with_prefix("")) {
    if (!is_client(*s)) continue;
    if (filter && !core::topic_matches(*filter, s->client_id)) continue;
    items.push_back(client_json(*s));
  }
  return list_response(std::move(items), c.query);
}

http::HttpResponse AdminService::get_client(Call&, std::string_view id) {
  core::Session* s = broker_.find_session(id);
  if (s == nullptr || !is_client(*s)) return error_response(404, "no client or session '" + std::string(id) + "'");
  json j = client_json(*s);
  json subs = json::array();
  for (const auto& [filter, o] : s->subscriptions()) subs.push_back(json{{"filter", filter}, {"qos", o.qos}});
  j["subscription_list"] = std::move(subs);
  return json_response(j);
}

http::HttpResponse AdminService::delete_client(Call& c, std::string_view id) {
  core::Session* s = broker_.find_session(id);
  if (s == nullptr || !is_client(*s)) return error_response(404, "no client or session '" + std::string(id) + "'");
  const bool remove = query_true(c.query, "session");
  const core::Broker::KickOutcome k = broker_.kick(id, remove);
  log_change(c, std::string(k.disconnected ? "disconnected" : "not connected") +
                    (k.session_removed ? ", session removed" : ""));
  return committed(json_response(json{{"disconnected", k.disconnected}, {"session_removed", k.session_removed}}));
}

http::HttpResponse AdminService::get_subscriptions(Call& c) {
  const auto client = query_value(c.query, "client_id");
  const auto filter = query_value(c.query, "filter");
  if (filter && !core::valid_topic_filter(*filter)) return error_response(400, "filter is not a valid MQTT topic filter");
  json items = json::array();
  auto add = [&](const core::Session& s) {
    for (const auto& [f, o] : s.subscriptions()) {
      // A subscription is listed when the asked filter covers it: every
      // topic it names, for a plain one (a/+ covers a/b), or equal text.
      if (filter && !(core::topic_matches(*filter, f) || *filter == f)) continue;
      items.push_back(json{{"client_id", s.client_id},
                           {"filter", f},
                           {"qos", o.qos},
                           {"no_local", o.no_local},
                           {"retain_as_published", o.retain_as_published},
                           {"retain_handling", o.retain_handling},
                           {"subscription_id", o.subscription_id}});
    }
  };
  if (client) {
    core::Session* s = broker_.find_session(*client);
    if (s != nullptr && is_client(*s)) add(*s);
  } else {
    for (core::Session* s : broker_.sessions_with_prefix("")) {
      if (is_client(*s)) add(*s);
    }
  }
  return list_response(std::move(items), c.query);
}

}  // namespace junction::admin
