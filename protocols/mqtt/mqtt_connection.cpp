// Framing, dispatch by packet type, protocol errors, keep-alive, and what
// MQTT does with an answer whose turn came (the ordered queue itself is
// frontend::ClientConnection's).
#include "mqtt_connection.h"

#include "log.h"

namespace junction::mqtt {

MqttConnection::MqttConnection(MqttProtocol& proto, core::ConnectionSink& sink) : ClientConnection(proto, sink) {}

MqttConnection::~MqttConnection() = default;

std::size_t MqttConnection::on_bytes(std::span<const std::uint8_t> data) {
  if (ending()) return data.size();  // draining: ignore input
  // Not during an enhanced authentication: its whole exchange must end
  // within connect_timeout_ms of the CONNECT (resume_connect() restarts it).
  if (!authenticating()) last_rx_ms_ = broker().clock().now_ms();
  std::size_t used = 0;
  while (used < data.size() && !ending()) {
    const MqttFrameParser parser(proto().options().max_packet_size, version_);  // CONNECT may change version_
    Frame f;
    Status st;
    switch (parser.next(data.subspan(used), f, st)) {
      case FrameResult::NeedMore:
        return used;
      case FrameResult::Error:
        fail(st.reason, st.what);
        return data.size();
      case FrameResult::Frame:
        if (f.type == PacketType::Publish && phase_ == Phase::Connected && !take_publish_token(last_rx_ms_)) {
          // Over max_publish_rate: back-pressure, not loss. This PUBLISH and
          // what follows wait unread until a tick finds a token again.
          return used;
        }
        used += f.total_size;
        handle(f);
        break;
    }
  }
  return ending() ? data.size() : used;
}

void MqttConnection::handle(const Frame& f) {
  if (phase_ == Phase::AwaitConnect) {
    if (authenticating()) {
      handle_while_authenticating(f);
      return;
    }
    if (f.type != PacketType::Connect) {
      // [MQTT-3.1.0-1] the first packet must be CONNECT.
      log::info("mqtt %s: first packet is not CONNECT; closing", sink_.info().peer_address.c_str());
      phase_ = Phase::Closing;
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
  if (ending()) return;
  log::info("mqtt %s (%s): %s (%s); closing", sink_.info().peer_address.c_str(),
            session_ ? session_->client_id.c_str() : "-", why ? why : "error", reason_name(reason));
  if (phase_ == Phase::Connected && version_ == Version::V5) {
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
  phase_ = Phase::Closing;
  disconnect_with_will_ = true;
  sink_.close_after_flush();
}

void MqttConnection::on_closed() {
  broker().persistence().cancel(this);
  detach_session();
  phase_ = Phase::Closing;
}

void MqttConnection::detach_session() {
  if (!session_) return;
  core::Session* s = session_;
  session_ = nullptr;
  const auto kind = clean_disconnect_ && !disconnect_with_will_ ? core::DetachKind::Normal : core::DetachKind::WithWill;
  broker().detach(s, kind, session_expiry_s_);
}

void MqttConnection::tick(std::int64_t now_ms) {
  // [MQTT-3.1.2-22] one and a half keep-alive periods without a packet. Not
  // while we ourselves stopped reading (answers owed to a slow store, or the
  // publish rate spent): the client's PINGREQs wait unread in the socket.
  if (phase_ == Phase::Connected && keep_alive_s_ != 0 && !read_hold_.any() &&
      now_ms - last_rx_ms_ > std::int64_t(keep_alive_s_) * 1500) {
    fail(Reason::KeepAliveTimeout, "keep alive timeout");
  }
}

void MqttConnection::on_drained() {
  if (session_ && phase_ == Phase::Connected) broker().resume(session_);
}

void MqttConnection::session_taken_over() { close_detached(Reason::SessionTakenOver, "session taken over by a new connection"); }

void MqttConnection::disconnected_by_admin() { close_detached(Reason::AdministrativeAction, "disconnected by an administrator"); }

void MqttConnection::close_detached(Reason reason, const char* why) {
  // The broker has already detached our session; do not touch it again.
  session_ = nullptr;
  if (phase_ != Phase::Connected) return;
  log::info("mqtt %s: %s", sink_.info().peer_address.c_str(), why);
  if (version_ == Version::V5) {
    Disconnect d;
    d.reason = reason;
    scratch().clear();
    encode_disconnect(version_, d, scratch());
    write(scratch());
  }
  phase_ = Phase::Closing;
  sink_.close_after_flush();
}

void MqttConnection::shutdown() {
  if (ending()) return;
  if (phase_ == Phase::Connected && version_ == Version::V5) {
    Disconnect d;
    d.reason = Reason::ServerShuttingDown;
    scratch().clear();
    encode_disconnect(version_, d, scratch());
    write(scratch());
  }
  // A server shutdown is not the client's fault: its session stays, its will does not fire.
  clean_disconnect_ = true;
  phase_ = Phase::Closing;
  sink_.close_after_flush();
}

void MqttConnection::answer(std::string bytes, PacketType kind, bool durable, bool counts_inflight) {
  ClientConnection::answer(std::move(bytes), durable ? broker().persistence().ticket() : 0,
                           static_cast<std::uint8_t>(kind) | (counts_inflight ? kCountsInflight : 0));
}

bool MqttConnection::send_answer(Answer& a, bool failed) {
  const auto kind = static_cast<PacketType>(a.tag & ~kCountsInflight);
  if (!ending()) {
    if (!failed) {
      write(a.bytes);
    } else if (version_ == Version::V5 && (kind == PacketType::Puback || kind == PacketType::Pubrec)) {
      // The store could not keep what this answer promised: never say yes.
      Ack ack;
      ack.type = kind;
      ack.packet_id = std::uint16_t((std::uint8_t(a.bytes[2]) << 8) | std::uint8_t(a.bytes[3]));
      ack.reason = Reason::QuotaExceeded;
      scratch().clear();
      encode_ack(version_, ack, scratch());
      write(scratch());
    } else {
      drop_answers();
      fail(Reason::QuotaExceeded, "store full");
      return false;
    }
  }
  if ((a.tag & kCountsInflight) && incoming_inflight_) --incoming_inflight_;
  return true;
}

}  // namespace junction::mqtt
