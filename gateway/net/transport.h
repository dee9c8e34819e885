// junction::net::TransportSpec — what a listener puts between the socket and
// the protocol handler: nothing (tcp), TLS, WebSocket, or WebSocket over
// TLS (wss). Immutable and shared (shared_ptr<const>) by the listener and
// every connection it accepted, so a SIGHUP that swaps certificates
// (Listener::set_transport) leaves connections already open untouched.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "frontend.h"
#include "tls_context.h"
#include "ws_options.h"

namespace junction::net {

enum class TransportKind : std::uint8_t { Tcp, Tls, Ws, Wss };

inline const char* transport_name(TransportKind k) {
  switch (k) {
    case TransportKind::Tcp: return "tcp";
    case TransportKind::Tls: return "tls";
    case TransportKind::Ws: return "ws";
    case TransportKind::Wss: return "wss";
  }
  return "?";
}

inline bool uses_tls(TransportKind k) { return k == TransportKind::Tls || k == TransportKind::Wss; }
inline bool uses_websocket(TransportKind k) { return k == TransportKind::Ws || k == TransportKind::Wss; }

struct TransportSpec {
  TransportKind kind = TransportKind::Tcp;
  // tls, wss: the listener's certificates and policy.
  std::shared_ptr<const TlsContext> tls;
  bool use_identity_as_username = false;
  // TLS handshake plus HTTP upgrade must be over within this time after
  // accept; checked on the connection tick (about 1 s resolution).
  std::uint32_t handshake_timeout_ms = 10000;
  // ws, wss: endpoints (path, subprotocols) and, for each, the protocol
  // that serves it (same index). Non-owning: factories outlive the loop.
  WsOptions ws;
  std::vector<core::ProtocolFactory*> ws_factories;
};

}  // namespace junction::net
