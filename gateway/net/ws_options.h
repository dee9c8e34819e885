// junction::net::WsOptions — what a WebSocket listener accepts: its
// endpoints (path, subprotocols), the outbound frame type of each, the
// Origin allow-list and the size limits. Kept apart from ws_layer.h so
// that transport.h (and the listener and main) need no wslay header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http_upgrade.h"

namespace junction::net {

struct WsOptions {
  HttpLimits http;
  std::vector<WsEndpoint> endpoints;
  std::vector<bool> text_frames;  // per endpoint: outbound default opcode is text
  std::vector<std::string> allowed_origins;
  std::uint64_t max_frame_size = 16 * 1024 * 1024;
};

}  // namespace junction::net
