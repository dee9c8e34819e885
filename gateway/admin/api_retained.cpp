// /api/v1/retained: list (by filter), read and clear one topic's message.
#include "admin_service.h"
#include "topic.h"

namespace junction::admin {

namespace {
json retained_item(const core::Message& m) {
  return json{{"topic", m.topic},
              {"qos", m.qos},
              {"payload_size", m.payload.size()},
              {"created_at", iso_time(m.created_ms)}};
}
}  // namespace

http::HttpResponse AdminService::get_retained_list(Call& c) {
  const std::string filter(query_value(c.query, "filter").value_or("#"));
  if (!core::valid_topic_filter(filter)) return error_response(400, "filter is not a valid MQTT topic filter");
  std::vector<core::MessageRef> resident;
  std::vector<std::uint64_t> cold;
  broker_.retained().match_lazy(filter, resident, cold);
  json items = json::array();
  for (const core::MessageRef& m : resident) items.push_back(retained_item(*m));
  // Cold bodies are read one at a time and let go again (they stay cold).
  for (std::uint64_t id : cold) {
    if (core::MessageRef m = broker_.retained().read_for_delivery(id)) items.push_back(retained_item(*m));
  }
  if (!query_value(c.query, "sort")) {
    std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a["topic"] < b["topic"]; });
  }
  return list_response(std::move(items), c.query);
}

http::HttpResponse AdminService::get_retained(Call& c) {
  if (!core::valid_topic_name(c.rest)) return error_response(400, "not a valid topic name: '" + c.rest + "'");
  core::MessageRef m = broker_.retained().find(c.rest);
  if (!m) return error_response(404, "no retained message on '" + c.rest + "'");
  json j = retained_item(*m);
  put_payload(j, m->payload);
  const core::MessageProperties& p = m->props();
  json props = json::object();
  if (!p.content_type.empty()) props["content_type"] = p.content_type;
  if (!p.response_topic.empty()) props["response_topic"] = p.response_topic;
  if (p.payload_format >= 0) props["payload_format"] = p.payload_format;
  json user = json::object();
  for (const core::UserProperty& u : p.user_properties) user[u.name] = u.value;
  if (!user.empty()) props["user_properties"] = std::move(user);
  j["properties"] = std::move(props);
  return json_response(j);
}

http::HttpResponse AdminService::delete_retained(Call& c) {
  if (!core::valid_topic_name(c.rest)) return error_response(400, "not a valid topic name: '" + c.rest + "'");
  if (core::is_sys_topic(c.rest)) return error_response(403, "$SYS topics are the broker's own");
  if (!broker_.clear_retained(c.rest)) return error_response(404, "no retained message on '" + c.rest + "'");
  log_change(c, "retained message cleared");
  return committed(json_response(json{{"deleted", true}, {"topic", c.rest}}));
}

}  // namespace junction::admin
