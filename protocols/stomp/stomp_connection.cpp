// Framing, dispatch by command, ERROR + close (one place), the ordered queue
// of answers that wait for durable commits, heart-beats and back-pressure.
#include "stomp_connection.h"

#include "log.h"

namespace junction::stomp {

namespace {

// Answers owed (receipts waiting for the store) before we stop reading: a
// client that floods receipted SENDs is slowed down, never buffered without
// bound.
constexpr std::size_t kPauseAnswers = 4096;
constexpr std::size_t kResumeAnswers = kPauseAnswers / 2;
// on_tick runs about once a second: a beat is sent when waiting for the next
// tick would make it late.
constexpr std::int64_t kTickMs = 1000;

}  // namespace

StompConnection::StompConnection(StompProtocol& proto, core::ConnectionSink& sink)
    : proto_(proto), sink_(sink), broker_(proto.broker()), parser_(proto.options().limits, Version::V1_0) {
  last_rx_ms_ = last_tx_ms_ = tick_ms_ = broker_.clock().now_ms();
  publish_rate_ = core::TokenBucket(proto.options().max_publish_rate, last_rx_ms_);
  proto_.add(this);
}

StompConnection::~StompConnection() {
  teardown();
  proto_.remove(this);
}

std::string_view StompConnection::owner() const { return client_id_; }

// ---------------------------------------------------------------- input ----

std::size_t StompConnection::on_bytes(std::span<const std::uint8_t> data) {
  if (state_ != State::AwaitConnect && state_ != State::Connected) return data.size();  // ignore input
  last_rx_ms_ = broker_.clock().now_ms();
  std::size_t used = 0;
  while (used < data.size()) {
    if (state_ != State::AwaitConnect && state_ != State::Connected) return data.size();
    if (read_hold_.any()) return used;
    Status st;
    const ParseResult r = parser_.next(data.subspan(used), frame_, st);
    if (r == ParseResult::NeedMore) return used;
    if (r == ParseResult::Error) {
      fail_parse(st);
      return data.size();
    }
    const std::size_t size = frame_.total_size;
    if (r == ParseResult::Frame && frame_.command == Command::Send && state_ == State::Connected &&
        !publish_rate_.take(last_rx_ms_)) {
      // Over max_publish_rate: back-pressure, not loss. This SEND and what
      // follows wait unread until on_tick finds a token again.
      proto_.count_rate_limited();
      read_hold_.hold(core::ReadHold::PublishRate, sink_);
      return used;
    }
    if (r == ParseResult::Frame) handle(frame_, data.subspan(used, size));
    used += size;  // a Heartbeat only proves the peer is alive
  }
  return state_ == State::AwaitConnect || state_ == State::Connected ? used : data.size();
}

void StompConnection::handle(const StompFrame& f, ByteSpan raw) {
  receipt_ = f.header("receipt");
  if (state_ == State::AwaitConnect) {
    if (f.command == Command::Connect || f.command == Command::Stomp) {
      handle_connect(f);
    } else {
      fail("not connected", "the first frame must be CONNECT or STOMP");
    }
    receipt_ = nullptr;
    return;
  }
  core::Persistence& p = broker_.persistence();
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
  if (state_ == State::Connected && receipt_) send_receipt(*receipt_);
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
  if (state_ != State::AwaitConnect && state_ != State::Connected) return;
  log::info("stomp %s (%s): %.*s%s%.*s; closing", sink_.info().peer_address.c_str(),
            client_id_.empty() ? "-" : client_id_.c_str(), int(message.size()), message.data(),
            detail.empty() ? "" : ": ", int(detail.size()), detail.data());
  std::string bytes = encode_error(message, detail, extra);
  state_ = State::Closing;
  answer(std::move(bytes), 0, true);
}

void StompConnection::fail_parse(const Status& st) {
  receipt_ = nullptr;  // the frame never parsed: its receipt is unknown
  fail(reason_name(st.reason), st.what ? std::string_view(st.what) : std::string_view());
}

// -------------------------------------------------------------- answers ----

void StompConnection::send_receipt(std::string_view receipt_id) {
  core::Persistence& p = broker_.persistence();
  const bool now = answers_.empty() && (wrote_ticket_ == 0 || (p.committed(wrote_ticket_) && !p.failed(wrote_ticket_)));
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

void StompConnection::answer(std::string bytes, std::uint64_t ticket, bool close) {
  core::Persistence& p = broker_.persistence();
  if (answers_.empty() && (ticket == 0 || (p.committed(ticket) && !p.failed(ticket)))) {
    emit(bytes);
    if (close) close_transport();
    return;
  }
  answers_.push_back(PendingAnswer{ticket, std::move(bytes), close});
  if (answers_.size() == 1 && p.committed(ticket)) {
    // Its batch is done but failed: no further commit may come to wake us.
    release_answers();
    return;
  }
  p.wait(this);
  if (answers_.size() >= kPauseAnswers && state_ == State::Connected) read_hold_.hold(core::ReadHold::Answers, sink_);
}

void StompConnection::on_commit() { release_answers(); }

void StompConnection::release_answers() {
  core::Persistence& p = broker_.persistence();
  while (!answers_.empty()) {
    PendingAnswer& a = answers_.front();
    if (a.ticket != 0 && !p.committed(a.ticket)) break;
    if (a.ticket != 0 && p.failed(a.ticket)) {
      // The store could not keep what this receipt promised: never say yes.
      answers_.clear();
      receipt_ = nullptr;
      if (state_ == State::Connected || state_ == State::AwaitConnect) {
        fail("store failure", "the work of a receipted frame could not be stored");
      } else if (state_ == State::Closing) {
        emit(encode_error("store failure", "the work of a receipted frame could not be stored", nullptr));
        close_transport();
      }
      return;
    }
    const bool close = a.close;
    emit(a.bytes);
    answers_.pop_front();
    if (close) {
      answers_.clear();
      close_transport();
      return;
    }
  }
  if (!answers_.empty()) {
    p.wait(this);
  } else {
    answers_.shrink_if_empty();
  }
  if (read_hold_.held(core::ReadHold::Answers) && answers_.size() <= kResumeAnswers && state_ == State::Connected) {
    last_rx_ms_ = broker_.clock().now_ms();  // the silence was ours
    read_hold_.release(core::ReadHold::Answers, sink_);
  }
}

void StompConnection::emit(std::string_view bytes) {
  if (state_ == State::Closed || bytes.empty()) return;
  sink_.write(bytes);
  // No clock read per write (four writes per MESSAGE, a hundred MESSAGEs per
  // fan-out publish): on_tick dates the writes it finds.
  wrote_ = true;
}

void StompConnection::close_transport() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  broker_.persistence().cancel(this);
  sink_.close_after_flush();
}

// ------------------------------------------------------------ lifecycle ----

void StompConnection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  broker_.persistence().cancel(this);
  answers_.clear();
  transactions_.clear();  // a disconnect aborts open transactions
  transaction_bytes_ = 0;
  // Unacknowledged queue messages go back to their queues (and may go to
  // other consumers right away: this connection no longer takes any).
  for (auto& s : subs_) {
    if (s->qsub) broker_.queues().unsubscribe(s->qsub);
    s->qsub = nullptr;
  }
  drain_temp_queues();
  if (session_) {
    core::Session* s = session_;
    session_ = nullptr;
    broker_.detach(s, core::DetachKind::Normal, 0);  // ends the session and its topic subscriptions
  }
  subs_.clear();
  slots_.clear();
}

