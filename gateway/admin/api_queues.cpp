// /api/v1/queues: list, peek, purge, move (replay a DLQ), delete.
#include "admin_service.h"
#include "topic.h"

namespace junction::admin {

namespace {
json headers_json(const core::Message& m) {
  json h = json::object();
  const core::MessageProperties& p = m.props();
  if (!p.content_type.empty()) h["content-type"] = p.content_type;
  if (!p.response_topic.empty()) h["reply-to"] = p.response_topic;
  for (const core::UserProperty& u : p.user_properties) h[u.name] = u.value;
  return h;
}

// The queue's name from the path, or a 404 answer.
core::Queue* find_queue(core::QueueManager& qm, std::string_view name, std::optional<http::HttpResponse>& error) {
  core::Queue* q = qm.find(name);
  if (q == nullptr) error = error_response(404, "no queue '" + std::string(name) + "'");
  return q;
}
}  // namespace

json AdminService::queue_json(core::Queue& q) {
  core::QueueManager& qm = broker_.queues();
  const std::int64_t oldest = qm.oldest_created_ms(q);
  const std::string dlq = core::QueueManager::dead_letter_name(q);
  return json{{"name", q.name()},
              {"messages", q.ready_count()},
              {"bytes", q.bytes()},
              {"consumers", q.consumer_count()},
              {"unacked", q.unacked_count()},
              {"oldest_age_ms", oldest ? std::max<std::int64_t>(0, broker_.clock().wall_ms() - oldest) : 0},
              {"dead_letter", dlq.empty() ? json() : json(dlq)},
              {"in_memory", q.in_memory()},
              {"on_disk", q.on_disk()}};
}

http::HttpResponse AdminService::get_queues(Call& c) {
  const auto filter = query_value(c.query, "filter");
  if (filter && !core::valid_topic_filter(*filter)) return error_response(400, "filter is not a valid MQTT topic filter");
  json items = json::array();
  for (core::Queue* q : broker_.queues().list()) {
    if (filter && !core::topic_matches(*filter, q->name())) continue;
    items.push_back(queue_json(*q));
  }
  return list_response(std::move(items), c.query);
}

http::HttpResponse AdminService::get_queue(Call&, std::string_view name) {
  std::optional<http::HttpResponse> error;
  core::Queue* q = find_queue(broker_.queues(), name, error);
  if (!q) return *error;
  return json_response(queue_json(*q));
}

http::HttpResponse AdminService::peek_queue(Call& c, std::string_view name) {
  std::optional<http::HttpResponse> error;
  core::Queue* q = find_queue(broker_.queues(), name, error);
  if (!q) return *error;
  const auto limit = query_uint(c.query, "limit", error);
  if (error) return *error;
  const std::size_t n = std::min<std::uint64_t>(limit.value_or(10), 1000);
  json items = json::array();
  for (const core::QueuedMessage& qm : broker_.queues().peek(*q, n)) {
    json j{{"id", qm.msg->id},
           {"headers", headers_json(*qm.msg)},
           {"delivery_count", qm.deliveries},
           {"payload_size", qm.msg->payload.size()},
           {"created_at", iso_time(qm.msg->created_ms)}};
    put_payload(j, qm.msg->payload);
    items.push_back(std::move(j));
  }
  const std::size_t total = q->ready_count();
  return json_response(json{{"items", std::move(items)}, {"total", total}});
}

http::HttpResponse AdminService::purge_queue(Call& c, std::string_view name) {
  std::optional<http::HttpResponse> error;
  core::Queue* q = find_queue(broker_.queues(), name, error);
  if (!q) return *error;
  const std::size_t n = broker_.queues().purge(*q);
  log_change(c, std::to_string(n) + " messages purged");
  return committed(json_response(json{{"purged", n}}));
}

http::HttpResponse AdminService::move_queue(Call& c, std::string_view name) {
  std::optional<http::HttpResponse> error;
  core::Queue* q = find_queue(broker_.queues(), name, error);
  if (!q) return *error;
  if (!c.body.is_object() || !c.body.contains("to") || !c.body["to"].is_string())
    return error_response(400, "the body needs \"to\": the target queue's name");
  std::string to = c.body["to"].get<std::string>();
  if (to.starts_with(core::kQueueTopicPrefix)) to.erase(0, core::kQueueTopicPrefix.size());
  if (!core::QueueManager::valid_name(to)) return error_response(400, "not a valid queue name: '" + to + "'");
  if (to == q->name()) return error_response(400, "a queue cannot be moved into itself");
  std::size_t limit = 0;
  if (c.body.contains("limit")) {
    if (!c.body["limit"].is_number_unsigned()) return error_response(400, "\"limit\" must be a non-negative integer");
    limit = c.body["limit"].get<std::size_t>();
    if (limit == 0) return json_response(json{{"moved", 0}});
  }
  const std::size_t n = broker_.queues().move(*q, to, limit);
  log_change(c, std::to_string(n) + " messages moved to " + to);
  return committed(json_response(json{{"moved", n}, {"to", to}}));
}

http::HttpResponse AdminService::delete_queue(Call& c, std::string_view name) {
  const bool force = query_true(c.query, "force");
  switch (broker_.queues().remove(name, force)) {
    case core::QueueManager::RemoveResult::Removed: break;
    case core::QueueManager::RemoveResult::NotFound: return error_response(404, "no queue '" + std::string(name) + "'");
    case core::QueueManager::RemoveResult::HasConsumers:
      return error_response(409, "queue '" + std::string(name) + "' has consumers; disconnect them first");
    case core::QueueManager::RemoveResult::NotEmpty:
      return error_response(409, "queue '" + std::string(name) + "' is not empty; use ?force=true");
  }
  log_change(c, force ? "queue deleted (force)" : "queue deleted");
  return committed(json_response(json{{"deleted", true}, {"name", std::string(name)}}));
}

}  // namespace junction::admin
