#include "xmpp_component.h"

#include "log.h"
#include "xmpp_bridge.h"
#include "xmpp_handshake.h"

namespace junction::xmpp {

namespace {

constexpr std::string_view kNsStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams";

// What each refusal means for the operator (XEP-0114 §3, RFC 6120 §4.9.3).
const char* explain(std::string_view condition) {
  if (condition == "not-authorized") return "the server rejected the handshake: wrong secret";
  if (condition == "host-unknown") return "the server has no external component with this domain";
  if (condition == "conflict") return "another component is already connected with this domain";
  if (condition == "invalid-from") return "the server refused a stanza's from address";
  if (condition == "system-shutdown") return "the server is shutting down";
  return "the server closed the stream";
}

}  // namespace

XmppComponent::XmppComponent(XmppBridge& bridge, core::ConnectionSink& sink)
    : bridge_(&bridge), sink_(sink), parser_(bridge.options().limits) {
  std::string open = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                     "xmlns:stream='http://etherx.jabber.org/streams' to='";
  escape_attr(bridge.options().component, open);
  open.append("'>");
  write(open);
  log::info("xmpp: connected to %s:%u, opening the stream as %s", sink_.info().peer_address.c_str(),
            unsigned(sink_.info().peer_port), bridge.options().component.c_str());
}

XmppComponent::~XmppComponent() {
  if (bridge_ && state_ != State::Closed) bridge_->on_down(this);
}

void XmppComponent::write(std::string_view bytes) {
  if (state_ == State::Closed) return;
  sink_.write(bytes);
  last_tx_ms_ = now_ms_;
}

std::size_t XmppComponent::on_bytes(std::span<const std::uint8_t> data) {
  if (state_ == State::Closing || state_ == State::Closed) return data.size();
  events_.clear();
  const StreamStatus st = parser_.feed(data, events_);
  for (StreamEvent& ev : events_) {
    if (state_ == State::Closing || state_ == State::Closed) break;
    handle(ev);
  }
  events_.clear();
  if (!st.ok() && state_ != State::Closing && state_ != State::Closed) {
    log::warning("xmpp: bad XML from the server (%s: %s)", stream_error_condition(st.kind), st.what.c_str());
    fail(stream_error_condition(st.kind), st.what);
  }
  return data.size();
}

void XmppComponent::handle(StreamEvent& ev) {
  switch (ev.kind) {
    case EventKind::StreamOpen: {
      if (state_ != State::AwaitStream) return;
      const std::string* id = ev.element.attr("id");
      if (id == nullptr || id->empty()) {
        log::warning("xmpp: the server's stream header has no id; cannot hand-shake");
        fail("invalid-xml", "stream header without id");
        return;
      }
      stream_id_ = *id;
      std::string hs = "<handshake>" + handshake_digest(stream_id_, bridge_->options().secret) + "</handshake>";
      write(hs);
      state_ = State::AwaitHandshake;
      return;
    }
    case EventKind::StreamClose:
      log::warning("xmpp: the server closed the stream");
      close_stream();
      return;
    case EventKind::Stanza: break;
  }
  const Element& s = ev.element;
  if (s.ns == kNsStream && s.name == "error") {
    server_error(s);
    return;
  }
  if (state_ == State::AwaitHandshake) {
    if (s.name == "handshake" && s.ns == kNsComponent) {
      state_ = State::Ready;
      log::notice("xmpp: component %s online at %s:%u", bridge_->options().component.c_str(),
                  sink_.info().peer_address.c_str(), unsigned(sink_.info().peer_port));
      bridge_->on_ready(this);
    }
    return;  // nothing else is routed to an unauthenticated component
  }
  if (state_ == State::Ready && bridge_) bridge_->on_stanza(s);
}

void XmppComponent::server_error(const Element& error) {
  std::string condition = "undefined-condition", text;
  for (const Element& c : error.children) {
    if (c.ns != kNsStreamErrors) continue;
    if (c.name == "text") {
      text = c.text;
    } else {
      condition = c.name;
    }
  }
  log::error("xmpp: component %s: stream error <%s/>%s%s%s: %s", bridge_->options().component.c_str(),
             condition.c_str(), text.empty() ? "" : " \"", text.c_str(), text.empty() ? "" : "\"",
             explain(condition));
  close_stream();
}

void XmppComponent::fail(std::string_view condition, std::string_view text) {
  std::string out = "<stream:error><";
  out.append(condition).append(" xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  if (!text.empty()) {
    out.append("<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>");
    escape_text(text, out);
    out.append("</text>");
  }
  out.append("</stream:error>");
  write(out);
  close_stream();
}

void XmppComponent::close_stream() {
  if (state_ == State::Closing || state_ == State::Closed) return;
  write("</stream:stream>");
  const bool was_ready = state_ == State::Ready;
  state_ = State::Closing;
  if (was_ready && bridge_) bridge_->on_down(this);
  sink_.close_after_flush();
}

void XmppComponent::shutdown() {
  if (state_ == State::Closing || state_ == State::Closed) return;
  close_stream();
}

void XmppComponent::on_closed() {
  if (state_ != State::Closing && state_ != State::Closed) log::warning("xmpp: connection to the server lost");
  state_ = State::Closed;
  if (bridge_) bridge_->on_down(this);  // sessions go offline if we were the authenticated stream
  bridge_ = nullptr;
}

void XmppComponent::on_tick(std::int64_t now_ms) {
  now_ms_ = now_ms;
  if (started_ms_ < 0) started_ms_ = last_tx_ms_ = now_ms;
  if (!bridge_) return;
  const XmppOptions& o = bridge_->options();
  if ((state_ == State::AwaitStream || state_ == State::AwaitHandshake) &&
      now_ms - started_ms_ > std::int64_t(o.handshake_timeout_ms)) {
    log::error("xmpp: no handshake answer from the server within %u ms", o.handshake_timeout_ms);
    state_ = State::Closed;
    bridge_->on_down(this);
    bridge_ = nullptr;
    sink_.abort();
    return;
  }
  if (state_ == State::Ready && o.keepalive_ms && now_ms - last_tx_ms_ >= std::int64_t(o.keepalive_ms)) {
    write(" ");  // RFC 6120 §4.6.1 whitespace keep-alive
  }
}

void XmppComponent::on_drained() {
  if (state_ == State::Ready && bridge_) bridge_->on_drained();
}

}  // namespace junction::xmpp
