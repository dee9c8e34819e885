// libFuzzer: the WebSocket frame path (gateway/net/ws_layer over wslay).
// A fixed valid upgrade opens the layer; the input then arrives as client
// frames in pieces whose size the first byte picks. Every few pieces the
// layer also sends a message, as the connection does once per iteration.
// Invariants: no crash or leak; once the layer reports Close or Error it
// stays ended; decoded bytes never exceed the frame bytes fed.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "ws_layer.h"

using namespace junction::net;

namespace {
const char kUpgrade[] =
    "GET /mqtt HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const WsOptions options = [] {
    WsOptions o;
    o.endpoints = {WsEndpoint{"/mqtt", {"mqtt"}, true}};
    o.text_frames = {false};
    o.max_frame_size = 4096;
    return o;
  }();
  WsLayer layer(options);
  std::string up, down;
  if (layer.on_input(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(kUpgrade), sizeof kUpgrade - 1),
                     up, down) != LayerStatus::Ok ||
      !layer.open())
    std::abort();
  std::size_t piece = 1 + data[0] % 200;
  std::span<const std::uint8_t> in(data + 1, size - 1);
  std::size_t fed = 0;
  bool ended = false;
  for (std::size_t at = 0, round = 0; at < in.size(); at += piece, ++round) {
    std::size_t n = std::min(piece, in.size() - at);
    LayerStatus s = layer.on_input(in.subspan(at, n), up, down);
    fed += n;
    if (ended && s == LayerStatus::Ok) std::abort();
    if (s != LayerStatus::Ok) ended = true;
    if (up.size() > fed) std::abort();
    if (round % 3 == 0) {
      std::string out;
      LayerStatus o = layer.on_output(std::string_view(reinterpret_cast<const char*>(in.data() + at), n), out);
      if (ended && o == LayerStatus::Ok) std::abort();
    }
  }
  if (!ended) layer.shutdown(down);
  return 0;
}
