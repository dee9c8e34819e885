#include "mqtt_message_map.h"

namespace junction::mqtt {

void message_properties_from(const Properties& p, core::Message& m) {
  if (p.payload_format_indicator) m.mutable_props().payload_format = *p.payload_format_indicator;
  if (p.content_type) m.mutable_props().content_type.assign(*p.content_type);
  if (p.response_topic) m.mutable_props().response_topic.assign(*p.response_topic);
  if (p.correlation_data) m.mutable_props().correlation_data.assign(*p.correlation_data);
  for (const auto& up : p.user_properties) {
    m.mutable_props().user_properties.push_back({std::string(up.name), std::string(up.value)});
  }
}

Properties properties_of(const core::Message& m) {
  Properties p;
  const core::MessageProperties& mp = m.props();
  if (mp.payload_format >= 0) p.payload_format_indicator = std::uint8_t(mp.payload_format);
  if (!mp.content_type.empty()) p.content_type = mp.content_type;
  if (!mp.response_topic.empty()) p.response_topic = mp.response_topic;
  if (!mp.correlation_data.empty()) p.correlation_data = mp.correlation_data;
  for (const auto& up : mp.user_properties) p.user_properties.push_back(UserProperty{up.name, up.value});
  return p;
}

}  // namespace junction::mqtt
