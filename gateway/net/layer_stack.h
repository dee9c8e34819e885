// junction::net::LayerStack — the StreamLayers of one connection, bottom
// (next to the socket) first: [TLS], [TLS, WebSocket] or [WebSocket].
// Pure like its layers; the Connection owns one only for non-tcp
// listeners, so a plain TCP connection pays one null pointer.
//
// Inbound bytes climb the stack: what layer i decodes is layer i+1's input,
// and the top layer's output is the application byte stream. Bytes a layer
// sends back (handshake answers, pongs, close frames) descend through the
// layers below it to the wire. Outbound application bytes descend through
// every layer. The first layer that reports Close or Error stops the
// stack; its error() says why.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "stream_layer.h"

namespace junction::net {

class LayerStack {
 public:
  void push(std::unique_ptr<StreamLayer> layer) { layers_.push_back(std::move(layer)); }
  bool empty() const { return layers_.empty(); }

  LayerStatus start(std::string& wire_out);
  // Wire bytes in: application bytes appended to `app`, wire bytes to send
  // appended to `wire_out`.
  LayerStatus on_wire(std::span<const std::uint8_t> in, std::string& app, std::string& wire_out);
  // Application bytes out: wire bytes appended to `wire_out`.
  LayerStatus on_app(std::string_view app, std::string& wire_out);
  // Graceful close from the top down: a WebSocket close frame goes inside
  // TLS, then TLS's close_notify.
  void shutdown(std::string& wire_out);

  // Every layer finished its handshake.
  bool open() const;
  bool failed() const { return failed_ >= 0; }
  // The failing layer's reason ("" if none failed).
  const std::string& error() const;

 private:
  // Sends `bytes` produced by layer `from` down through the layers below.
  LayerStatus descend(std::size_t from, std::string bytes, std::string& wire_out);
  LayerStatus stop(std::size_t layer, LayerStatus s);

  std::vector<std::unique_ptr<StreamLayer>> layers_;
  int failed_ = -1;
};

}  // namespace junction::net
