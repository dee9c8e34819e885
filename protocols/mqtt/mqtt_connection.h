// junction::mqtt::MqttConnection — one MQTT client connection: the protocol
// state machine between the transport (ConnectionSink) and the core
// (Broker/Session). It is a ProtocolHandler for the transport, a SessionSink
// for the core's deliveries and a CommitWaiter for durable acknowledgements.
//
// Files: mqtt_connection.cpp (framing, dispatch, errors, keep-alive),
// mqtt_handle_connect.cpp, mqtt_handle_publish.cpp (incoming PUBLISH and all
// acks), mqtt_handle_subscribe.cpp, mqtt_deliver.cpp (outgoing PUBLISH,
// encoded once per wire format and shared through Message::encoded).
//
// Acknowledgement order: answers (PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK)
// leave in the order their requests arrived [MQTT-4.6.0-2]; an answer to work
// that wrote to the store waits for that commit, and everything after it
// waits behind it (acks_ queue).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "access_control.h"
#include "broker.h"
#include "topic.h"
#include "frontend.h"
#include "intrusive_list.h"
#include "mqtt_codec.h"
#include "mqtt_protocol.h"
#include "persistence.h"
#include "ring.h"
#include "session.h"
#include "outbound_watch.h"
#include "read_hold.h"
#include "token_bucket.h"

namespace junction::mqtt {

class MqttConnection final : public core::IntrusiveList<MqttConnection>::Hook,
                                  public core::ProtocolHandler, public core::SessionSink, public core::CommitWaiter {
 public:
  MqttConnection(MqttProtocol& proto, core::ConnectionSink& sink);
  ~MqttConnection() override;

  // ProtocolHandler
  std::size_t on_bytes(std::span<const std::uint8_t> data) override;
  void on_closed() override;
  void on_tick(std::int64_t now_ms) override;
  void on_drained() override;

  // SessionSink
  core::DeliverResult deliver(const core::Delivery& d) override;
  void resume_received(std::uint16_t packet_id) override;
  bool can_deliver() const override;
  bool slow_consumer() const override { return outbound_.slow(); }
  // Deliveries wait because of this connection (its buffer, or its session's queue).
  bool held_back() const;
  void session_taken_over() override;
  void access_changed() override;

  // CommitWaiter
  void on_commit() override;

  // Server shutdown: DISCONNECT 0x8B (v5) and close.
  void shutdown();


 private:
  enum class State : std::uint8_t { AwaitConnect, Connected, Closing };

  struct PendingAnswer {
    std::uint64_t ticket = 0;
    std::string bytes;         // the encoded answer (small: SSO, no allocation)
    std::uint8_t kind = 0;     // PacketType of the answer
    bool counts_inflight = false;  // releases one receive-maximum slot when sent
  };

  void handle(const Frame& f);
  void handle_connect(const Frame& f);
  void handle_publish(const Frame& f);
  void handle_ack(const Frame& f);
  void handle_pubrel(const Frame& f);
  void handle_subscribe(const Frame& f);
  void handle_unsubscribe(const Frame& f);
  void handle_disconnect(const Frame& f);
  void handle_auth(const Frame& f);
  void deny_publish(const Publish& pub, std::string_view topic);
  bool may_subscribe(const core::AccessControl& acl, std::string_view full, core::SharedParse sp,
                     std::string_view shared_filter) const;

  // v3 gets the matching return code; `logged`: the caller wrote the log line.
  void send_connack_error(Reason v5_reason, const char* why, bool logged = false);
  // Queues an answer behind earlier ones; `durable` means it waits for the
  // commit of the current batch.
  void answer(std::string bytes, PacketType kind, bool durable, bool counts_inflight);
  void release_answers();
  bool answer_failed(const PendingAnswer& a) const;

  // Ends the connection because of a protocol error: v5 DISCONNECT with the
  // reason (once connected), then close; the will is published.
  void fail(Reason reason, const char* why);
  void pause_for_rate();
  void close_with_will();
  void write(const std::string& bytes) { sink_.write(bytes); }
  // Encode buffer for control packets and PUBLISH headers, shared by every
  // connection of the protocol (one loop thread; every use writes it to the
  // sink before returning), so an idle connection holds none.
  std::string& scratch() const { return proto_.scratch(); }
  core::Broker& broker() const { return proto_.broker(); }

  bool want_reason_strings() const { return version_ == Version::V5 && request_problem_info_; }

  MqttProtocol& proto_;
  core::ConnectionSink& sink_;
  core::Session* session_ = nullptr;
  std::int64_t last_rx_ms_ = 0;
  std::uint32_t session_expiry_s_ = 0;
  std::uint32_t client_max_packet_ = 0;      // 0: no limit from the client
  std::uint16_t keep_alive_s_ = 0;
  std::uint16_t client_topic_alias_max_ = 0;
  std::uint16_t incoming_inflight_ = 0;      // QoS>0 publishes not yet answered (receive maximum)
  Version version_ = Version::V311;
  State state_ = State::AwaitConnect;
  bool request_problem_info_ = true;
  bool clean_disconnect_ = false;
  // Answers: the store is behind (release_answers resumes); PublishRate:
  // max_publish_rate reached (on_tick resumes).
  core::ReadHold read_hold_;
  core::OutboundWatch outbound_;  // slow-consumer rule (outbound_watch.h)
  static constexpr std::size_t kPauseAnswers = 4096;  // answers waiting for the store before we stop reading
  bool disconnect_with_will_ = false;

  // (Members that most connections never use are behind pointers:
  // 10,000 idle clients, DESIGN §5.)
  std::unique_ptr<core::TokenBucket> publish_rate_;  // null: no max_publish_rate
  core::Ring<PendingAnswer> answers_;
  struct TopicAliases {
    std::vector<std::string> in;                          // client -> broker, by alias - 1
    std::unordered_map<std::string, std::uint16_t> out;   // broker -> client
    std::uint16_t next_out = 1;
  };
  std::unique_ptr<TopicAliases> aliases_;  // v5 clients that use topic aliases; on first use
  TopicAliases& aliases();
};

}  // namespace junction::mqtt
