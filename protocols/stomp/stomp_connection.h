// junction::stomp::StompConnection — one STOMP client connection: the session
// rules between the transport (ConnectionSink) and the core (Broker, Session,
// QueueManager). What every client connection shares (commit-ordered
// answers, rate back-pressure, connect timeout, delivery window, access
// re-check) is its base, frontend::ClientConnection; each queue subscription
// is a QueueConsumer.
//
// Files: stomp_connection.cpp (framing, dispatch, ERROR + close, receipts,
// heart-beats, back-pressure), stomp_handle_connect.cpp (CONNECT/STOMP,
// DISCONNECT, authentication), stomp_handle_send.cpp (SEND),
// stomp_handle_subscribe.cpp (SUBSCRIBE, UNSUBSCRIBE), stomp_handle_ack.cpp
// (ACK, NACK, BEGIN, COMMIT, ABORT), stomp_deliver.cpp (MESSAGE frames).
//
// Invariants:
//  * Answers (RECEIPT, and the ERROR or close that ends the connection)
//    leave in the order their frames arrived. A RECEIPT waits until every
//    store write this connection caused so far is committed (wrote_ticket_);
//    answers behind it wait too (ClientConnection::answer).
//  * Once an ERROR was decided (fail()) no further input is read; the ERROR
//    goes out after the answers still owed, then the transport is closed.
//  * Topic subscriptions reach the core through one core subscription per
//    distinct filter (TopicSlot; its core subscription id is slot index + 1),
//    so two STOMP subscriptions on one filter each get their MESSAGE.
//    Topic deliveries are QoS 0: ACK/NACK of topic messages are no-ops.
//  * Queue subscriptions talk to the QueueManager directly; unacknowledged
//    messages go back to their queue on UNSUBSCRIBE or when the connection
//    ends, and temporary queues are drained then.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "access_control.h"
#include "client_connection.h"
#include "queue.h"
#include "stomp_codec.h"
#include "stomp_protocol.h"
#include "stomp_topic_map.h"

namespace junction::stomp {

class StompConnection final : public frontend::ClientConnection {
 public:
  StompConnection(StompProtocol& proto, core::ConnectionSink& sink);
  ~StompConnection() override;

  // ProtocolHandler
  std::size_t on_bytes(std::span<const std::uint8_t> data) override;
  void on_closed() override;
  void on_drained() override;

  // SessionSink (topic deliveries, always QoS 0)
  core::DeliverResult deliver(const core::Delivery& d) override;
  void session_taken_over() override;
  void disconnected_by_admin() override;

  // Server shutdown: ERROR "server shutting down" after owed receipts, then close.
  void shutdown() override;

 private:
  enum class AckKind : std::uint8_t { Auto, Client, ClientIndividual };

  struct Subscription final : core::QueueConsumer {
    explicit Subscription(StompConnection& c) : conn(c) {}
    void queue_deliver(core::QueueSubscription& sub, const core::MessageRef& m, std::uint64_t tag,
                       std::uint32_t deliveries) override;
    bool queue_can_take() const override { return conn.can_deliver(); }

    StompConnection& conn;
    std::string id;           // the client's subscription id
    std::string destination;  // as subscribed
    std::string head;         // encoded "subscription:..\n" (+ "destination:..\n" for queues)
    std::uint32_t num = 0;    // names the subscription in ack ids "<num>-<n>"
    DestKind kind = DestKind::Topic;
    AckKind ack = AckKind::Auto;
    std::uint32_t slot = 0;   // topic: core subscription id
    std::string queue;        // queue: core queue name
    core::QueueSubscription* qsub = nullptr;
    bool implicit = false;    // made by a reply-to /temp-queue/ (RabbitMQ style)
  };

  struct TopicSlot {
    std::string filter;  // empty: free
    std::vector<Subscription*> subs;
  };

  struct Transaction {
    std::string id;
    std::vector<std::string> frames;  // raw SEND / ACK / NACK frames, replayed at COMMIT
  };

  // ClientConnection: an answer is a RECEIPT or the final ERROR (may be
  // empty); this tag closes the transport after it is written.
  static constexpr std::uint8_t kCloseAfter = 1;
  bool send_answer(Answer& a, bool failed) override;
  void tick(std::int64_t now_ms) override;  // heart-beats
  void revoke(const char* why) override;
  void recheck_access() override;  // read access to the queue subscriptions