void StompConnection::on_closed() {
  state_ = State::Closed;
  teardown();
}

void StompConnection::on_tick(std::int64_t now_ms) {
  if (state_ == State::AwaitConnect) {
    if (now_ms - last_rx_ms_ > std::int64_t(proto_.options().connect_timeout_ms)) {
      log::info("stomp %s: no CONNECT within %u ms; closing", sink_.info().peer_address.c_str(),
                proto_.options().connect_timeout_ms);
      state_ = State::Closed;
      sink_.abort();
    }
    return;
  }
  // Whatever was written since the previous tick went out after it: dating
  // it then can only make a heart-beat early, never late.
  if (wrote_) last_tx_ms_ = std::max(last_tx_ms_, tick_ms_);
  wrote_ = false;
  tick_ms_ = now_ms;
  if (state_ != State::Connected) return;
  const bool held = sink_.queued_bytes() >= proto_.options().outbound_limit ||
                    (session_ != nullptr && !session_->pending.empty());
  if (outbound_.tick(sink_.queued_bytes(), held, now_ms, broker_.config().slow_consumer_ms)) {
    broker_.note_slow_consumer(session_, sink_.queued_bytes(), outbound_.stalled_ms(now_ms));
  }
  if (read_hold_.held(core::ReadHold::PublishRate) && publish_rate_.ready(now_ms)) {
    last_rx_ms_ = now_ms;  // the silence was ours
    read_hold_.release(core::ReadHold::PublishRate, sink_);
  }
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
  if (state_ != State::Connected || !session_) return;
  broker_.resume(session_);
  for (std::size_t i = 0; i < subs_.size() && state_ == State::Connected; ++i) {
    if (subs_[i]->qsub) broker_.queues().resume(subs_[i]->qsub);
  }
}

bool StompConnection::can_deliver() const {
  return state_ == State::Connected && sink_.queued_bytes() < proto_.options().outbound_limit;
}

void StompConnection::session_taken_over() {
  // The broker has detached our session already (someone used our client id).
  session_ = nullptr;
  receipt_ = nullptr;
  fail("session taken over", "another connection used this session's client id");
}

void StompConnection::shutdown() {
  if (state_ == State::AwaitConnect) {
    state_ = State::Closed;
    sink_.close_after_flush();
    return;
  }
  receipt_ = nullptr;
  fail("server shutting down");
}

}  // namespace junction::stomp
