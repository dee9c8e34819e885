// ACK / NACK (1.2 "ACK", "NACK"; 1.0 and 1.1 name the message by
// message-id) and transactions (BEGIN / COMMIT / ABORT).
//
// Ack ids are "<subscription number>-<n>": n is the queue's delivery tag for
// queue subscriptions and the message id for topic subscriptions. MESSAGE
// carries it as message-id (all versions) and ack (1.2, client modes).
// An ACK of an id that is no longer outstanding (already covered by a
// cumulative ACK, its subscription gone) is ignored, as are ACKs of topic
// messages (delivered at QoS 0) and of auto-mode subscriptions.
//
// Transactions keep the raw bytes of their SEND / ACK / NACK frames and
// replay them at COMMIT, all within one loop iteration, so their store
// writes land in one batch (one commit); a RECEIPT on COMMIT waits for it.
#include <charconv>

#include "log.h"
#include "stomp_connection.h"

namespace junction::stomp {

namespace {

constexpr std::size_t kMaxTransactions = 64;  // open at once, per connection

bool parse_ack_id(std::string_view id, std::uint32_t& num, std::uint64_t& n) {
  const std::size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) return false;
  const char* b = id.data();
  const char* e = id.data() + id.size();
  auto r1 = std::from_chars(b, b + dash, num);
  if (r1.ec != std::errc() || r1.ptr != b + dash) return false;
  auto r2 = std::from_chars(b + dash + 1, e, n);
  return r2.ec == std::errc() && r2.ptr == e;
}

}  // namespace

void StompConnection::handle_ack(const StompFrame& f, ByteSpan raw, bool nack, bool from_tx) {
  if (nack && version_ == Version::V1_0) {
    fail("NACK is not part of STOMP 1.0");
    return;
  }
  // 1.2 names the delivery by `id` (the MESSAGE's ack header); 1.0 and 1.1
  // by message-id. Clients that mix them up are accepted.
  const std::string_view* id = version_ == Version::V1_2 ? f.header("id") : f.header("message-id");
  if (!id) id = version_ == Version::V1_2 ? f.header("message-id") : f.header("id");
  if (!id) {
    fail(version_ == Version::V1_2 ? "missing id header" : "missing message-id header",
         nack ? "NACK needs the message's ack id" : "ACK needs the message's ack id");
    return;
  }
  std::uint32_t num = 0;
  std::uint64_t n = 0;
  if (!parse_ack_id(*id, num, n)) {
    fail("unknown message id", *id);
    return;
  }
  if (!from_tx) {
    if (const std::string_view* tx = f.header("transaction")) {
      buffer_in_transaction(*tx, raw);
      return;
    }
  }
  Subscription* s = find_subscription(num);
  if (s == nullptr || s->kind == DestKind::Topic || s->ack == AckKind::Auto || s->qsub == nullptr) return;
  bool known;
  if (nack) {
    // RabbitMQ's `requeue: false` dead-letters instead of redelivering.
    const std::string_view* rq = f.header("requeue");
    known = broker().queues().nack(s->qsub, n, !(rq && *rq == "false"));
  } else {
    known = broker().queues().ack(s->qsub, n);
  }
  if (!known) log::debug("stomp %s: %s of %.*s: not outstanding", client_id_.c_str(), nack ? "NACK" : "ACK",
                         int(id->size()), id->data());
}

StompConnection::Transaction* StompConnection::find_transaction(std::string_view id) {
  for (Transaction& t : transactions_)
    if (t.id == id) return &t;
  return nullptr;
}

bool StompConnection::buffer_in_transaction(std::string_view tx, ByteSpan raw) {
  Transaction* t = find_transaction(tx);
  if (t == nullptr) {
    fail("unknown transaction", tx);
    return false;
  }
  if (transaction_bytes_ + raw.size() > proto().options().max_transaction_bytes) {
    fail("transaction too large", tx);
    return false;
  }
  transaction_bytes_ += raw.size();
  t->frames.emplace_back(reinterpret_cast<const char*>(raw.data()), raw.size());
  // A RECEIPT says the work is done, and a transaction's work is done only
  // by its COMMIT: the frame's receipt (kept in the buffered frame) is
  // answered after the commit's store commit, and never for ABORT.
  receipt_ = nullptr;
  return true;
}

void StompConnection::handle_begin(const StompFrame& f) {
  const std::string_view* tx = f.header("transaction");
  if (!tx) {
    fail("missing transaction header", "BEGIN needs a transaction id");
    return;
  }
  if (find_transaction(*tx)) {
    fail("transaction already started", *tx);
    return;
  }
  if (transactions_.size() >= kMaxTransactions) {
    fail("too many open transactions");
    return;
  }
  transactions_.push_back(Transaction{std::string(*tx), {}});
}

void StompConnection::handle_commit(const StompFrame& f) {
  const std::string_view* txh = f.header("transaction");
  if (!txh) {
    fail("missing transaction header", "COMMIT needs a transaction id");
    return;
  }
  Transaction* t = find_transaction(*txh);
  if (t == nullptr) {
    fail("unknown transaction", *txh);
    return;
  }
  std::vector<std::string> frames = std::move(t->frames);
  transactions_.erase(transactions_.begin() + (t - transactions_.data()));
  for (const std::string& fr : frames) transaction_bytes_ -= fr.size();

  // Replay with a parser of our own: `f` still points into the read buffer.
  // While a frame replays, receipt_ is its own receipt (an ERROR names it).
  const std::string_view* commit_receipt = receipt_;
  core::Persistence& p = broker().persistence();
  const std::size_t ops_before = p.pending_ops();
  std::vector<std::string> receipts;  // copies: an unescaped header lives in the parser
  StompFrameParser parser(proto().options().limits, version_);
  StompFrame replay;
  for (const std::string& fr : frames) {
    if (phase_ != Phase::Connected) return;  // a replayed frame failed: the rest is not applied
    Status st;
    const ByteSpan bytes = bytes_of(fr);
    if (parser.next(bytes, replay, st) != ParseResult::Frame) {
      fail("internal error", "a buffered transaction frame did not parse again");
      return;
    }
    receipt_ = replay.header("receipt");
    switch (replay.command) {
      case Command::Send: handle_send(replay, bytes, true); break;
      case Command::Ack: handle_ack(replay, bytes, false, true); break;
      case Command::Nack: handle_ack(replay, bytes, true, true); break;
      default: break;
    }
    if (receipt_) receipts.emplace_back(*receipt_);
  }
  receipt_ = commit_receipt;
  if (phase_ != Phase::Connected) return;
  // The frames' receipts, in order, wait for the commit that holds all of
  // their work; the COMMIT's own receipt follows them.
  if (p.pending_ops() != ops_before) wrote_ticket_ = p.ticket();
  for (const std::string& r : receipts) send_receipt(r);
}

void StompConnection::handle_abort(const StompFrame& f) {
  const std::string_view* tx = f.header("transaction");
  if (!tx) {
    fail("missing transaction header", "ABORT needs a transaction id");
    return;
  }
  Transaction* t = find_transaction(*tx);
  if (t == nullptr) {
    fail("unknown transaction", *tx);
    return;
  }
  for (const std::string& fr : t->frames) transaction_bytes_ -= fr.size();
  transactions_.erase(transactions_.begin() + (t - transactions_.data()));
}

}  // namespace junction::stomp
