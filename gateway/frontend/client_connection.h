// junction::frontend::ClientConnection — what every client connection
// shares, whatever its protocol (MQTT, STOMP): the machinery between the
// transport (ConnectionSink), the core (Broker, Session) and the store's
// commits. A protocol's connection derives from it and keeps only what is
// its own (parsing, its packets, its errors).
//
// Shared here, once:
//  * Commit-ordered answers. Answers (MQTT PUBACK/SUBACK..., STOMP RECEIPT,
//    the final ERROR) leave in the order their requests arrived; one that
//    promises durability carries the store ticket of the batch holding its
//    work and waits for that commit, everything behind it waits too. Past
//    kPauseAnswers owed, reading stops (the store is behind: slow the client
//    down, never buffer its answers without bound); it resumes at half.
//  * Publish-rate back-pressure (limits.max_publish_rate): a client over it
//    is not refused, its reading pauses until a tick finds a token.
//  * The connect timeout: a connection that has not connected within
//    connect_timeout_ms is closed.
//  * The delivery window: nothing more is written past outbound_limit
//    unsent bytes (deliveries wait in the session), and the slow-consumer
//    rule (core/outbound_watch.h).
//  * The access re-check after a reload (SIGHUP): a login taken away ends
//    the connection.
//
// ReadHold says why reading stopped (answers owed, rate spent); reading
// resumes only when no reason is left.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "broker.h"
#include "client_protocol.h"
#include "frontend.h"
#include "intrusive_list.h"
#include "outbound_watch.h"
#include "persistence.h"
#include "read_hold.h"
#include "ring.h"
#include "session.h"
#include "token_bucket.h"

namespace junction::frontend {

class ClientConnection : public core::IntrusiveList<ClientConnection>::Hook,
                         public core::ProtocolHandler,
                         public core::SessionSink,
                         public core::CommitWaiter {
 public:
  ClientConnection(ClientProtocol& proto, core::ConnectionSink& sink);
  ~ClientConnection() override;
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // ProtocolHandler: the shared timers (connect timeout, rate, slow
  // consumer), then the protocol's own (tick()).
  void on_tick(std::int64_t now_ms) final;
  // SessionSink: the delivery window and the slow-consumer rule.
  bool can_deliver() const final;
  bool slow_consumer() const final { return outbound_.slow(); }
  // SessionSink: the login is checked again (revoke() if it was taken
  // away), then recheck_access().
  void access_changed() final;
  // CommitWaiter: answers whose commit is done go out.
  void on_commit() final { release_answers(); }
  const core::ConnectionInfo* connection() const final { return &sink_.info(); }
  std::int64_t connected_at_ms() const final { return connected_wall_ms_; }

  // Server shutdown, in the protocol's way (MQTT 5 DISCONNECT 0x8B, STOMP
  // ERROR "server shutting down"), then close once flushed.
  virtual void shutdown() = 0;

 protected:
  enum class Phase : std::uint8_t {
    AwaitConnect,  // only the protocol's connect is accepted
    Connected,
    Closing,       // no more input; owed answers, then close
    Closed,        // close requested or transport gone: nothing more is written
  };

  // An answer owed to the client. `ticket` (0: none) is the store commit it
  // waits for; `tag` is the protocol's own (what the answer is).
  struct Answer {
    std::uint64_t ticket = 0;
    std::string bytes;
    std::uint8_t tag = 0;
  };
  static constexpr std::size_t kPauseAnswers = 4096;

  // True when an answer with this ticket may be written right now (nothing
  // owed before it, its commit done): the caller writes it itself, without
  // queueing (the common case, no allocation).
  bool can_answer_now(std::uint64_t ticket) const;
  // Queues an answer behind the owed ones (or sends it at once when it can).
  void answer(std::string bytes, std::uint64_t ticket, std::uint8_t tag);
  bool answers_owed() const { return !answers_.empty(); }
  // The connection ends: what is owed is not sent.
  void drop_answers();
  // Writes one answer whose turn came. `failed`: its commit failed, the store
  // could not keep what it promised (never answer yes then). Returns false
  // when the connection ends here (the protocol has dropped or queued what
  // it wants): releasing stops.
  virtual bool send_answer(Answer& a, bool failed) = 0;

  // Takes a publish token (limits.max_publish_rate). False: over the rate;
  // reading is paused, and this publish waits unread until a tick finds a
  // token again.
  bool take_publish_token(std::int64_t now_ms);

  // The protocol's own timers, after the shared ones (not while awaiting
  // the connect: the timeout is shared).
  virtual void tick(std::int64_t now_ms) = 0;
  // The login was taken away by a reload: end the connection with the
  // protocol's error.
  virtual void revoke(const char* why) = 0;
  // After the login check passed: whatever else the protocol must check
  // again (STOMP: read access to its queue subscriptions).
  virtual void recheck_access() {}

  bool ending() const { return phase_ >= Phase::Closing; }
  core::Broker& broker() const { return client_proto_.broker(); }
  const ClientOptions& client_options() const { return client_proto_.client_options(); }
  const char* peer() const { return sink_.info().peer_address.c_str(); }

  ClientProtocol& client_proto_;
  core::ConnectionSink& sink_;
  core::Session* session_ = nullptr;
  std::int64_t connected_wall_ms_ = 0;  // the admin API's connected_at
  std::int64_t last_rx_ms_ = 0;  // the last input (connect timeout, keep-alive, heart-beats)
  Phase phase_ = Phase::AwaitConnect;
  core::ReadHold read_hold_;
  core::OutboundWatch outbound_;

 private:
  void release_answers();
  // Deliveries wait because of this connection (its buffer, or its session's queue).
  bool held_back() const;

  std::unique_ptr<core::TokenBucket> publish_rate_;  // null: no max_publish_rate (most listeners)
  core::Ring<Answer> answers_;
};

}  // namespace junction::frontend
