#include "transport_setup.h"

#include "tls_files.h"

namespace junction::app {

namespace {

net::TlsSettings tls_settings(const TlsListenerConfig& t) {
  net::TlsSettings s;
  s.cert_file = t.cert_file;
  s.key_file = t.key_file;
  s.ca_file = t.ca_file;
  s.require_certificate = t.require_certificate;
  s.ciphers = t.ciphers;
  return s;
}

// MQTT over WebSocket: the client MUST offer "mqtt" [MQTT-6.0.0-3]
// ("mqttv3.1" is what 3.1 clients offer). STOMP defines no WebSocket
// binding; its de-facto names are optional, and text frames are what STOMP
// clients expect by default.
net::WsEndpoint endpoint_for(const ListenerConfig& l, bool& text) {
  net::WsEndpoint e;
  e.path = l.path;
  switch (l.protocol) {
    case Protocol::Mqtt:
      e.subprotocols = {"mqtt", "mqttv3.1"};
      e.subprotocol_required = true;
      text = false;
      break;
    case Protocol::Stomp:
      e.subprotocols = {"v12.stomp", "v11.stomp", "v10.stomp"};
      e.subprotocol_required = false;
      text = true;
      break;
    case Protocol::Http:  // refused by the config (http is served over tcp or tls)
      break;
  }
  return e;
}

}  // namespace

std::shared_ptr<const net::TransportSpec> make_transport(const std::vector<ListenerConfig>& listeners,
                                                         const std::vector<std::size_t>& group,
                                                         const std::vector<core::ProtocolFactory*>& factories) {
  const ListenerConfig& first = listeners[group.front()];
  if (first.transport == Transport::Tcp) return nullptr;
  auto spec = std::make_shared<net::TransportSpec>();
  spec->kind = first.transport;
  spec->handshake_timeout_ms = 0;
  if (net::uses_tls(spec->kind)) {
    spec->tls = load_tls_context(net::TlsContext::Role::Server, tls_settings(first.tls));
    spec->use_identity_as_username = first.tls.use_identity_as_username;
    spec->handshake_timeout_ms += first.tls.handshake_timeout_ms;
  }
  if (net::uses_websocket(spec->kind)) {
    const WebSocketListenerConfig& w = first.websocket;
    spec->handshake_timeout_ms += w.handshake_timeout_ms;
    spec->ws.http.max_request_size = w.max_request_size;
    spec->ws.http.max_headers = w.max_headers;
    spec->ws.max_frame_size = w.max_frame_size;
    spec->ws.allowed_origins = w.allowed_origins;
    for (std::size_t i : group) {
      bool text = false;
      spec->ws.endpoints.push_back(endpoint_for(listeners[i], text));
      spec->ws.text_frames.push_back(text);
      spec->ws_factories.push_back(factories[i]);
    }
  }
  return spec;
}

std::shared_ptr<const net::TransportSpec> reload_tls(const net::TransportSpec& running, const TlsListenerConfig& tls) {
  auto spec = std::make_shared<net::TransportSpec>(running);
  spec->tls = load_tls_context(net::TlsContext::Role::Server, tls_settings(tls));
  return spec;
}

}  // namespace junction::app
