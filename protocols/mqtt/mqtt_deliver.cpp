// Outgoing PUBLISH, written straight from the message's topic and payload:
// per delivery only the first byte (DUP, QoS, RETAIN), the lengths, the
// packet id and the v5 per-subscriber properties (message expiry left, topic
// alias, subscription ids) are new. The message's own v5 properties are
// encoded once and cached in Message::encoded.
#include "log.h"
#include "mqtt_connection.h"
#include "mqtt_message_map.h"

namespace junction::mqtt {

namespace {

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(char(v >> 8));
  out.push_back(char(v & 0xFF));
}

const std::string& v5_props(const core::Message& m, core::EncodeSlot slot) {
  static const std::string none;
  if (m.props().empty()) return none;
  std::string& cached = m.encoded[slot];
  if (cached.empty()) {
    const Properties p = properties_of(m);
    std::string with_len;
    encode_properties(p, with_len);
    cached.assign(with_len, varint_size(std::uint32_t(properties_size(p))));
  }
  return cached;
}

}  // namespace

core::DeliverResult MqttConnection::deliver(const core::Delivery& d) {
  const core::Message& m = d.msg;
  const std::uint8_t first = std::uint8_t(0x30 | (d.dup && d.qos ? 0x08 : 0) | (d.qos << 1) | (d.retain ? 1 : 0));
  std::string& h = scratch();
  h.clear();

  if (version_ != Version::V5) {
    h.push_back(char(first));
    encode_varint(std::uint32_t(2 + m.topic.size() + (d.qos ? 2 : 0) + m.payload.size()), h);
    put_u16(h, std::uint16_t(m.topic.size()));
    h.append(m.topic);
    if (d.qos) put_u16(h, d.packet_id);
    sink_.write(h);
    sink_.write(m.payload);
    return core::DeliverResult::Sent;
  }

  // v5: per-subscriber properties first, then the message's own.
  Properties dyn;
  if (m.expiry_ms) {
    const std::int64_t left_ms = m.expiry_ms - broker().clock().wall_ms();
    dyn.message_expiry_interval = std::uint32_t(left_ms <= 0 ? 0 : (left_ms + 999) / 1000);
  }
  for (std::uint32_t id : d.subscription_ids) dyn.subscription_identifiers.push_back(id);

  bool send_topic = true;
  if (client_topic_alias_max_) {
    TopicAliases& a = aliases();
    auto it = a.out.find(m.topic);
    if (it != a.out.end()) {
      dyn.topic_alias = it->second;
      send_topic = false;
    } else if (a.next_out <= client_topic_alias_max_) {
      dyn.topic_alias = a.next_out;
      a.out.emplace(m.topic, a.next_out++);
    }
  }
  const std::string& own = v5_props(m, proto().v5_properties_slot());
  const std::size_t dyn_size = properties_size(dyn);
  const std::uint32_t props_len = std::uint32_t(dyn_size + own.size());
  const std::size_t topic_len = send_topic ? m.topic.size() : 0;
  const std::uint32_t rl = std::uint32_t(2 + topic_len + (d.qos ? 2 : 0) + varint_size(props_len) + props_len +
                                         m.payload.size());
  const std::size_t total = 1 + varint_size(rl) + rl;
  if (client_max_packet_ && total > client_max_packet_) {
    // [MQTT-3.1.2-25] never send more than the client accepts: the message
    // is discarded for this client as if it had been delivered.
    if (dyn.topic_alias && send_topic) {
      aliases_->out.erase(m.topic);
      --aliases_->next_out;
    }
    log::debug("mqtt: message on '%s' (%zu bytes) exceeds the client's maximum packet size", m.topic.c_str(), total);
    return core::DeliverResult::Discarded;
  }
  h.push_back(char(first));
  encode_varint(rl, h);
  put_u16(h, std::uint16_t(topic_len));
  if (send_topic) h.append(m.topic);
  if (d.qos) put_u16(h, d.packet_id);
  // encode_properties writes varint(dyn_size) + dyn; fix the length to cover both parts.
  encode_varint(props_len, h);
  if (dyn_size) {
    // One buffer for the whole loop thread: no allocation per delivery and
    // no bytes per connection.
    static std::string dyn_bytes;
    dyn_bytes.clear();
    encode_properties(dyn, dyn_bytes);
    h.append(dyn_bytes, varint_size(std::uint32_t(dyn_size)));
  }
  sink_.write(h);
  if (!own.empty()) sink_.write(own);
  sink_.write(m.payload);
  return core::DeliverResult::Sent;
}

}  // namespace junction::mqtt
