// Framing, dispatch by command, ERROR + close (one place), the ordered queue
// of answers that wait for durable commits, heart-beats and back-pressure.
#include "stomp_connection.h"

#include "log.h"

namespace junction::stomp {

namespace {

// on_tick runs about once a second: a beat is sent when waiting for the next
// tick would make it late.
constexpr std::int64_t kTickMs = 1000;

}  // namespace

StompConnection::StompConnection(StompProtocol& proto, core::ConnectionSink& sink)
    : ClientConnection(proto, sink), parser_(proto.options().limits, Version::V1_0) {
  last_tx_ms_ = tick_ms_ = last_rx_ms_;
}

StompConnection::~StompConnection() { teardown(); }

std::string_view StompConnection::owner() const { return client_id_; }

// ---------------------------------------------------------------- input ----

std::size_t StompConnection::on_bytes(std::span<const std::uint8_t> data) {
  if (phase_ != Phase::AwaitConnect && phase_ != Phase::Connected) return data.size();  // ignore input
  last_rx_ms_ = broker().clock().now_ms();
  std::size_t used = 0;
  while (used < data.size()) {
    if (phase_ != Phase::AwaitConnect && phase_ != Phase::Connected) return data.size();
    if (read_hold_.any()) return used;
    Status st;
    const ParseResult r = parser_.next(data.subspan(used), frame_, st);
    if (r == ParseResult::NeedMore) return used;
    if (r == ParseResult::Error) {
      fail_parse(st);
      return data.size();
    }
    const std::size_t size = frame_.total_size;
    if (r == ParseResult::Frame && frame_.command == Command::Send && phase_ == Phase::Connected &&
        !take_publish_token(last_rx_ms_)) {
      // Over max_publish_rate: back-pressure, not loss. This SEND and what
      // follows wait unread until a tick finds a token again.
      return used;
    }
    if (r == ParseResult::Frame) handle(frame_, data.subspan(used, size));
    used += size;  // a Heartbeat only proves the peer is alive
  }
  return phase_ == Phase::AwaitConnect || phase_ == Phase::Connected ? used : data.size();
}

void StompConnection::handle(const StompFrame& f, ByteSpan raw) {
  receipt_ = f.header("receipt");
  if (phase_ == Phase::AwaitConnect) {
    if (f.command == Command::Connect || f.command == Command::Stomp) {
      handle_connect(f);
    } else {
      fail("not connected", "the first frame must be CONNECT or STOMP");
    }
    receipt_ = nullptr;
    return;
  }
  core::Persistence& p = broker().persistence();
  const std::size_t ops_before = p.pending_ops();
  switch (f.command) {
    case Command::Send: handle_send(f, raw, false); break;
    case Command::Subscribe: handle_subscribe(f); break;
    case Command::Unsubscribe: handle_unsubscribe(f); break;
    case Command::Ack: handle_ack(f, raw, false, false); break;
    case Command::Nack: handle_ack(f, raw, true, false); break;
    case Command::Begin: handle_begin(f); break;
    case Command::Commit: handle_commit(f); break;
    case Command::Abort: handle_abort(f); break;
    case Command::Disconnect:
      handle_disconnect(f);
      receipt_ = nullptr;
      return;
    case Command::Connect:
    case Command::Stomp: fail("already connected", "a second CONNECT on one connection"); break;
    default: fail("not a client frame", command_name(f.command)); break;
  }
  // Whatever this frame wrote must be committed before a later RECEIPT.
  if (p.pending_ops() != ops_before) wrote_ticket_ = p.ticket();
  if (phase_ == Phase::Connected && receipt_) send_receipt(*receipt_);
  receipt_ = nullptr;
}

// --------------------------------------------------------------- errors ----

std::string StompConnection::encode_error(std::string_view message, std::string_view detail, const Header* extra) {
  Header h[4];
  std::size_t n = 0;
  h[n++] = Header{"message", message};
  if (receipt_) h[n++] = Header{"receipt-id", *receipt_};
  if (extra) h[n++] = *extra;
  h[n++] = Header{"content-type", "text/plain"};
  std::string body;
  body.reserve(message.size() + detail.size() + 4);
  body.append(message);
  if (!detail.empty()) body.append(": ").append(detail);
  body.push_back('\n');
  std::string out;
  Status st = encode_frame(Command::Error, std::span<const Header>(h, n), bytes_of(body), version_, out, true);
  if (!st.ok()) {
    // Only text that came from the client can be unencodable: leave it out.
    out.clear();
    const Header plain[1] = {Header{"message", message}};
    st = encode_frame(Command::Error, std::span<const Header>(plain, 1), bytes_of(message), version_, out, true);
    if (!st.ok()) encode_frame(Command::Error, {Header{"message", "error"}}, {}, version_, out, true);
  }
  return out;
}

void StompConnection::fail(std::string_view message, std::string_view detail, const Header* extra) {
  if (phase_ != Phase::AwaitConnect && phase_ != Phase::Connected) return;
  log::info("stomp %s (%s): %.*s%s%.*s; closing", sink_.info().peer_address.c_str(),
            client_id_.empty() ? "-" : client_id_.c_str(), int(message.size()), message.data(),
            detail.empty() ? "" : ": ", int(detail.size()), detail.data());
  std::string bytes = encode_error(message, detail, extra);
  phase_ = Phase::Closing;
  answer(std::move(bytes), 0, true);
}

void StompConnection::fail_parse(const Status& st) {
  receipt_ = nullptr;  // the frame never parsed: its receipt is unknown
  fail(reason_name(st.reason), st.what ? std::string_view(st.what) : std::string_view());
}

// -------------------------------------------------------------- answers ----

void StompConnection::send_receipt(std::string_view receipt_id) {
  const bool now = can_answer_now(wrote_ticket_);
  // Common case (nothing owed, nothing to wait for): no allocation.
  std::string queued;
  std::string& out = now ? scratch_ : queued;
  out.clear();
  if (!encode_frame(Command::Receipt, {Header{"receipt-id", receipt_id}}, {}, version_, out).ok()) {
    fail("receipt id cannot be encoded");
    return;
  }
  if (now) {
    emit(out);
  } else {
    answer(std::move(queued), wrote_ticket_, false);
  }
}

bool StompConnection::send_answer(Answer& a, bool failed) {
  if (failed) {
    // The store could not keep what this receipt promised: never say yes.
    drop_answers();
    receipt_ = nullptr;
    if (phase_ == Phase::Connected || phase_ == Phase::AwaitConnect) {
      fail("store failure", "the work of a receipted frame could not be stored");
    } else if (phase_ == Phase::Closing) {
      emit(encode_error("store failure", "the work of a receipted frame could not be stored", nullptr));
      close_transport();
    }
    return false;
  }
  emit(a.bytes);
  if (a.tag & kCloseAfter) {
    drop_answers();
    close_transport();
    return false;
  }
  return true;
}

void StompConnection::emit(std::string_view bytes) {
  if (phase_ == Phase::Closed || bytes.empty()) return;
  sink_.write(bytes);
  // No clock read per write (four writes per MESSAGE, a hundred MESSAGEs per
  // fan-out publish): on_tick dates the writes it finds.
  wrote_ = true;
}

void StompConnection::close_transport() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  broker().persistence().cancel(this);
  sink_.close_after_flush();
}

