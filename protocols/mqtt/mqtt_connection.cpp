// Framing, dispatch by packet type, protocol errors, keep-alive and the
// ordered queue of answers that wait for durable commits.
#include "mqtt_connection.h"

#include "log.h"

namespace junction::mqtt {

MqttConnection::MqttConnection(MqttProtocol& proto, core::ConnectionSink& sink)
    : proto_(proto), sink_(sink) {
  last_rx_ms_ = broker().clock().now_ms();
  if (proto.options().max_publish_rate) {
    publish_rate_ = std::make_unique<core::TokenBucket>(proto.options().max_publish_rate, last_rx_ms_);
  }
  proto_.add(this);
}

MqttConnection::~MqttConnection() {
  broker().persistence().cancel(this);
  proto_.remove(this);
}

std::size_t MqttConnection::on_bytes(std::span<const std::uint8_t> data) {
  if (state_ == State::Closing) return data.size();  // draining: ignore input
  last_rx_ms_ = broker().clock().now_ms();
  std::size_t used = 0;
  while (used < data.size() && state_ != State::Closing) {
    const MqttFrameParser parser(proto_.options().max_packet_size, version_);  // CONNECT may change version_
    Frame f;
    Status st;
    switch (parser.next(data.subspan(used), f, st)) {
      case FrameResult::NeedMore:
        return used;
      case FrameResult::Error:
        fail(st.reason, st.what);
        return data.size();
      case FrameResult::Frame:
        if (f.type == PacketType::Publish && state_ == State::Connected && publish_rate_ && !publish_rate_->take(last_rx_ms_)) {
          // Over max_publish_rate: back-pressure, not loss. This PUBLISH and
          // what follows wait unread until on_tick finds a token again.
          pause_for_rate();
          return used;
        }
        used += f.total_size;
        handle(f);
        break;
    }
  }
  return state_ == State::Closing ? data.size() : used;
}

void MqttConnection::handle(const Frame& f) {
  if (state_ == State::AwaitConnect) {
    if (f.type != PacketType::Connect) {
      // [MQTT-3.1.0-1] the first packet must be CONNECT.
      log::info("mqtt %s: first packet is not CONNECT; closing", sink_.info().peer_address.c_str());
      state_ = State::Closing;
      sink_.abort();
      return;
    }
    handle_connect(f);
    return;
  }
  switch (f.type) {
    case PacketType::Publish: handle_publish(f); break;
    case PacketType::Puback:
    case PacketType::Pubrec:
    case PacketType::Pubcomp: handle_ack(f); break;
    case PacketType::Pubrel: handle_pubrel(f); break;
    case PacketType::Subscribe: handle_subscribe(f); break;
    case PacketType::Unsubscribe: handle_unsubscribe(f); break;
    case PacketType::Pingreq:
      scratch().clear();
      encode_pingresp(scratch());
      write(scratch());
      break;
    case PacketType::Disconnect: handle_disconnect(f); break;
    case PacketType::Auth: handle_auth(f); break;
    case PacketType::Connect: fail(Reason::ProtocolError, "second CONNECT"); break;  // [MQTT-3.1.0-2]
    default: fail(Reason::ProtocolError, "packet type not accepted from a client"); break;
  }
}

void MqttConnection::fail(Reason reason, const char* why) {
  if (state_ == State::Closing) return;
  log::info("mqtt %s (%s): %s (%s); closing", sink_.info().peer_address.c_str(),
            session_ ? session_->client_id.c_str() : "-", why ? why : "error", reason_name(reason));
  if (state_ == State::Connected && version_ == Version::V5) {
    Disconnect d;
    d.reason = reason;
    if (want_reason_strings() && why) d.properties.reason_string = why;
    scratch().clear();
    encode_disconnect(version_, d, scratch());
    write(scratch());
  }
  close_with_will();
}

void MqttConnection::close_with_will() {
  state_ = State::Closing;
  disconnect_with_will_ = true;
  sink_.close_after_flush();
}

void MqttConnection::on_closed() {
  broker().persistence().cancel(this);
  if (session_) {
    core::Session* s = session_;
    session_ = nullptr;
    const auto kind = clean_disconnect_ && !disconnect_with_will_ ? core::DetachKind::Normal : core::DetachKind::WithWill;
    broker().detach(s, kind, session_expiry_s_);
  }
  state_ = State::Closing;
}

void MqttConnection::pause_for_rate() {
  if (read_hold_.held(core::ReadHold::PublishRate)) return;
  proto_.count_rate_limited();
  read_hold_.hold(core::ReadHold::PublishRate, sink_);
}

void MqttConnection::on_tick(std::int64_t now_ms) {
  if (read_hold_.held(core::ReadHold::PublishRate) && state_ == State::Connected &&
      (!publish_rate_ || publish_rate_->ready(now_ms))) {
    last_rx_ms_ = now_ms;  // the silence was ours
    read_hold_.release(core::ReadHold::PublishRate, sink_);
  }
  if (state_ == State::AwaitConnect) {
    if (now_ms - last_rx_ms_ > std::int64_t(proto_.options().connect_timeout_ms)) {
      log::info("mqtt %s: no CONNECT within %u ms; closing", sink_.info().peer_address.c_str(),
                proto_.options().connect_timeout_ms);
      state_ = State::Closing;
      sink_.abort();
    }
    return;
  }
  if (state_ == State::Connected &&
      outbound_.tick(sink_.queued_bytes(), held_back(), now_ms, broker().config().slow_consumer_ms)) {
    broker().note_slow_consumer(session_, sink_.queued_bytes(), outbound_.stalled_ms(now_ms));
  }
  // [MQTT-3.1.2-22] one and a half keep-alive periods without a packet.
  if (state_ == State::Connected && keep_alive_s_ != 0 &&
      now_ms - last_rx_ms_ > std::int64_t(keep_alive_s_) * 1500) {
    fail(Reason::KeepAliveTimeout, "keep alive timeout");
  }
}

void MqttConnection::on_drained() {
  if (session_ && state_ == State::Connected) broker().resume(session_);
}

bool MqttConnection::held_back() const {
  return sink_.queued_bytes() >= proto_.options().outbound_limit || (session_ && !session_->pending.empty());
}

bool MqttConnection::can_deliver() const {
  return state_ == State::Connected && sink_.queued_bytes() < proto_.options().outbound_limit;
}

void MqttConnection::session_taken_over() {
  // The broker has already detached our session; do not touch it again.
  session_ = nullptr;
  if (state_ != State::Connected) return;
  log::info("mqtt %s: session taken over by a new connection", sink_.info().peer_address.c_str());
  if (version_ == Version::V5) {
    Disconnect d;
    d.reason = Reason::SessionTakenOver;
    scratch().clear();
    encode_disconnect(version_, d, scratch());
    write(scratch());
  }
  state_ = State::Closing;
  sink_.close_after_flush();
}

void MqttConnection::shutdown() {
  if (state_ == State::Closing) return;
  if (state_ == State::Connected && version_ == Version::V5) {
    Disconnect d;
    d.reason = Reason::ServerShuttingDown;
    scratch().clear();
    encode_disconnect(version_, d, scratch());
    write(scratch());
  }
  // A server shutdown is not the client's fault: its session stays, its will does not fire.
  clean_disconnect_ = true;
  state_ = State::Closing;
  sink_.close_after_flush();
}

void MqttConnection::answer(std::string bytes, PacketType kind, bool durable, bool counts_inflight) {
  auto& p = broker().persistence();
  if (!durable && answers_.empty()) {
    write(bytes);
    if (counts_inflight && incoming_inflight_) --incoming_inflight_;
    return;
  }
  PendingAnswer a;
  a.ticket = durable ? p.ticket() : 0;
  a.bytes = std::move(bytes);
  a.kind = static_cast<std::uint8_t>(kind);
  a.counts_inflight = counts_inflight;
  answers_.push_back(std::move(a));
  p.wait(this);
  // The store is behind: stop reading from this publisher rather than
  // buffering its answers without bound (resumed in release_answers).
  if (answers_.size() >= kPauseAnswers) read_hold_.hold(core::ReadHold::Answers, sink_);
}

void MqttConnection::on_commit() { release_answers(); }

bool MqttConnection::answer_failed(const PendingAnswer& a) const {
  return a.ticket != 0 && broker().persistence().failed(a.ticket);
}

void MqttConnection::release_answers() {
  auto& p = broker().persistence();
  while (!answers_.empty()) {
    PendingAnswer& a = answers_.front();
    if (a.ticket != 0 && !p.committed(a.ticket)) break;
    if (state_ != State::Closing) {
      if (answer_failed(a)) {
        // The store could not keep what this answer promised: never say yes.
        if (version_ == Version::V5 &&
            (a.kind == std::uint8_t(PacketType::Puback) || a.kind == std::uint8_t(PacketType::Pubrec))) {
          Ack ack;
          ack.type = static_cast<PacketType>(a.kind);
          ack.packet_id = std::uint16_t((std::uint8_t(a.bytes[2]) << 8) | std::uint8_t(a.bytes[3]));
          ack.reason = Reason::QuotaExceeded;
          scratch().clear();
          encode_ack(version_, ack, scratch());
          write(scratch());
        } else {
          answers_.clear();
          fail(Reason::QuotaExceeded, "store full");
          return;
        }
      } else {
        write(a.bytes);
      }
    }
    if (a.counts_inflight && incoming_inflight_) --incoming_inflight_;
    answers_.pop_front();
  }
  if (answers_.empty()) {
    answers_.shrink_if_empty();
  } else {
    p.wait(this);
  }
  if (answers_.size() <= kPauseAnswers / 2 && state_ != State::Closing)
    read_hold_.release(core::ReadHold::Answers, sink_);
}

}  // namespace junction::mqtt
