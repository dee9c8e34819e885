// junction::xmpp::XmppComponent — one XEP-0114 component stream from
// Junction to the XMPP server: stream open, handshake, then stanzas to the
// bridge. Stream errors follow RFC 6120 §4.9: ours are sent with a
// condition and text before </stream:stream>; the server's are logged in
// plain words (a refused handshake names its reason: wrong secret, unknown
// component name, component already connected). Whatever ends the stream,
// the transport closes and net::Connector connects again after a back-off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "frontend.h"
#include "xml_stream_parser.h"

namespace junction::xmpp {

class XmppBridge;

class XmppComponent final : public core::ProtocolHandler {
 public:
  XmppComponent(XmppBridge& bridge, core::ConnectionSink& sink);
  ~XmppComponent() override;

  std::size_t on_bytes(std::span<const std::uint8_t> data) override;
  void on_closed() override;
  void on_tick(std::int64_t now_ms) override;
  void on_drained() override;

  void write(std::string_view bytes);
  std::size_t queued_bytes() const { return sink_.queued_bytes(); }
  void shutdown();      // clean close: </stream:stream>
  void bridge_gone() { bridge_ = nullptr; }

 private:
  enum class State : std::uint8_t { AwaitStream, AwaitHandshake, Ready, Closing, Closed };

  void handle(StreamEvent& ev);
  void server_error(const Element& error);
  void fail(std::string_view condition, std::string_view text);
  void close_stream();

  XmppBridge* bridge_;
  core::ConnectionSink& sink_;
  State state_ = State::AwaitStream;
  StreamParser parser_;
  std::vector<StreamEvent> events_;
  std::string stream_id_;
  std::int64_t started_ms_ = -1;  // first tick
  std::int64_t last_tx_ms_ = 0;
  std::int64_t now_ms_ = 0;
};

}  // namespace junction::xmpp
