// /api/v1/broker, /api/v1/bridges, /api/v1/publish, /api/v1/delayed.
#include <charconv>

#include "admin_service.h"
#include "base64.h"
#include "log.h"
#include "topic.h"

namespace junction::admin {

http::HttpResponse AdminService::get_broker(Call&) {
  const core::BrokerStats& st = broker_.stats();
  const std::int64_t now = broker_.clock().wall_ms();
  json listeners = json::array();
  if (sources_.listeners) {
    for (const ListenerInfo& l : sources_.listeners()) {
      json j{{"name", l.name}, {"protocol", l.protocol}, {"transport", l.transport},
             {"bind", l.bind}, {"port", l.port},         {"connections", l.connections}};
      if (!l.path.empty()) j["path"] = l.path;
      listeners.push_back(std::move(j));
    }
  }
  const StoreInfo store = sources_.store ? sources_.store() : StoreInfo{};
  const core::Persistence::CommitStats& cs = broker_.persistence().commit_stats();
  std::uint64_t dropped = st.dropped_qos0 + st.dropped_oldest + st.expired + st.dedup_dropped + st.unroutable -
                          st.unroutable_diverted + st.delayed_dropped;
  json counters{{"messages_received", st.messages_in},
                {"messages_delivered", st.messages_out},
                {"messages_dropped", dropped},
                {"connections", broker_.connected_count()},
                {"connections_peak", broker_.connected_peak()},
                {"sessions", broker_.session_count()},
                {"subscriptions", broker_.subscription_count()},
                {"retained", broker_.retained().size()},
                {"queues", broker_.queues().queue_count()},
                {"delayed", broker_.delayed().pending()},
                {"publishes_refused", st.refused_quota + st.refused_disk}};
  if (sources_.traffic) {
    const TrafficInfo t = sources_.traffic();
    counters["bytes_received"] = t.bytes_received;
    counters["bytes_sent"] = t.bytes_sent;
  }
  json j{{"version", sources_.version},
         {"uptime_s", (now - started_wall_ms_) / 1000},
         {"started_at", iso_time(started_wall_ms_)},
         {"node_id", sources_.node_id},
         {"listeners", std::move(listeners)},
         {"store",
          {{"engine", store.engine},
           {"path", store.path},
           {"mode", store.mode},
           {"map_size", store.map_size},
           {"used_bytes", store.used_bytes},
           {"free_disk_bytes", store.free_disk_bytes},
           {"limit", core::Broker::store_limit_name(broker_.store_limit())},
           {"commits", cs.count},
           {"commit_latency_ms_avg", cs.count ? cs.latency_sum_s * 1000.0 / double(cs.count) : 0.0}}},
         {"counters", std::move(counters)}};
  return json_response(j);
}

http::HttpResponse AdminService::get_bridges(Call& c) {
  json items = json::array();
  if (sources_.bridges) {
    for (const BridgeInfo& b : sources_.bridges()) {
      items.push_back(json{{"name", b.name},
                           {"kind", b.kind},
                           {"state", b.state},
                           {"upstream", b.upstream},
                           {"outbox", b.outbox},
                           {"confirms_pending", b.confirms_pending},
                           {"last_error", b.last_error.empty() ? json() : json(b.last_error)},
                           {"since", iso_time(b.since_wall_ms)}});
    }
  }
  return list_response(std::move(items), c.query);
}

http::HttpResponse AdminService::post_publish(Call& c) {
  const json& b = c.body;
  if (!b.is_object() || !b.contains("topic") || !b["topic"].is_string())
    return error_response(400, "the body needs \"topic\" (a string)");
  const std::string topic = b["topic"].get<std::string>();
  if (!core::valid_topic_name(topic)) return error_response(400, "not a valid topic name: '" + topic + "'");
  std::string payload;
  if (b.contains("payload_base64")) {
    if (!b["payload_base64"].is_string() || !core::base64_decode(b["payload_base64"].get<std::string>(), payload))
      return error_response(400, "\"payload_base64\" is not valid base64");
  } else if (b.contains("payload")) {
    if (!b["payload"].is_string()) return error_response(400, "\"payload\" must be a string");
    payload = b["payload"].get<std::string>();
  }
  int qos = 0;
  if (b.contains("qos")) {
    if (!b["qos"].is_number_integer() || b["qos"].get<int>() < 0 || b["qos"].get<int>() > 2)
      return error_response(400, "\"qos\" must be 0, 1 or 2");
    qos = b["qos"].get<int>();
  }
  bool retain = false;
  if (b.contains("retain")) {
    if (!b["retain"].is_boolean()) return error_response(400, "\"retain\" must be true or false");
    retain = b["retain"].get<bool>();
  }
  core::MessageRef m = broker_.make_message();
  m->topic = topic;
  m->payload = std::move(payload);
  m->qos = static_cast<std::uint8_t>(qos);
  m->retain = retain;
  if (b.contains("properties")) {
    const json& p = b["properties"];
    if (!p.is_object()) return error_response(400, "\"properties\" must be an object");
    core::MessageProperties& mp = m->mutable_props();
    for (const auto& [k, v] : p.items()) {
      if (k == "content_type" && v.is_string()) {
        mp.content_type = v.get<std::string>();
      } else if (k == "response_topic" && v.is_string()) {
        mp.response_topic = v.get<std::string>();
      } else if (k == "correlation_data" && v.is_string()) {
        mp.correlation_data = v.get<std::string>();
      } else if (k == "message_expiry_s" && v.is_number_unsigned()) {
        m->expiry_ms = m->created_ms + std::int64_t(v.get<std::uint32_t>()) * 1000;
      } else if (k == "user_properties" && v.is_object()) {
        for (const auto& [uk, uv] : v.items()) {
          if (!uv.is_string()) return error_response(400, "user property values are strings");
          mp.user_properties.push_back(core::UserProperty{uk, uv.get<std::string>()});
        }
      } else {
        return error_response(400, "unknown or mistyped property '" + k + "'");
      }
    }
    m->drop_empty_props();
  }
  const core::PublishResult r = broker_.publish(m, nullptr);
  if (r.refused) return error_response(403, "$SYS topics are the broker's own");
  if (r.invalid) return error_response(400, r.why ? r.why : "refused");
  if (r.quota_exceeded) return error_response(503, r.why ? r.why : "a destination is full");
  log_change(c, "published to " + topic);
  json j{{"published", true}, {"matched", r.matched}, {"duplicate", r.duplicate}};
  http::HttpResponse resp = json_response(j);
  // QoS >= 1 and retained messages are acknowledged once stored, as a PUBACK is.
  return qos > 0 || retain ? committed(std::move(resp)) : resp;
}

http::HttpResponse AdminService::get_delayed(Call& c) {
  std::optional<http::HttpResponse> error;
  const auto limit = query_uint(c.query, "limit", error);
  if (error) return *error;
  json items = json::array();
  for (const auto& d : broker_.delayed().list(std::min<std::uint64_t>(limit.value_or(100), 10000))) {
    items.push_back(json{{"id", std::to_string(d.msg->id)},
                         {"topic", d.msg->topic},
                         {"due_at", iso_time(d.due_ms)},
                         {"due_in_ms", std::max<std::int64_t>(0, d.due_ms - broker_.clock().wall_ms())},
                         {"payload_size", d.msg->payload.size()},
                         {"qos", d.msg->qos}});
  }
  return json_response(json{{"items", std::move(items)}, {"total", broker_.delayed().pending()}});
}

http::HttpResponse AdminService::delete_delayed(Call& c, std::string_view id) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (id.empty() || ec != std::errc() || p != id.data() + id.size()) return error_response(400, "a delayed message's id is a number");
  if (!broker_.delayed().cancel(n)) return error_response(404, "no delayed message " + std::string(id));
  log_change(c, "delayed message cancelled");
  return committed(json_response(json{{"deleted", true}, {"id", std::string(id)}}));
}

}  // namespace junction::admin
