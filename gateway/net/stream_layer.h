// junction::net::StreamLayer — one transformation of a connection's byte
// stream (TLS records, WebSocket frames) between the socket and the
// protocol handler. Pure: no uv.h, no sockets, no clock, so layers are
// unit-tested and fuzzed with bytes only.
//
// A layer never does I/O: the caller hands it wire-side input and gets
// back, in caller-owned strings, the decoded bytes for the layer above
// (`up`) and the bytes that must travel back towards the wire (`down`:
// handshake records, pongs, close frames). A layer consumes all the input
// it is given (it buffers partial records itself).
//
// Errors are values (LayerStatus) with a text in error(); after Close or
// Error the layer is not called again except for error().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace junction::net {

enum class LayerStatus : std::uint8_t {
  Ok,     // go on
  Close,  // the stream ends gracefully: send `down`, then close
  Error,  // protocol or handshake failure: send `down` (an error answer), then close
};

class StreamLayer {
 public:
  virtual ~StreamLayer() = default;

  // For a layer that speaks first (a TLS client's hello). Default: nothing.
  virtual LayerStatus start(std::string& down) {
    (void)down;
    return LayerStatus::Ok;
  }
  // Wire-side bytes arrived.
  virtual LayerStatus on_input(std::span<const std::uint8_t> in, std::string& up, std::string& down) = 0;
  // Application bytes to send; only called once open().
  virtual LayerStatus on_output(std::string_view app, std::string& down) = 0;
  // Graceful end from our side (TLS close_notify, WebSocket close 1000).
  virtual void shutdown(std::string& down) = 0;
  // Handshake done: application bytes may flow both ways.
  virtual bool open() const = 0;
  // What went wrong, for the log (after Error or Close).
  virtual const std::string& error() const = 0;
};

}  // namespace junction::net
