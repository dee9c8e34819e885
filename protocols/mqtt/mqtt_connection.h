// junction::mqtt::MqttConnection — one MQTT client connection: the protocol
// state machine between the transport (ConnectionSink) and the core
// (Broker/Session). What every client connection shares (commit-ordered
// answers, rate back-pressure, connect timeout, delivery window, access
// re-check) is its base, frontend::ClientConnection.
//
// Files: mqtt_connection.cpp (framing, dispatch, errors, keep-alive),
// mqtt_handle_connect.cpp, mqtt_handle_auth.cpp (MQTT 5 enhanced
// authentication and re-authentication, the AUTH packet),
// mqtt_handle_publish.cpp (incoming PUBLISH and all acks),
// mqtt_handle_subscribe.cpp, mqtt_deliver.cpp (outgoing PUBLISH, encoded once
// per wire format and shared through Message::encoded).
//
// Acknowledgement order: answers (PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK)
// leave in the order their requests arrived [MQTT-4.6.0-2]; an answer to work
// that wrote to the store waits for that commit, and everything after it
// waits behind it (ClientConnection::answer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "access_control.h"
#include "client_connection.h"
#include "mqtt_codec.h"
#include "mqtt_protocol.h"
#include "topic.h"

namespace junction::mqtt {

class MqttConnection final : public frontend::ClientConnection {
 public:
  MqttConnection(MqttProtocol& proto, core::ConnectionSink& sink);
  ~MqttConnection() override;

  // ProtocolHandler
  std::size_t on_bytes(std::span<const std::uint8_t> data) override;
  void on_closed() override;
  void on_drained() override;

  // SessionSink
  core::DeliverResult deliver(const core::Delivery& d) override;
  void resume_received(std::uint16_t packet_id) override;
  void session_taken_over() override;
  void disconnected_by_admin() override;

  // Server shutdown: DISCONNECT 0x8B (v5) and close.
  void shutdown() override;

 private:
  // ClientConnection: an answer's tag is its PacketType, with kCountsInflight
  // when sending it frees one receive-maximum slot.
  static constexpr std::uint8_t kCountsInflight = 0x80;
  bool send_answer(Answer& a, bool failed) override;
  void tick(std::int64_t now_ms) override;  // keep-alive
  void revoke(const char* why) override { fail(Reason::NotAuthorized, why); }

  void handle(const Frame& f);
  void handle_connect(const Frame& f);
  // handle_connect's steps. accept_connect decodes and validates the CONNECT
  // and settles the client id (false: refused, answered); finish_connect is
  // what follows a successful authentication, either kind (will ACL,
  // keep-alive, attach, CONNACK; `auth_data`: the enhanced method's last data).
  bool accept_connect(const Frame& f, Connect& c, std::string& client_id, bool& assigned);
  void finish_connect(const Connect& c, const std::string& client_id, bool assigned, core::ClientIdentity identity,
                      std::string_view auth_data);
  void handle_publish(const Frame& f);
  void handle_ack(const Frame& f);
  void handle_pubrel(const Frame& f);
  void handle_subscribe(const Frame& f);
  void handle_unsubscribe(const Frame& f);
  void handle_disconnect(const Frame& f);
  void handle_auth(const Frame& f);
  // MQTT 5 enhanced authentication [MQTT-4.12] (mqtt_handle_auth.cpp).
  void begin_enhanced_auth(const Frame& f, const Connect& c, std::string client_id, bool assigned);
  void handle_while_authenticating(const Frame& f);  // only AUTH and DISCONNECT before the CONNACK
  void connect_auth_step(ByteSpan data, int member);
  void resume_connect(std::string_view auth_data);
  void reauth_step(ByteSpan data, int member);
  core::ExtAuthAnswer auth_step(ByteSpan data, int member);
  // AUTH with the exchange's method; false (nothing sent) when it is larger
  // than the client's Maximum Packet Size.
  bool send_auth(Reason reason, std::string_view data);
  void deny_publish(const Publish& pub, std::string_view topic);
  // v5 reason `code` (a plugin's; 0: 0x83 Implementation specific error).
  void refuse_publish(const Publish& pub, std::string_view topic, const char* why, std::uint8_t code = 0);
  bool may_subscribe(const core::AccessControl& acl, std::string_view full, core::SharedParse sp,
                     std::string_view shared_filter) const;

