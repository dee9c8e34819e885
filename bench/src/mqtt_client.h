// junction::bench MqttClient — MQTT 3.1.1 / 5.0 client side for the
// generator, on the project's pure codec (mqtt_codec.h).
//
// CONNECT is clean (clean start, session expiry 0) unless --persistent, with
// keep-alive 0 (runs are shorter than any keep-alive); MQTT 5 asks for
// Receive Maximum 65535 so the broker's delivery window is not the
// generator's, and the publisher window is capped to the broker's Receive
// Maximum from CONNACK (send_quota). Acknowledgements are
// pre-encoded 4-byte templates (PUBACK/PUBREC/PUBREL/PUBCOMP, valid in both
// versions with reason Success) patched with the packet id.
#pragma once

#include <string>
#include <vector>

#include "client.h"
#include "mqtt_codec.h"

namespace junction::bench {

class MqttClient final : public Client {
 public:
  MqttClient(Io& io, ClientEvents& events, std::uint32_t index, int version);

  void subscribe(std::string_view filter, int qos) override;
  bool subscribe_with_connect(std::string_view filter, int qos) override;
  void prepare_publish(std::string_view topic, int qos, std::uint32_t payload_size) override;
  void use_dedup_ids(std::string_view property) override;
  void append_publish(std::uint16_t id, const Stamp& stamp) override;
  void disconnect() override;
  std::uint32_t send_quota() const override { return receive_maximum_; }

  // Large subscription trees (tree.cpp): many filters in one SUBSCRIBE
  // with its own packet id, so several can be in flight. Inside
  // on_subscribed(), the SUBACK's packet id and number of return codes.
  void subscribe_many(const std::vector<std::string>& filters, int qos, std::uint16_t packet_id);
  std::uint16_t suback_id() const { return suback_id_; }
  std::size_t suback_codes() const { return suback_codes_; }
  // One publish encoded on the spot, to any topic, possibly retained (not
  // the templates of the traffic path: state.cpp publishes each message to
  // its own topic).
  void publish_to(std::string_view topic, int qos, bool retain, std::uint16_t id, Bytes payload);

 private:
  void on_connected(int status) override;
  std::size_t on_data(Bytes data) override;
  // Returns false when the connection failed.
  bool handle(const mqtt::Frame& f);
  void append_ack(mqtt::PacketType t, std::uint16_t id);

  mqtt::Version version_;
  mqtt::MqttFrameParser parser_;
  mqtt::Publish publish_;  // reused by every decode
  mqtt::Ack ack_;
  std::string ack_tmpl_[4];  // PUBACK, PUBREC, PUBREL, PUBCOMP
  std::string pub_tmpl_;
  bool dedup_ids_ = false;
  std::string id_property_;
  std::size_t dedup_off_ = 0;  // the x-dedup-id value in pub_tmpl_ (0: none)
  std::size_t pid_off_ = 0;
  std::size_t payload_off_ = 0;
  std::uint32_t payload_size_ = 0;
  int pub_qos_ = 0;
  std::uint32_t receive_maximum_ = 65535;
  std::uint16_t suback_id_ = 0;
  std::size_t suback_codes_ = 0;
  bool ready_ = false;
};

}  // namespace junction::bench
