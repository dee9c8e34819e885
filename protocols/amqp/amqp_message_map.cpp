#include "amqp_message_map.h"

#include "amqp_name_map.h"

namespace junction::amqp {

std::string stable_message_id(const core::Message& m, std::string_view node_id) {
  std::string id(node_id);
  id += ':';
  id += std::to_string(m.created_ms);
  id += ':';
  id += std::to_string(m.id);
  return id;
}

BasicProperties to_amqp_properties(const core::Message& m, std::string_view node_id, std::int64_t now_wall_ms) {
  BasicProperties p;
  const core::MessageProperties& mp = m.props();
  if (!mp.content_type.empty() && mp.content_type.size() <= 255) p.content_type = mp.content_type;
  if (!mp.correlation_data.empty() && mp.correlation_data.size() <= 255) p.correlation_id = mp.correlation_data;
  if (!mp.response_topic.empty()) {
    if (auto key = topic_to_routing_key(mp.response_topic)) p.reply_to = std::move(*key);
  }
  if (m.expiry_ms != 0) {
    const std::int64_t left = m.expiry_ms - now_wall_ms;
    p.expiration = std::to_string(left > 0 ? left : 1);
  }
  p.delivery_mode = m.qos > 0 ? 2 : 1;
  p.timestamp = static_cast<std::uint64_t>(m.created_ms / 1000);
  FieldTable headers;
  for (const core::UserProperty& up : mp.user_properties) {
    if (up.name == "message-id" && !p.message_id && up.value.size() <= 255) {
      p.message_id = up.value;
      continue;
    }
    if (up.name.size() > 255 || up.name == kOriginHeader || find_field(headers, up.name)) continue;
    headers.push_back(Field{up.name, FieldValue::string(up.value)});
  }
  if (!p.message_id) p.message_id = stable_message_id(m, node_id);
  if (!node_id.empty()) headers.push_back(Field{std::string(kOriginHeader), FieldValue::string(std::string(node_id))});
  if (!headers.empty()) p.headers = std::move(headers);
  return p;
}

void from_amqp_properties(const BasicProperties& p, core::Message& m, std::int64_t now_wall_ms) {
  core::MessageProperties& mp = m.mutable_props();
  if (p.content_type) mp.content_type = *p.content_type;
  if (p.correlation_id) mp.correlation_data = *p.correlation_id;
  if (p.reply_to && !p.reply_to->empty()) mp.response_topic = routing_key_to_topic(*p.reply_to);
  if (p.expiration && !p.expiration->empty() && p.expiration->size() <= 18) {
    std::int64_t ms = 0;
    bool digits = true;
    for (char c : *p.expiration) {
      if (c < '0' || c > '9') digits = false;
      else ms = ms * 10 + (c - '0');
    }
    if (digits) m.expiry_ms = now_wall_ms + ms;
  }
  if (p.message_id) mp.user_properties.push_back(core::UserProperty{"message-id", *p.message_id});
  if (p.timestamp) mp.user_properties.push_back(core::UserProperty{"timestamp", std::to_string(*p.timestamp)});
  if (p.headers) {
    for (const Field& f : *p.headers) {
      if (f.name == kOriginHeader || f.value.type == 'A' || f.value.type == 'F' || f.value.type == 'V') continue;
      mp.user_properties.push_back(core::UserProperty{f.name, f.value.to_text()});
    }
  }
  m.drop_empty_props();
}

std::string origin_of(const BasicProperties& p) {
  if (!p.headers) return {};
  const FieldValue* v = find_field(*p.headers, kOriginHeader);
  return v ? v->to_text() : std::string();
}

}  // namespace junction::amqp
