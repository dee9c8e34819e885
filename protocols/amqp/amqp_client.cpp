#include "amqp_client.h"

#include <algorithm>
#include <cstdlib>

#include "log.h"

namespace junction::amqp {

namespace {

constexpr std::uint16_t kChannel = 1;

template <class M>
constexpr std::uint32_t id_of() { return (std::uint32_t(M::kClass) << 16) | M::kMethod; }

std::uint32_t id_of(const Method& m) {
  return std::visit([](const auto& x) { return id_of<std::decay_t<decltype(x)>>(); }, m);
}

// The lower non-zero value; 0 only when both are 0 ("no limit").
template <class T>
T negotiate(T ours, T theirs) {
  if (ours == 0) return theirs;
  if (theirs == 0) return ours;
  return std::min(ours, theirs);
}

}  // namespace

AmqpClient::AmqpClient(core::ConnectionSink& sink, const ClientOptions& options, ClientEvents& events,
                       std::int64_t now_ms)
    : sink_(sink), opt_(options), events_(events), parser_(kMinFrameMax), started_ms_(now_ms), now_ms_(now_ms),
      last_recv_ms_(now_ms), last_send_ms_(now_ms) {
  // Until tune, frames up to the spec's minimum are accepted; connection.start
  // with a large properties table is still far below it.
  parser_.set_max_frame_size(std::max<std::uint32_t>(kMinFrameMax, options.frame_max));
  sink_.write(kProtocolHeader);
}

void AmqpClient::send(std::uint16_t channel, const Method& m) {
  out_.clear();
  if (encode_method(channel, m, out_) != Error::None) {
    log::warning("amqp: cannot encode %s (a name over 255 octets)", method_name(m));
    return;
  }
  sink_.write(out_);
  last_send_ms_ = now_ms_;
}

void AmqpClient::fail(const std::string& why) {
  if (state_ == State::Closed) return;
  closed_why_ = why;
  log::warning("amqp: %s; closing the connection", why.c_str());
  if (state_ != State::Closing) send(0, ConnectionClose{505, why.substr(0, 255), 0, 0});
  state_ = State::Closed;
  sink_.close_after_flush();
}

std::size_t AmqpClient::on_bytes(std::span<const std::uint8_t> data) {
  std::size_t used = 0;
  while (state_ != State::Closed) {
    Frame f;
    Error err;
    const ParseResult r = parser_.next(data.subspan(used), f, err);
    if (r == ParseResult::NeedMore) break;
    if (r == ParseResult::Error) {
      fail(std::string("bad frame from the server: ") + error_name(err));
      return data.size();
    }
    used += f.total_size;
    last_recv_ms_ = now_ms_;
    if (!handle_frame(f)) return data.size();
  }
  return state_ == State::Closed ? data.size() : used;
}

bool AmqpClient::handle_frame(const Frame& f) {
  switch (f.type) {
    case FrameType::Heartbeat:
      return true;
    case FrameType::Header:
    case FrameType::Body: {
      if (!content_.active() || f.channel != kChannel) {
        fail("content frame without a method");
        return false;
      }
      Error err;
      const auto step = content_.feed(f, err);
      if (step == ContentAssembler::Step::Error) {
        fail(std::string("bad content from the server: ") + error_name(err));
        return false;
      }
      if (step == ContentAssembler::Step::NeedMore) return true;
      Method& m = content_.method();
      if (auto* d = std::get_if<BasicDeliver>(&m)) {
        IncomingMessage in;
        const std::string& tag = d->consumer_tag;
        in.consumer = tag.rfind("junction-", 0) == 0 ? std::strtoul(tag.c_str() + 9, nullptr, 10) : 0;
        in.delivery_tag = d->delivery_tag;
        in.redelivered = d->redelivered;
        in.exchange = std::move(d->exchange);
        in.routing_key = std::move(d->routing_key);
        in.properties = std::move(content_.header().properties);
        in.body = std::move(content_.body());
        content_.reset();
        events_.amqp_delivery(in);
      } else if (auto* r = std::get_if<BasicReturn>(&m)) {
        const BasicReturn ret = *r;
        content_.reset();
        events_.amqp_returned(ret);
      } else {
        content_.reset();
      }
      return state_ != State::Closed;
    }
    case FrameType::Method: {
      if (content_.active()) {
        fail("method frame inside content");
        return false;
      }
      Method m;
      const Error err = decode_method(f.payload, m);
      if (err != Error::None) {
        fail(std::string("bad method from the server: ") + error_name(err));
        return false;
      }
      return handle_method(f.channel, m);
    }
  }
  return true;
}

bool AmqpClient::handle_method(std::uint16_t channel, Method& m) {
  // Close and flow control may come at any time, on either channel.
  if (auto* c = std::get_if<ConnectionClose>(&m)) {
    closed_why_ = "server closed the connection: " + std::to_string(c->reply_code) + " " + c->reply_text;
    log::warning("amqp: %s (class %u method %u)", closed_why_.c_str(), unsigned(c->class_id), unsigned(c->method_id));
    send(0, ConnectionCloseOk{});
    state_ = State::Closed;
    sink_.close_after_flush();
    return false;
  }
  if (std::holds_alternative<ConnectionCloseOk>(m)) {
    state_ = State::Closed;
    sink_.close_after_flush();
    return false;
  }
  if (auto* c = std::get_if<ChannelClose>(&m)) {
    closed_why_ = "server closed channel " + std::to_string(channel) + ": " + std::to_string(c->reply_code) + " " +
                  c->reply_text;
    log::warning("amqp: %s (class %u method %u)", closed_why_.c_str(), unsigned(c->class_id), unsigned(c->method_id));
    send(channel, ChannelCloseOk{});
    // The bridge needs its one channel: start over on a fresh connection.
    send(0, ConnectionClose{200, "channel closed", 0, 0});
    state_ = State::Closing;
    return true;
  }
  if (auto* b = std::get_if<ConnectionBlocked>(&m)) {
    blocked_ = true;
    log::warning("amqp: upstream blocked publishing: %s", b->reason.c_str());
    events_.amqp_blocked(true, b->reason);
    return state_ != State::Closed;
  }
  if (std::holds_alternative<ConnectionUnblocked>(m)) {
    blocked_ = false;
    log::notice("amqp: upstream unblocked");
    events_.amqp_blocked(false, {});
    return state_ != State::Closed;
  }
  if (state_ == State::Closing) return true;  // waiting for close-ok; drop the rest

  switch (state_) {
    case State::Start: {
      auto* s = std::get_if<ConnectionStart>(&m);
      if (!s || channel != 0) break;
      if (s->mechanisms.find("PLAIN") == std::string::npos) {
        fail("server does not offer PLAIN authentication (offers: " + s->mechanisms + ")");
        return false;
      }
      if (const FieldValue* p = find_field(s->server_properties, "product")) server_product_ = p->to_text();
      ConnectionStartOk ok;
      FieldTable caps = {Field{"publisher_confirms", FieldValue::boolean(true)},
                         Field{"authentication_failure_close", FieldValue::boolean(true)},
                         Field{"connection.blocked", FieldValue::boolean(true)},
                         Field{"consumer_cancel_notify", FieldValue::boolean(false)}};
      FieldValue capv;
      capv.type = 'F';
      capv.table = std::move(caps);
      ok.client_properties = {Field{"product", FieldValue::string("Junction")},
                              Field{"capabilities", std::move(capv)}};
      if (!opt_.connection_name.empty())
        ok.client_properties.push_back(Field{"connection_name", FieldValue::string(opt_.connection_name)});
      ok.mechanism = "PLAIN";
      ok.response.push_back('\0');
      ok.response += opt_.user;
      ok.response.push_back('\0');
      ok.response += opt_.password;
      ok.locale = "en_US";
      send(0, ok);
      state_ = State::Tune;
      return true;
    }
    case State::Tune: {
      auto* t = std::get_if<ConnectionTune>(&m);
      if (!t || channel != 0) break;
      channel_max_ = negotiate<std::uint16_t>(0, t->channel_max);
      frame_max_ = std::max(kMinFrameMax, negotiate(opt_.frame_max, t->frame_max));
      heartbeat_s_ = negotiate(opt_.heartbeat_s, t->heartbeat);
      parser_.set_max_frame_size(frame_max_);
      send(0, ConnectionTuneOk{channel_max_, frame_max_, heartbeat_s_});
      send(0, ConnectionOpen{opt_.vhost, "", false});
      state_ = State::Open;
      return true;
    }
    case State::Open:
      if (!std::holds_alternative<ConnectionOpenOk>(m) || channel != 0) break;
      send(kChannel, ChannelOpen{});
      state_ = State::Channel;
      return true;
    case State::Channel:
      if (!std::holds_alternative<ChannelOpenOk>(m) || channel != kChannel) break;
      begin_setup();
      return true;
    case State::Setup:
      if (channel != kChannel) break;
      return handle_setup_reply(m);
    case State::Ready:
      if (channel != kChannel) break;
      if (auto* a = std::get_if<BasicAck>(&m)) {
        events_.amqp_confirm(a->delivery_tag, true, a->multiple);
        return state_ != State::Closed;
      }
      if (auto* n = std::get_if<BasicNack>(&m)) {
        events_.amqp_confirm(n->delivery_tag, false, n->multiple);
        return state_ != State::Closed;
      }
      if (has_content(m)) {
        content_.start(std::move(m), opt_.max_body);
        return true;
      }
      if (std::holds_alternative<BasicCancel>(m)) {
        // The queue was deleted under us: reconnecting declares it again.
        fail("server cancelled a consumer");
        return false;
      }
      if (std::holds_alternative<BasicConsumeOk>(m) || std::holds_alternative<BasicQosOk>(m)) return true;
      break;
    default:
      break;
  }
  fail(std::string("unexpected ") + method_name(m) + " on channel " + std::to_string(channel));
  return false;
}

void AmqpClient::begin_setup() {
  state_ = State::Setup;
  // Pipelined: the server answers in order on the channel; any refusal is a
  // channel.close, handled above.
  for (const ExchangeDecl& x : opt_.exchanges) {
    ExchangeDeclare d;
    d.exchange = x.name;
    d.type = x.type;
    d.durable = x.durable;
    send(kChannel, d);
    expected_.push_back(id_of<ExchangeDeclareOk>());
  }
  for (const QueueDecl& q : opt_.queues) {
    QueueDeclare d;
    d.queue = q.name;
    d.durable = q.durable;
    send(kChannel, d);
    expected_.push_back(id_of<QueueDeclareOk>());
  }
  for (const BindingDecl& b : opt_.bindings) {
    QueueBind d;
    d.queue = b.queue;
    d.exchange = b.exchange;
    d.routing_key = b.binding_key;
    send(kChannel, d);
    expected_.push_back(id_of<QueueBindOk>());
  }
  send(kChannel, BasicQos{0, opt_.prefetch, false});
  expected_.push_back(id_of<BasicQosOk>());
  send(kChannel, ConfirmSelect{false});
  expected_.push_back(id_of<ConfirmSelectOk>());
  for (std::size_t i = 0; i < opt_.consume.size(); ++i) {
    BasicConsume c;
    c.queue = opt_.consume[i];
    c.consumer_tag = "junction-" + std::to_string(i);
    send(kChannel, c);
    expected_.push_back(id_of<BasicConsumeOk>());
  }
}

bool AmqpClient::handle_setup_reply(const Method& m) {
  if (expected_.empty() || id_of(m) != expected_.front()) {
    fail(std::string("unexpected ") + method_name(m) + " while setting up the channel");
    return false;
  }
  expected_.pop_front();
  if (!expected_.empty()) return true;
  state_ = State::Ready;
  log::notice("amqp: connected to %s (vhost %s, frame-max %u, heartbeat %u s)",
              server_product_.empty() ? "server" : server_product_.c_str(), opt_.vhost.c_str(), unsigned(frame_max_),
              unsigned(heartbeat_s_));
  events_.amqp_ready();
  return state_ != State::Closed;
}

std::uint64_t AmqpClient::publish(const std::string& exchange, const std::string& routing_key,
                                  const BasicProperties& props, std::string_view body, bool mandatory) {
  if (state_ != State::Ready) return 0;
  out_.clear();
  BasicPublish p;
  p.exchange = exchange;
  p.routing_key = routing_key;
  p.mandatory = mandatory;
  ContentHeader h;
  h.body_size = body.size();
  h.properties = props;
  if (encode_method(kChannel, p, out_) != Error::None || encode_content_header(kChannel, h, out_) != Error::None) {
    return 0;
  }
  encode_body(kChannel, body, frame_max_, out_);
  sink_.write(out_);
  last_send_ms_ = now_ms_;
  return next_seq_++;
}

void AmqpClient::ack(std::uint64_t delivery_tag, bool multiple) {
  if (state_ != State::Ready) return;
  send(kChannel, BasicAck{delivery_tag, multiple});
}

void AmqpClient::nack(std::uint64_t delivery_tag, bool requeue) {
  if (state_ != State::Ready) return;
  send(kChannel, BasicNack{delivery_tag, false, requeue});
}

void AmqpClient::close(const std::string& reason) {
  if (state_ == State::Closed || state_ == State::Closing) return;
  closed_why_ = reason;
  send(0, ConnectionClose{200, reason.substr(0, 255), 0, 0});
  state_ = State::Closing;
}

void AmqpClient::on_tick(std::int64_t now_ms) {
  now_ms_ = now_ms;
  if (state_ == State::Closed) return;
  if (state_ != State::Ready && now_ms - started_ms_ > opt_.handshake_timeout_ms) {
    closed_why_ = "handshake timed out";
    log::warning("amqp: handshake with the server timed out");
    state_ = State::Closed;
    sink_.abort();
    return;
  }
  if (heartbeat_s_ == 0) return;
  const std::int64_t interval = std::int64_t(heartbeat_s_) * 1000;
  if (now_ms - last_recv_ms_ > 2 * interval) {
    closed_why_ = "missed heartbeats from the server";
    log::warning("amqp: no frame from the server for %lld ms; dropping the connection",
                 static_cast<long long>(now_ms - last_recv_ms_));
    state_ = State::Closed;
    sink_.abort();
    return;
  }
  if (now_ms - last_send_ms_ >= interval / 2) {
    out_.clear();
    encode_heartbeat(out_);
    sink_.write(out_);
    last_send_ms_ = now_ms;
  }
}

void AmqpClient::on_closed() {
  const std::string why = closed_why_.empty() ? std::string("connection lost") : closed_why_;
  state_ = State::Closed;
  events_.amqp_closed(why);
}

}  // namespace junction::amqp