  // ---- dispatch (stomp_connection.cpp) ----
  void handle(const StompFrame& f, ByteSpan raw);
  void fail(std::string_view message, std::string_view detail = {}, const Header* extra = nullptr);
  void fail_parse(const Status& st);
  std::string encode_error(std::string_view message, std::string_view detail, const Header* extra);
  void send_receipt(std::string_view receipt_id);
  void answer(std::string bytes, std::uint64_t ticket, bool close) {
    ClientConnection::answer(std::move(bytes), ticket, close ? kCloseAfter : 0);
  }
  StompProtocol& proto() const { return static_cast<StompProtocol&>(client_proto_); }
  void close_transport();
  void emit(std::string_view bytes);
  void teardown();
  std::string_view owner() const;

  // ---- frames ----
  void handle_connect(const StompFrame& f);
  bool authenticate(const std::string_view* login, const std::string_view* passcode, core::ClientIdentity& identity);
  // ACL check of a core name ("a/b", "$queue/q") or, with Subscribe, a filter.
  bool may_access(std::string_view core_name, core::Access a) const;
  void handle_disconnect(const StompFrame& f);
  void handle_send(const StompFrame& f, ByteSpan raw, bool from_tx);
  void handle_subscribe(const StompFrame& f);
  void handle_unsubscribe(const StompFrame& f);
  void handle_ack(const StompFrame& f, ByteSpan raw, bool nack, bool from_tx);
  void handle_begin(const StompFrame& f);
  void handle_commit(const StompFrame& f);
  void handle_abort(const StompFrame& f);
  bool buffer_in_transaction(std::string_view tx, ByteSpan raw);
  Transaction* find_transaction(std::string_view id);

  // ---- subscriptions (stomp_handle_subscribe.cpp) ----
  Subscription* find_subscription(std::string_view id);
  Subscription* find_subscription(std::uint32_t num);
  Subscription* add_subscription(std::string_view id, std::string_view destination, const Destination& d,
                                 AckKind ack, std::uint32_t prefetch, bool implicit);
  void remove_subscription(Subscription* s);
  void ensure_reply_queue(const core::Message& m);
  void note_temp_queue(std::string_view queue);  // own temp queues only: drained at the end
  void drain_temp_queues();

  // ---- MESSAGE (stomp_deliver.cpp) ----
  void write_message(const Subscription& s, const core::Message& m, std::uint64_t key, std::uint32_t deliveries,
                     bool retained);
  std::string_view shared_headers(const core::Message& m);

  std::string client_id_;  // also the owner of this connection's temp queues
  Version version_ = Version::V1_0;
  bool torn_down_ = false;
  // The client sent DISCONNECT: its detach is Normal, any other end an
  // error (STOMP has no will; plugins see the difference).
  bool said_goodbye_ = false;

  StompFrameParser parser_;
  StompFrame frame_;
  const std::string_view* receipt_ = nullptr;  // receipt of the frame being handled (for ERROR)

  // Heart-beats (0 = off). Times are the broker clock's monotonic ms.
  std::uint32_t send_ms_ = 0;
  std::uint32_t expect_ms_ = 0;
  std::int64_t last_tx_ms_ = 0;  // no later than the last write
  std::int64_t tick_ms_ = 0;     // the previous on_tick
  bool wrote_ = false;           // written since the previous on_tick

  std::uint64_t wrote_ticket_ = 0;  // batch holding this connection's latest store writes

  std::vector<std::unique_ptr<Subscription>> subs_;
  std::vector<TopicSlot> slots_;
  std::vector<std::string> temp_queues_;  // core names of temp queues this connection used
  std::uint32_t next_sub_num_ = 1;

  std::vector<Transaction> transactions_;
  std::size_t transaction_bytes_ = 0;

  std::string scratch_;      // control frames (RECEIPT, ERROR, CONNECTED)
  std::string msg_scratch_;  // per-delivery MESSAGE headers
  std::string hdr_scratch_;  // shared headers that could not come from the cache
};

}  // namespace junction::stomp