  // v3 gets the matching return code; `logged`: the caller wrote the log line.
  void send_connack_error(Reason v5_reason, const char* why, bool logged = false);
  // Queues an answer behind earlier ones; `durable` means it waits for the
  // commit of the current batch.
  void answer(std::string bytes, PacketType kind, bool durable, bool counts_inflight);

  // Ends the connection because of a protocol error: v5 DISCONNECT with the
  // reason (once connected), then close; the will is published.
  void fail(Reason reason, const char* why);
  void close_with_will();
  // The broker detached the session already (takeover, an operator): say why and close.
  void close_detached(Reason reason, const char* why);
  void detach_session();
  void write(const std::string& bytes) { sink_.write(bytes); }
  // Encode buffer for control packets and PUBLISH headers, shared by every
  // connection of the protocol (one loop thread; every use writes it to the
  // sink before returning), so an idle connection holds none.
  std::string& scratch() const { return proto().scratch(); }
  MqttProtocol& proto() const { return static_cast<MqttProtocol&>(client_proto_); }

  bool want_reason_strings() const { return version_ == Version::V5 && request_problem_info_; }

  std::uint32_t session_expiry_s_ = 0;
  std::uint32_t client_max_packet_ = 0;      // 0: no limit from the client
  std::uint16_t keep_alive_s_ = 0;
  std::uint16_t client_topic_alias_max_ = 0;
  std::uint16_t incoming_inflight_ = 0;      // QoS>0 publishes not yet answered (receive maximum)
  Version version_ = Version::V311;
  bool request_problem_info_ = true;
  bool clean_disconnect_ = false;
  bool disconnect_with_will_ = false;

  // (Members that most connections never use are behind pointers: 10,000
  // idle clients must stay small, docs/PERFORMANCE.md.)
  struct TopicAliases {
    std::vector<std::string> in;                          // client -> broker, by alias - 1
    std::unordered_map<std::string, std::uint16_t> out;   // broker -> client
    std::uint16_t next_out = 1;
  };
  std::unique_ptr<TopicAliases> aliases_;  // v5 clients that use topic aliases; on first use
  TopicAliases& aliases();

  // A v5 CONNECT that named an Authentication Method (mqtt_handle_auth.cpp).
  // While `state` is Connecting the connection is still in
  // Phase::AwaitConnect (so the shared connect timeout applies) and only
  // AUTH and DISCONNECT are accepted [MQTT-3.1.2-30]; afterwards it keeps
  // what a re-authentication needs [MQTT-4.12.1].
  struct EnhancedAuth {
    enum class State : std::uint8_t {
      Connecting,        // the CONNECT's exchange: no CONNACK yet
      Connected,         // CONNACK sent; a 0x19 AUTH may start a re-authentication
      Reauthenticating,  // after an AUTH 0x18 of ours in a re-authentication
    };
    State state = State::Connecting;
    std::uint8_t rounds = 0;   // Continue answers in the current exchange
    bool assigned = false;     // client id assigned by us (CONNACK says so)
    bool has_user = false;
    std::uint8_t connect_flags = 0;
    int member = -1;           // the access control's member that answered Continue
    std::string method;
    std::string client_id;
    std::string user;          // the CONNECT's user name, if has_user
    std::string connect;       // the CONNECT's body while Connecting (decoded views point into the read buffer)
  };
  std::unique_ptr<EnhancedAuth> ext_auth_;
  bool authenticating() const { return ext_auth_ && ext_auth_->state == EnhancedAuth::State::Connecting; }
};

}  // namespace junction::mqtt
