// junction — from listener configuration to net::TransportSpec: the TLS
// context (files loaded here), WebSocket endpoints with each protocol's
// subprotocols, and the handshake deadline. Part of the composition root:
// the only place that knows both the protocols' names and the net types.
//
// Start-up (and SIGHUP for certificates); throws std::runtime_error naming
// the file on a bad certificate, key or CA.
#pragma once

#include <memory>
#include <vector>

#include "config.h"
#include "frontend.h"
#include "transport.h"

namespace junction::app {

// `group` are the config listeners sharing one socket (listener_groups),
// `factories[i]` serves config listener i. Null for tcp.
std::shared_ptr<const net::TransportSpec> make_transport(const std::vector<ListenerConfig>& listeners,
                                                         const std::vector<std::size_t>& group,
                                                         const std::vector<core::ProtocolFactory*>& factories);

// The same spec with the TLS files read again (SIGHUP).
std::shared_ptr<const net::TransportSpec> reload_tls(const net::TransportSpec& running, const TlsListenerConfig& tls);

}  // namespace junction::app
