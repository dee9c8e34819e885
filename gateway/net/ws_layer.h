// junction::net::WsLayer — the server side of RFC 6455 as a StreamLayer:
// first the HTTP/1.1 upgrade (HttpRequestParser + decide_upgrade), then
// WebSocket framing with wslay's event API.
//
// Inbound, the payloads of data frames (binary, text and their
// continuations) are concatenated into one byte stream for the protocol
// codec: a packet may span frames and a frame may hold several packets.
// wslay runs without message buffering, so memory does not grow with a
// message; max_frame_size bounds one frame (larger: close 1009). wslay
// enforces the server-side rules: client frames must be masked, no RSV
// bits, control frames small and unfragmented (else close 1002); it
// answers pings and echoes a close.
//
// Outbound, each on_output() call is one unfragmented message (the
// connection calls it once per loop iteration with everything the handler
// wrote). Its opcode follows the client's last data frame; before the
// first one, the endpoint's default (binary for MQTT, text for STOMP).
#pragma once

#include <wslay/wslay.h>

#include <cstdint>
#include <string>
#include <vector>

#include "stream_layer.h"
#include "ws_options.h"

namespace junction::net {

class WsLayer final : public StreamLayer {
 public:
  // `options` must outlive the layer.
  explicit WsLayer(const WsOptions& options);
  ~WsLayer() override;
  WsLayer(const WsLayer&) = delete;
  WsLayer& operator=(const WsLayer&) = delete;

  LayerStatus on_input(std::span<const std::uint8_t> in, std::string& up, std::string& down) override;
  LayerStatus on_output(std::string_view app, std::string& down) override;
  void shutdown(std::string& down) override;
  bool open() const override { return ctx_ != nullptr; }
  const std::string& error() const override { return error_; }

  // After open(): the endpoint the path chose, and the subprotocol.
  int endpoint() const { return endpoint_; }
  const std::string& subprotocol() const { return subprotocol_; }
  // The close code we sent (0: none yet), for tests and logs.
  std::uint16_t close_code_sent() const;

 private:
  LayerStatus frames(std::span<const std::uint8_t> in, std::string& up, std::string& down);
  LayerStatus after_io(int rv);

  static ssize_t recv_cb(wslay_event_context_ptr, std::uint8_t* buf, std::size_t len, int, void* self);
  static ssize_t send_cb(wslay_event_context_ptr, const std::uint8_t* data, std::size_t len, int, void* self);
  static void frame_start_cb(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg, void* self);
  static void frame_chunk_cb(wslay_event_context_ptr, const wslay_event_on_frame_recv_chunk_arg* arg, void* self);

  const WsOptions& options_;
  HttpRequestParser parser_;
  wslay_event_context_ptr ctx_ = nullptr;
  int endpoint_ = -1;
  std::string subprotocol_;
  std::string error_;
  std::uint8_t out_opcode_ = WSLAY_BINARY_FRAME;
  std::uint8_t frame_opcode_ = 0;  // of the frame being received
  bool closed_ = false;
  bool forced_1002_ = false;  // we wrote the close frame ourselves
  // Valid during one call only.
  std::span<const std::uint8_t> in_;
  std::string* up_ = nullptr;
  std::string* down_ = nullptr;
};

}  // namespace junction::net
