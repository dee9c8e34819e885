// junction::amqp::AmqpBridge — one configured bridge to an upstream AMQP
// 0-9-1 broker (README "AMQP bridge"). It is the ProtocolFactory a net::Connector uses
// (one AmqpClient per TCP connection) and owns what lives across
// reconnects: the core session, confirm bookkeeping, counters, state.
//
// Store-and-forward through the core: the bridge is a persistent core
// Session "$bridge/<name>" (never expires) holding QoS 0/1 subscriptions on
// the outbound filters (no-local, no retained replay). The core writes each
// QoS 1 copy for it into the same store batch as the publish, before the
// publisher's PUBACK / RECEIPT, and keeps it in order until complete_delivery(): the
// session's entries are the outbox. They survive kill -9 and are re-sent
// (same message-id) after a reconnect. The bridge calls complete_delivery only when
// RabbitMQ confirms every publish made for that entry. The outbox is bounded
// by `max_messages` (SessionExtras::max_queued): past it QoS >= 1 publishes are
// refused (MQTT 5 reason 0x97, v3 connection closed, STOMP ERROR) or, with
// drop-oldest, the oldest unsent entry is dropped (counted).
//
// Inbound: a delivery is published into the core with the bridge session as
// publisher (its own no-local subscriptions do not re-export it) and acked
// upstream only once the store batch holding it has committed
// (Persistence ticket); a failed commit nacks it with requeue. basic.qos
// prefetch bounds what is in flight.
//
// Loop prevention between nodes: every export carries the header
// x-junction-origin = node id; deliveries carrying our own node id are acked
// and dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "amqp_client.h"
#include "amqp_uri.h"
#include "broker.h"
#include "frontend.h"

namespace junction::amqp {

// Stored with every one of the messages the AMQP bridge brings in (core::ProtocolId).
inline constexpr core::ProtocolId kAmqpProtocol{3};

struct OutboundRule {
  std::string filter;                   // local topic filter
  std::string exchange;                 // upstream exchange ("" = default exchange)
  std::string routing_key = "{topic}";  // template; {topic} = mapped topic
  std::uint8_t qos = 1;
  bool mandatory = false;               // unroutable messages come back (basic.return, logged)
};

struct InboundRule {
  std::string queue;          // upstream queue (declared durable); "" = junction.<bridge>.<node>
  std::string exchange;       // with binding_key: bind the queue to this exchange
  std::string binding_key;
  std::string topic_prefix;   // local topic = prefix + mapped routing key
  std::string local_queue;    // instead: publish into the local queue $queue/<local_queue>
  std::uint8_t qos = 1;
};

struct BridgeOptions {
  std::string name;
  std::string node_id;
  std::vector<AmqpUri> upstreams;
  std::vector<OutboundRule> outbound;
  std::vector<InboundRule> inbound;
  std::vector<ExchangeDecl> exchanges;  // declared on connect (topic, durable)
  std::uint16_t heartbeat_s = 30;
  std::uint16_t prefetch = 100;
  std::uint16_t max_unconfirmed = 1000;  // outbound publishes awaiting confirms
  // Messages (waiting + unconfirmed); 0: no count limit, the store's disk
  // limits bound the outbox (it lives on disk, issue 18).
  std::uint32_t outbox_max = 0;
  bool outbox_drop_oldest = false;
  // Inbound deliveries carrying an AMQP message-id go through the broker's
  // duplicate detection with it (x-dedup-id), so RabbitMQ's redeliveries
  // after a reconnect, or our own resends coming back, reach local
  // subscribers once.
  bool dedup = false;
  std::uint64_t max_message_size = 64u << 20;
};

struct BridgeStats {
  std::uint64_t published = 0, confirmed = 0, nacked = 0, returned = 0;
  std::uint64_t received = 0, looped = 0, dropped_inbound = 0, refused_inbound = 0;
  std::uint64_t connects = 0;
};

class AmqpBridge final : public core::ProtocolFactory,
                         public core::SessionSink,
                         public core::CommitWaiter,
                         private ClientEvents {
 public:
  AmqpBridge(core::Broker& broker, BridgeOptions options);
  ~AmqpBridge() override;

  // Creates (or resumes) the outbox session and its subscriptions; call after
  // Broker::restore(), before connecting.
  void start();
  // Which upstream the next connection goes to (host, port), for credentials.
  void set_endpoint_probe(std::function<std::pair<std::string, std::uint16_t>()> probe) { probe_ = std::move(probe); }
  // About once a second: periodic state logging.
  void tick();
  // Shutdown: close the upstream connection politely.
  void shutdown();

  // ProtocolFactory
  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;
  const char* protocol_name() const override { return "amqp-bridge"; }

  // SessionSink
  core::DeliverResult deliver(const core::Delivery& d) override;
  bool can_deliver() const override;
  void session_taken_over() override;

  // CommitWaiter
  void on_commit() override;

  bool connected() const { return client_ != nullptr && client_->ready(); }
  std::size_t outbox_depth() const;
  std::size_t confirms_pending() const { return confirms_.size(); }
  const BridgeStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }
  const std::string& client_id() const { return client_id_; }
  const ClientOptions& client_options() const { return client_opts_; }

 private:
  // ClientEvents
  void amqp_ready() override;
  void amqp_confirm(std::uint64_t seq, bool ack, bool multiple) override;
  void amqp_returned(const BasicReturn& r) override;
  void amqp_delivery(IncomingMessage& m) override;
  void amqp_blocked(bool blocked, const std::string& reason) override;
  void amqp_closed(const std::string& why) override;
  void amqp_drained() override;

  core::Session* attach(core::SessionSink* sink);
  void log_state(const char* event);
  void settle(std::uint64_t seq, bool ack, std::vector<std::uint16_t>& done);

  struct PendingAck {
    std::uint64_t ticket;
    std::uint64_t delivery_tag;
    std::uint64_t generation;
  };

  core::Broker& broker_;
  BridgeOptions opt_;
  std::string client_id_;
  ClientOptions client_opts_;
  std::function<std::pair<std::string, std::uint16_t>()> probe_;
  AmqpClient* client_ = nullptr;      // owned by its connection
  core::Session* session_ = nullptr;  // the outbox session
  bool online_ = false;               // session attached to the live client
  std::uint64_t generation_ = 0;      // connection count, to drop stale acks
  std::map<std::uint64_t, std::uint16_t> confirms_;         // publish seq -> packet id (0: QoS 0)
  std::unordered_map<std::uint16_t, std::uint32_t> parts_;  // packet id -> publishes not yet confirmed
  std::unordered_map<std::uint16_t, bool> part_failed_;     // packet id -> some publish was nacked
  std::deque<PendingAck> acks_;
  // Deliveries a full local session or queue refused: requeued upstream at
  // the next tick rather than at once, so a full queue does not spin.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> requeue_;  // (delivery tag, generation)
  std::uint64_t dropped_oldest_logged_ = 0;
  BridgeStats stats_;
  std::string last_error_;
  std::int64_t last_status_log_ms_ = 0;
};

}  // namespace junction::amqp
