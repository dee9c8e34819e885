// junction::bench MqttClient: handshake, frame dispatch, publish templates.
#include "mqtt_client.h"

#include <cstdio>

namespace junction::bench {

using mqtt::PacketType;

namespace {

std::string hex2(unsigned v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02X", v & 0xFFu);
  return b;
}

std::string reason_text(unsigned code) {
  return hex2(code) + " (" + mqtt::reason_name(static_cast<mqtt::Reason>(code)) + ")";
}

int ack_slot(PacketType t) { return static_cast<int>(t) - static_cast<int>(PacketType::Puback); }

}  // namespace

MqttClient::MqttClient(Io& io, ClientEvents& events, std::uint32_t index, int version)
    : Client(io, events, index), version_(version == 5 ? mqtt::Version::V5 : mqtt::Version::V311) {
  for (PacketType t : {PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp}) {
    mqtt::Ack a;
    a.type = t;
    a.packet_id = 1;
    mqtt::encode_ack(version_, a, ack_tmpl_[ack_slot(t)]);
  }
}

void MqttClient::on_connected(int status) {
  if (status < 0) {
    failure("connect: " + uv_error(status));
    return;
  }
  mqtt::Connect c;
  c.version = version_;
  c.clean_start = !persistent_;
  c.keep_alive = 0;
  c.client_id = client_id_;
  if (version_ == mqtt::Version::V5) {
    c.properties.receive_maximum = 65535;
    if (persistent_) c.properties.session_expiry_interval = 300;
  }
  mqtt::encode_connect(c, stream_.out());
  if (!early_filter_.empty()) subscribe(early_filter_, early_qos_);
}

bool MqttClient::subscribe_with_connect(std::string_view filter, int qos) {
  if (filter.empty()) return false;
  early_filter_ = filter;
  early_qos_ = qos;
  return true;
}

void MqttClient::subscribe(std::string_view filter, int qos) {
  mqtt::Subscribe s;
  s.packet_id = 1;
  s.topics.push_back(mqtt::SubscribeTopic{filter, static_cast<std::uint8_t>(qos)});
  mqtt::encode_subscribe(version_, s, stream_.out());
}

void MqttClient::subscribe_many(const std::vector<std::string>& filters, int qos, std::uint16_t packet_id) {
  mqtt::Subscribe s;
  s.packet_id = packet_id;
  s.topics.reserve(filters.size());
  for (const std::string& f : filters) s.topics.push_back(mqtt::SubscribeTopic{f, static_cast<std::uint8_t>(qos)});
  mqtt::encode_subscribe(version_, s, stream_.out());
}

void MqttClient::publish_to(std::string_view topic, int qos, bool retain, std::uint16_t id, Bytes payload) {
  mqtt::Publish p;
  p.qos = static_cast<std::uint8_t>(qos);
  p.retain = retain;
  p.topic = topic;
  p.packet_id = qos > 0 ? id : 0;
  p.payload = payload;
  mqtt::encode_publish(version_, p, stream_.out());
}

void MqttClient::prepare_publish(std::string_view topic, int qos, std::uint32_t payload_size) {
  const std::string zeros(payload_size, '\0');
  mqtt::Publish p;
  p.qos = static_cast<std::uint8_t>(qos);
  p.topic = topic;
  p.packet_id = qos > 0 ? 1 : 0;
  p.payload = Bytes(reinterpret_cast<const std::uint8_t*>(zeros.data()), zeros.size());
  // A fixed-width placeholder, found again after encoding and rewritten per publish.
  static constexpr std::string_view kPlaceholder = "@@@@@@@@@@@@@@@@@@@@@@@@";  // 24 characters
  if (dedup_ids_ && version_ == mqtt::Version::V5) p.properties.user_properties.push_back({id_property_, kPlaceholder});
  pub_tmpl_.clear();
  mqtt::encode_publish(version_, p, pub_tmpl_);
  // Fixed header (1 + varint), topic (2 + len), packet id (QoS > 0),
  // properties (v5), payload.
  std::size_t hdr = 1;
  while (static_cast<std::uint8_t>(pub_tmpl_[hdr]) & 0x80) ++hdr;
  ++hdr;
  payload_off_ = pub_tmpl_.size() - payload_size;
  pid_off_ = hdr + 2 + topic.size();
  const std::size_t at = dedup_ids_ ? pub_tmpl_.find(kPlaceholder) : std::string::npos;
  dedup_off_ = at == std::string::npos ? 0 : at;
  payload_size_ = payload_size;
  pub_qos_ = qos;
}

void MqttClient::use_dedup_ids(std::string_view property) {
  dedup_ids_ = true;
  id_property_ = property;
}

void MqttClient::append_publish(std::uint16_t id, const Stamp& stamp) {
  std::string& out = stream_.out();
  const std::size_t at = out.size();
  out.append(pub_tmpl_);
  auto* p = reinterpret_cast<std::uint8_t*>(out.data() + at);
  if (pub_qos_ > 0) {
    p[pid_off_] = static_cast<std::uint8_t>(id >> 8);
    p[pid_off_ + 1] = static_cast<std::uint8_t>(id);
  }
  if (dedup_off_ != 0) {
    // run, publisher, sequence: unique per message of a run.
    static constexpr char kHex[] = "0123456789abcdef";
    const std::uint32_t parts[3] = {stamp.run, stamp.publisher, stamp.seq};
    std::uint8_t* d = p + dedup_off_;
    for (std::uint32_t v : parts)
      for (int i = 7; i >= 0; --i) *d++ = static_cast<std::uint8_t>(kHex[(v >> (4 * i)) & 0xF]);
  }
  if (payload_size_ >= kStampSize) write_stamp(p + payload_off_, stamp);
}

void MqttClient::append_ack(PacketType t, std::uint16_t id) {
  std::string& out = stream_.out();
  const std::string& tmpl = ack_tmpl_[ack_slot(t)];
  const std::size_t at = out.size();
  out.append(tmpl);
  out[at + 2] = static_cast<char>(id >> 8);
  out[at + 3] = static_cast<char>(id & 0xFF);
}

void MqttClient::disconnect() {
  if (closing_) return;
  closing_ = true;
  if (stream_.open()) {
    mqtt::Disconnect d;
    // MQTT 5: a persistent session is not needed after the run.
    if (persistent_ && version_ == mqtt::Version::V5) d.properties.session_expiry_interval = 0;
    mqtt::encode_disconnect(version_, d, stream_.out());
    stream_.close_after_flush();
  } else {
    stream_.close();
  }
}

std::size_t MqttClient::on_data(Bytes data) {
  std::size_t used = 0;
  mqtt::Frame f;
  mqtt::Status st;
  while (used < data.size() && !failed_) {
    const mqtt::FrameResult r = parser_.next(data.subspan(used), f, st);
    if (r == mqtt::FrameResult::NeedMore) break;
    if (r == mqtt::FrameResult::Error) {
      failure(std::string("malformed packet from the broker: ") + st.what);
      break;
    }
    used += f.total_size;
    if (!handle(f)) break;
  }
  return used;
}

bool MqttClient::handle(const mqtt::Frame& f) {
  switch (f.type) {
    case PacketType::Connack: {
      mqtt::Connack c;
      if (auto st = mqtt::decode_connack(f, version_, c); !st.ok()) {
        failure(std::string("bad CONNACK: ") + st.what);
        return false;
      }
      if (c.code != 0) {
        failure("broker refused CONNECT: " + reason_text(c.code));
        return false;
      }
      ready_ = true;
      if (c.properties.receive_maximum) receive_maximum_ = *c.properties.receive_maximum;
      events_.on_ready(*this);
      return true;
    }
    case PacketType::Suback: {
      mqtt::SubAck s;
      if (auto st = mqtt::decode_suback(f, version_, s); !st.ok()) {
        failure(std::string("bad SUBACK: ") + st.what);
        return false;
      }
      for (std::uint8_t code : s.codes) {
        if (code >= 0x80) {
          failure("broker refused SUBSCRIBE: " + reason_text(code));
          return false;
        }
      }
      suback_id_ = s.packet_id;
      suback_codes_ = s.codes.size();
      events_.on_subscribed(*this);
      return true;
    }
    case PacketType::Publish: {
      if (auto st = mqtt::decode_publish(f, version_, publish_); !st.ok()) {
        failure(std::string("bad PUBLISH: ") + st.what);
        return false;
      }
      if (publish_.qos == 1) append_ack(PacketType::Puback, publish_.packet_id);
      if (publish_.qos == 2) append_ack(PacketType::Pubrec, publish_.packet_id);
      events_.on_message(*this, publish_.payload);
      return true;
    }
    case PacketType::Puback:
    case PacketType::Pubrec:
    case PacketType::Pubrel:
    case PacketType::Pubcomp: {
      if (auto st = mqtt::decode_ack(f, version_, ack_); !st.ok()) {
        failure(std::string("bad acknowledgement: ") + st.what);
        return false;
      }
      const bool ok = static_cast<unsigned>(ack_.reason) < 0x80;
      if (f.type == PacketType::Puback) {
        events_.on_publish_ack(*this, ack_.packet_id, true, ok, true);
      } else if (f.type == PacketType::Pubrec) {
        if (ok) append_ack(PacketType::Pubrel, ack_.packet_id);
        events_.on_publish_ack(*this, ack_.packet_id, true, ok, !ok);
      } else if (f.type == PacketType::Pubrel) {
        append_ack(PacketType::Pubcomp, ack_.packet_id);
      } else {
        events_.on_publish_ack(*this, ack_.packet_id, false, true, true);
      }
      return true;
    }
    case PacketType::Pingresp:
      return true;
    case PacketType::Disconnect: {
      mqtt::Disconnect d;
      const bool decoded = mqtt::decode_disconnect(f, version_, d).ok();
      failure("broker sent DISCONNECT" +
              (decoded ? std::string(" ") + reason_text(static_cast<unsigned>(d.reason)) : std::string()));
      return false;
    }
    default:
      failure("unexpected packet type " + std::to_string(static_cast<int>(f.type)) + " from the broker");
      return false;
  }
}

}  // namespace junction::bench
