// junction::bench StompClient: handshake, frame dispatch, SEND template.
#include "stomp_client.h"

#include <charconv>
#include <vector>

namespace junction::bench {

using stomp::Command;
using stomp::Header;

namespace {

constexpr std::string_view kSubReceipt = "sub-0";
constexpr std::string_view kReceiptHeader = "receipt:";
constexpr std::size_t kReceiptDigits = 5;

std::string_view header_or(const stomp::StompFrame& f, std::string_view name, std::string_view fallback = {}) {
  const std::string_view* v = f.header(name);
  return v ? *v : fallback;
}

}  // namespace

StompClient::StompClient(Io& io, ClientEvents& events, std::uint32_t index) : Client(io, events, index) {}

void StompClient::on_connected(int status) {
  if (status < 0) {
    failure("connect: " + uv_error(status));
    return;
  }
  // CONNECT headers are never escaped; 1.0 framing until CONNECTED.
  const stomp::Status st = stomp::encode_frame(Command::Connect,
                                        {Header{"accept-version", "1.0,1.1,1.2"}, Header{"host", "localhost"},
                                         Header{"heart-beat", "0,0"}},
                                        {}, stomp::Version::V1_0, stream_.out());
  if (!st.ok()) failure("cannot encode CONNECT");
}

void StompClient::subscribe(std::string_view destination, int qos) {
  client_acks_ = qos > 0;
  std::vector<Header> headers{Header{"id", "0"}, Header{"destination", destination},
                              Header{"ack", client_acks_ ? "client-individual" : "auto"},
                              Header{"receipt", kSubReceipt}};
  // A queue consumer asks for the window an MQTT $queue/ consumer of the
  // same run gets (the broker's max_inflight, 1000 by default), so the
  // STOMP and MQTT queue rows compare the protocols, not two windows
  // (Junction's STOMP default prefetch-count is 100).
  if (client_acks_ && destination.starts_with("/queue/")) headers.push_back(Header{"prefetch-count", "1000"});
  const stomp::Status st = stomp::encode_frame(Command::Subscribe, std::span<const Header>(headers), {}, version_,
                                               stream_.out());
  if (!st.ok()) failure("cannot encode SUBSCRIBE for " + std::string(destination));
}

void StompClient::prepare_publish(std::string_view destination, int qos, std::uint32_t payload_size) {
  const std::string zeros(payload_size, '\0');
  const std::string receipt(kReceiptDigits, '0');
  send_tmpl_.clear();
  const char* q = qos > 0 ? "1" : "0";
  stomp::Status st;
  if (qos > 0) {
    st = stomp::encode_frame(Command::Send,
                             {Header{"destination", destination}, Header{"qos", q}, Header{"receipt", receipt}},
                             stomp::bytes_of(zeros), version_, send_tmpl_, true);
  } else {
    st = stomp::encode_frame(Command::Send, {Header{"destination", destination}, Header{"qos", q}},
                             stomp::bytes_of(zeros), version_, send_tmpl_, true);
  }
  if (!st.ok()) {
    failure("cannot encode SEND to " + std::string(destination));
    return;
  }
  receipt_off_ = std::string::npos;
  if (qos > 0) {
    const std::size_t at = send_tmpl_.find(std::string(kReceiptHeader) + receipt + "\n");
    receipt_off_ = at == std::string::npos ? at : at + kReceiptHeader.size();
  }
  payload_off_ = send_tmpl_.size() - 1 - payload_size;  // body, then the NUL
  payload_size_ = payload_size;
}

void StompClient::append_publish(std::uint16_t id, const Stamp& stamp) {
  std::string& out = stream_.out();
  const std::size_t at = out.size();
  out.append(send_tmpl_);
  char* p = out.data() + at;
  if (receipt_off_ != std::string::npos) {
    unsigned v = id;
    for (std::size_t i = kReceiptDigits; i-- > 0; v /= 10) p[receipt_off_ + i] = static_cast<char>('0' + v % 10);
  }
  if (payload_size_ >= kStampSize) write_stamp(reinterpret_cast<std::uint8_t*>(p + payload_off_), stamp);
}

void StompClient::ack(const stomp::StompFrame& f) {
  stomp::Status st;
  if (version_ == stomp::Version::V1_2) {
    st = stomp::encode_frame(Command::Ack, {Header{"id", header_or(f, "ack", header_or(f, "message-id"))}}, {},
                             version_, stream_.out());
  } else {
    st = stomp::encode_frame(Command::Ack,
                             {Header{"subscription", header_or(f, "subscription", "0")},
                              Header{"message-id", header_or(f, "message-id")}},
                             {}, version_, stream_.out());
  }
  if (!st.ok()) failure("cannot encode ACK");
}

void StompClient::disconnect() {
  if (closing_) return;
  closing_ = true;
  if (stream_.open()) {
    stomp::encode_frame(Command::Disconnect, std::initializer_list<Header>{}, {}, version_, stream_.out());
    stream_.close_after_flush();
  } else {
    stream_.close();
  }
}

std::size_t StompClient::on_data(Bytes data) {
  std::size_t used = 0;
  stomp::Status st;
  while (used < data.size() && !failed_) {
    const stomp::ParseResult r = parser_.next(data.subspan(used), frame_, st);
    if (r == stomp::ParseResult::NeedMore) break;
    if (r == stomp::ParseResult::Error) {
      failure(std::string("malformed frame from the broker: ") + stomp::reason_name(st.reason));
      break;
    }
    used += frame_.total_size;
    if (r == stomp::ParseResult::Heartbeat) continue;
    if (!handle(frame_)) break;
  }
  return used;
}

bool StompClient::handle(const stomp::StompFrame& f) {
  switch (f.command) {
    case Command::Connected: {
      const std::string_view v = header_or(f, "version", "1.0");
      version_ = v == "1.2" ? stomp::Version::V1_2 : v == "1.1" ? stomp::Version::V1_1 : stomp::Version::V1_0;
      parser_.set_version(version_);
      events_.on_ready(*this);
      return true;
    }
    case Command::Receipt: {
      const std::string_view id = header_or(f, "receipt-id");
      if (id == kSubReceipt) {
        events_.on_subscribed(*this);
        return true;
      }
      unsigned v = 0;
      const auto r = std::from_chars(id.data(), id.data() + id.size(), v);
      if (r.ec != std::errc() || v == 0 || v > 65535) {
        failure("RECEIPT for an unknown receipt id '" + std::string(id) + "'");
        return false;
      }
      events_.on_publish_ack(*this, static_cast<std::uint16_t>(v), true, true, true);
      return true;
    }
    case Command::Message:
      if (client_acks_) ack(f);
      events_.on_message(*this, f.body);
      return true;
    case Command::Error: {
      std::string why = "broker sent ERROR: " + std::string(header_or(f, "message", "(no message)"));
      if (!f.body.empty()) why += " - " + std::string(f.body_view().substr(0, 200));
      failure(why);
      return false;
    }
    default:
      failure("unexpected " + std::string(stomp::command_name(f.command)) + " frame from the broker");
      return false;
  }
}

}  // namespace junction::bench
