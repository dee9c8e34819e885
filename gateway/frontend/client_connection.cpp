#include "client_connection.h"

#include "log.h"

namespace junction::frontend {

ClientConnection::ClientConnection(ClientProtocol& proto, core::ConnectionSink& sink)
    : client_proto_(proto), sink_(sink) {
  last_rx_ms_ = proto.broker().clock().now_ms();
  connected_wall_ms_ = proto.broker().clock().wall_ms();
  if (proto.client_options().max_publish_rate != 0) {
    publish_rate_ = std::make_unique<core::TokenBucket>(proto.client_options().max_publish_rate, last_rx_ms_);
  }
  client_proto_.add(this);
}

ClientConnection::~ClientConnection() {
  broker().persistence().cancel(this);
  client_proto_.remove(this);
}

// ------------------------------------------------------------- timers ----

void ClientConnection::on_tick(std::int64_t now_ms) {
  if (phase_ == Phase::AwaitConnect) {
    const std::uint32_t limit = client_options().connect_timeout_ms;
    if (now_ms - last_rx_ms_ > std::int64_t(limit)) {
      log::info("%s %s: no CONNECT within %u ms; closing", client_proto_.protocol_name(), peer(), limit);
      phase_ = Phase::Closed;
      sink_.abort();
    }
    return;
  }
  if (phase_ == Phase::Connected) {
    if (outbound_.tick(sink_.queued_bytes(), held_back(), now_ms, broker().config().slow_consumer_ms)) {
      broker().note_slow_consumer(session_, sink_.queued_bytes(), outbound_.stalled_ms(now_ms));
    }
    if (read_hold_.held(core::ReadHold::PublishRate) && (!publish_rate_ || publish_rate_->ready(now_ms))) {
      last_rx_ms_ = now_ms;  // the silence was ours
      read_hold_.release(core::ReadHold::PublishRate, sink_);
    }
  }
  tick(now_ms);
}

bool ClientConnection::take_publish_token(std::int64_t now_ms) {
  if (!publish_rate_ || publish_rate_->take(now_ms)) return true;
  if (!read_hold_.held(core::ReadHold::PublishRate)) {
    client_proto_.count_rate_limited();
    read_hold_.hold(core::ReadHold::PublishRate, sink_);
  }
  return false;
}

// ----------------------------------------------------------- delivery ----

bool ClientConnection::can_deliver() const {
  return phase_ == Phase::Connected && sink_.queued_bytes() < client_options().outbound_limit;
}

bool ClientConnection::held_back() const {
  return sink_.queued_bytes() >= client_options().outbound_limit || (session_ && !session_->pending().empty());
}

void ClientConnection::access_changed() {
  if (phase_ != Phase::Connected || session_ == nullptr) return;
  const core::AccessControl* ac = broker().access();
  if (ac != nullptr && !ac->still_valid(session_->identity())) {
    log::notice("%s %s: client '%s': user '%s' was removed from the password file or its password changed; "
                "disconnecting",
                client_proto_.protocol_name(), peer(), session_->client_id.c_str(),
                session_->identity().user.c_str());
    revoke("credentials no longer valid");
    return;
  }
  recheck_access();
}

// ------------------------------------------------------------ answers ----

bool ClientConnection::can_answer_now(std::uint64_t ticket) const {
  if (!answers_.empty()) return false;
  if (ticket == 0) return true;
  const core::Persistence& p = broker().persistence();
  return p.committed(ticket) && !p.failed(ticket);
}

void ClientConnection::answer(std::string bytes, std::uint64_t ticket, std::uint8_t tag) {
  if (can_answer_now(ticket)) {
    Answer a{0, std::move(bytes), tag};
    send_answer(a, false);
    return;
  }
  core::Persistence& p = broker().persistence();
  answers_.push_back(Answer{ticket, std::move(bytes), tag});
  if (answers_.size() == 1 && ticket != 0 && p.committed(ticket)) {
    // Its batch is done but failed: no further commit may come to wake us.
    release_answers();
    return;
  }
  p.wait(this);
  if (answers_.size() >= kPauseAnswers && phase_ == Phase::Connected) read_hold_.hold(core::ReadHold::Answers, sink_);
}

void ClientConnection::drop_answers() {
  answers_.clear();
  answers_.shrink_if_empty();
}

void ClientConnection::release_answers() {
  core::Persistence& p = broker().persistence();
  while (!answers_.empty()) {
    Answer& front = answers_.front();
    if (front.ticket != 0 && !p.committed(front.ticket)) break;
    const bool failed = front.ticket != 0 && p.failed(front.ticket);
    Answer a = std::move(front);
    answers_.pop_front();
    if (!send_answer(a, failed)) return;
  }
  if (answers_.empty()) {
    answers_.shrink_if_empty();
  } else {
    p.wait(this);
  }
  if (read_hold_.held(core::ReadHold::Answers) && answers_.size() <= kPauseAnswers / 2 &&
      phase_ == Phase::Connected) {
    last_rx_ms_ = broker().clock().now_ms();  // the silence was ours
    read_hold_.release(core::ReadHold::Answers, sink_);
  }
}

}  // namespace junction::frontend
