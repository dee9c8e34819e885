// junction::amqp::AmqpClient — the client side of one AMQP 0-9-1 connection
// to the upstream broker, as a core::ProtocolHandler: a net::Connector creates
// one per TCP connection (through AmqpBridge, the ProtocolFactory) and feeds
// it bytes; it writes through the ConnectionSink. No I/O of its own, so the
// unit tests drive it with a fake sink that plays the server.
//
// Sequence (AMQP 0-9-1 §2.2.4): protocol header -> connection.start ->
// start-ok (PLAIN) -> tune -> tune-ok (frame-max, channel-max, heartbeat: the
// lower non-zero value of each side) -> open(vhost) -> open-ok -> channel 1
// open -> topology (exchange.declare, queue.declare, queue.bind, pipelined)
// -> basic.qos(prefetch) -> confirm.select -> basic.consume per queue ->
// Ready: ClientEvents::amqp_ready().
//
// Publishing: publish() returns the confirm sequence number (1, 2, ... per
// channel, §confirm extension); basic.ack / basic.nack come back as
// amqp_confirm(seq, ack, multiple). Deliveries arrive whole (method + header +
// body) through amqp_delivery() and are acknowledged by ack()/nack() later.
// connection.blocked stops publishing (can_publish() false) until unblocked.
// A server connection.close or channel.close is logged with its reply code and
// text; the client answers and closes, and the Connector reconnects.
// Heartbeats: one is sent when nothing else went out for half the interval;
// the connection is dropped after two intervals without a frame.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "amqp_codec.h"
#include "frontend.h"

namespace junction::amqp {

struct ExchangeDecl {
  std::string name;
  std::string type = "topic";
  bool durable = true;
};
struct QueueDecl {
  std::string name;
  bool durable = true;
};
struct BindingDecl {
  std::string queue, exchange, binding_key;
};

struct ClientOptions {
  std::string user = "guest", password = "guest", vhost = "/";
  std::string connection_name;        // shown in the management UI
  std::uint16_t heartbeat_s = 30;     // 0: accept the server's
  std::uint32_t frame_max = 131072;
  std::uint16_t prefetch = 100;       // basic.qos per consumer
  std::uint64_t max_body = 64u << 20; // deliveries larger than this close the connection
  std::int64_t handshake_timeout_ms = 30000;
  std::vector<ExchangeDecl> exchanges;
  std::vector<QueueDecl> queues;
  std::vector<BindingDecl> bindings;
  std::vector<std::string> consume;   // queues to consume from (manual acks)
};

struct IncomingMessage {
  std::size_t consumer = 0;  // index into ClientOptions::consume
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange, routing_key;
  BasicProperties properties;
  std::string body;
};

class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  virtual void amqp_ready() = 0;
  virtual void amqp_confirm(std::uint64_t seq, bool ack, bool multiple) = 0;
  virtual void amqp_returned(const BasicReturn& r) = 0;
  virtual void amqp_delivery(IncomingMessage& m) = 0;
  virtual void amqp_blocked(bool blocked, const std::string& reason) = 0;
  // The connection is gone (called from on_closed); `why` says what ended it.
  virtual void amqp_closed(const std::string& why) = 0;
  // The sink drained after back-pressure.
  virtual void amqp_drained() {}
};

class AmqpClient final : public core::ProtocolHandler {
 public:
  AmqpClient(core::ConnectionSink& sink, const ClientOptions& options, ClientEvents& events, std::int64_t now_ms);

  std::size_t on_bytes(std::span<const std::uint8_t> data) override;
  void on_closed() override;
  void on_tick(std::int64_t now_ms) override;
  void on_drained() override { events_.amqp_drained(); }

  bool ready() const { return state_ == State::Ready; }
  bool blocked() const { return blocked_; }
  // Ready, not blocked by the server, and the socket keeps up.
  bool can_publish() const { return ready() && !blocked_ && sink_.queued_bytes() < kMaxQueuedBytes; }
  static constexpr std::size_t kMaxQueuedBytes = 1u << 20;

  // Publishes on channel 1; returns the confirm sequence number (0 if not ready
  // or the routing key does not fit).
  std::uint64_t publish(const std::string& exchange, const std::string& routing_key, const BasicProperties& props,
                        std::string_view body, bool mandatory);
  void ack(std::uint64_t delivery_tag, bool multiple = false);
  void nack(std::uint64_t delivery_tag, bool requeue);
  // Graceful close (connection.close 200); the sink closes after close-ok.
  void close(const std::string& reason);

  std::uint16_t negotiated_heartbeat() const { return heartbeat_s_; }
  std::uint32_t negotiated_frame_max() const { return frame_max_; }
  std::uint16_t negotiated_channel_max() const { return channel_max_; }
  const std::string& server_product() const { return server_product_; }

 private:
  enum class State : std::uint8_t { Start, Tune, Open, Channel, Setup, Ready, Closing, Closed };

  bool handle_frame(const Frame& f);
  bool handle_method(std::uint16_t channel, Method& m);
  bool handle_setup_reply(const Method& m);
  void send(std::uint16_t channel, const Method& m);
  void begin_setup();
  void fail(const std::string& why);  // protocol error: connection.close 505/501 and drop

  core::ConnectionSink& sink_;
  const ClientOptions& opt_;
  ClientEvents& events_;
  FrameParser parser_;
  ContentAssembler content_;
  State state_ = State::Start;
  bool blocked_ = false;
  std::string closed_why_;
  std::deque<std::uint32_t> expected_;  // (class << 16 | method) of setup replies still due, in order
  std::uint16_t heartbeat_s_ = 0;
  std::uint32_t frame_max_ = kMinFrameMax;
  std::uint16_t channel_max_ = 0;
  std::int64_t started_ms_ = 0;
  std::int64_t now_ms_ = 0;
  std::int64_t last_recv_ms_ = 0;
  std::int64_t last_send_ms_ = 0;
  std::uint64_t next_seq_ = 1;
  std::string server_product_;
  std::string out_;  // scratch
};

}  // namespace junction::amqp