// ------------------------------------------------------------ lifecycle ----

void StompConnection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  broker().persistence().cancel(this);
  drop_answers();
  transactions_.clear();  // a disconnect aborts open transactions
  transaction_bytes_ = 0;
  // Unacknowledged queue messages go back to their queues (and may go to
  // other consumers right away: this connection no longer takes any).
  for (auto& s : subs_) {
    if (s->qsub) broker().queues().unsubscribe(s->qsub);
    s->qsub = nullptr;
  }
  drain_temp_queues();
  if (session_) {
    core::Session* s = session_;
    session_ = nullptr;
    // Ends the session and its topic subscriptions.
    broker().detach(s, said_goodbye_ ? core::DetachKind::Normal : core::DetachKind::WithWill, 0);
  }
  subs_.clear();
  slots_.clear();
}

void StompConnection::on_closed() {
  phase_ = Phase::Closed;
  teardown();
}

void StompConnection::tick(std::int64_t now_ms) {
  // Whatever was written since the previous tick went out after it: dating
  // it then can only make a heart-beat early, never late.
  if (wrote_) last_tx_ms_ = std::max(last_tx_ms_, tick_ms_);
  wrote_ = false;
  tick_ms_ = now_ms;
  if (phase_ != Phase::Connected) return;
  // 1.1 "Heart-beating": allow twice the agreed interval before giving up.
  // While reading is paused (receipts owed) the client's beats wait unread.
  if (expect_ms_ != 0 && !read_hold_.any() && now_ms - last_rx_ms_ > 2 * std::int64_t(expect_ms_)) {
    fail("heart-beat timeout", "no frame or heart-beat from the client in twice the agreed interval");
    return;
  }
  if (send_ms_ != 0 && now_ms - last_tx_ms_ + kTickMs > std::int64_t(send_ms_)) {
    std::string beat;
    encode_heartbeat(beat);
    emit(beat);
  }
}

void StompConnection::on_drained() {
  if (phase_ != Phase::Connected || !session_) return;
  broker().resume(session_);
  for (std::size_t i = 0; i < subs_.size() && phase_ == Phase::Connected; ++i) {
    if (subs_[i]->qsub) broker().queues().resume(subs_[i]->qsub);
  }
}

void StompConnection::session_taken_over() {
  // The broker has detached our session already (someone used our client id).
  session_ = nullptr;
  receipt_ = nullptr;
  fail("session taken over", "another connection used this session's client id");
}

void StompConnection::disconnected_by_admin() {
  session_ = nullptr;
  receipt_ = nullptr;
  fail("disconnected by an administrator");
}

void StompConnection::shutdown() {
  if (phase_ == Phase::AwaitConnect) {
    phase_ = Phase::Closed;
    sink_.close_after_flush();
    return;
  }
  receipt_ = nullptr;
  fail("server shutting down");
}

}  // namespace junction::stomp
