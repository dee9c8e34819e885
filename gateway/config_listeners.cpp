// listeners: (with tls: and websocket:), the overlap rules between
// listeners, listener_groups() and the address helpers.
#include <arpa/inet.h>

#include <array>
#include <cstring>

#include "config_sections.h"

namespace junction {

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::Mqtt: return "mqtt";
    case Protocol::Stomp: return "stomp";
    case Protocol::Http: return "http";
  }
  return "?";
}

namespace {

using namespace config_binder;

// Binary form of an address literal, for loopback and overlap checks.
struct Address {
  int family = 0;  // AF_INET or AF_INET6; 0: not a literal
  std::array<unsigned char, 16> bytes{};
};

Address parse_address(std::string_view literal) {
  Address a;
  std::string s(literal);
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) a.family = AF_INET;
  else if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) a.family = AF_INET6;
  return a;
}

bool is_wildcard(const Address& a) {
  std::size_t n = a.family == AF_INET ? 4 : 16;
  for (std::size_t i = 0; i < n; ++i)
    if (a.bytes[i] != 0) return false;
  return true;
}

std::string address_literal(const std::string& s) {
  return parse_address(s).family == 0 ? "'" + s + "' is not an IPv4 or IPv6 address literal" : "";
}

Binder<TlsListenerConfig> tls_binder() {
  using T = TlsListenerConfig;
  return Binder<T>()
      .string("cert_file", &T::cert_file, not_empty)
      .string("key_file", &T::key_file, not_empty)
      .string("ca_file", &T::ca_file, not_empty)
      .boolean("require_certificate", &T::require_certificate)
      .boolean("use_identity_as_username", &T::use_identity_as_username)
      .string("ciphers", &T::ciphers)
      .integer("handshake_timeout_ms", &T::handshake_timeout_ms, 100, 600000)
      .check([](const Section& s, T& t) {
        if (t.cert_file.empty()) s.fail(s.map_mark(), "cert_file", "required key missing");
        if (t.key_file.empty()) s.fail(s.map_mark(), "key_file", "required key missing");
        if (t.require_certificate && t.ca_file.empty())
          s.fail(s.key_mark("require_certificate"), "require_certificate",
                 "needs ca_file (the CA that signs client certificates)");
        if (t.use_identity_as_username && !t.require_certificate)
          s.fail(s.key_mark("use_identity_as_username"), "use_identity_as_username", "needs require_certificate: true");
      });
}

Binder<WebSocketListenerConfig> websocket_binder() {
  using W = WebSocketListenerConfig;
  return Binder<W>()
      .strings("allowed_origins", &W::allowed_origins, not_empty)
      .integer("max_request_size", &W::max_request_size, 256, 1048576)
      .integer("max_headers", &W::max_headers, 4, 1024)
      .integer("max_frame_size", &W::max_frame_size, 64, 2147483647)
      .integer("handshake_timeout_ms", &W::handshake_timeout_ms, 100, 600000);
}

// One listener and the rules between its own keys.
void check_listener(const Section& s, ListenerConfig& l) {
  if (!s.has("protocol")) s.fail(s.map_mark(), "protocol", "required key missing");
  if (!s.has("port")) s.fail(s.map_mark(), "port", "required key missing");
  const bool tls = net::uses_tls(l.transport), ws = net::uses_websocket(l.transport);
  if (s.has("path") && !ws) s.fail(s.value_mark("path"), "path", "only valid with transport ws or wss");
  if (s.has("path") && (l.path.empty() || l.path[0] != '/')) s.fail(s.value_mark("path"), "path", "must start with '/'");
  if (s.has("tls") && !tls) s.fail(s.key_mark("tls"), "tls", "only valid with transport tls or wss");
  if (!s.has("tls") && tls)
    s.fail(s.value_mark("transport"), "tls",
           std::string("transport ") + net::transport_name(l.transport) + " needs a tls block with cert_file and key_file");
  if (s.has("websocket") && !ws) s.fail(s.key_mark("websocket"), "websocket", "only valid with transport ws or wss");
  if (l.protocol == Protocol::Http && ws)
    s.fail(s.value_mark("transport"), "transport", "an http listener is served over tcp or tls");
  // Anonymous access is safe by default only where nobody else can reach.
  if (!s.has("allow_anonymous")) l.allow_anonymous = is_loopback_address(l.bind);
}

const Binder<ListenerConfig>& listener_binder() {
  using L = ListenerConfig;
  static const Binder<L> binder =
      Binder<L>()
          .choice("protocol", &L::protocol, named({Protocol::Mqtt, Protocol::Stomp, Protocol::Http}, protocol_name),
                  "protocol")
          .choice("transport", &L::transport,
                  named({Transport::Tcp, Transport::Tls, Transport::Ws, Transport::Wss}, net::transport_name), "transport")
          .string("bind", &L::bind, address_literal)
          .integer("port", &L::port, 0, 65535)
          .string("name", &L::name)
          // An empty path passes here and is refused by check_listener,
          // after the transport is known (its message comes first).
          .string("path", &L::path)
          .integer("max_connections", &L::max_connections, 0, 0xFFFFFFFFu)
          .boolean("allow_anonymous", &L::allow_anonymous)
          .map("tls", &L::tls, tls_binder())
          .map("websocket", &L::websocket, websocket_binder())
          .line(&L::line)
          .check(check_listener);
  return binder;
}

}  // namespace

namespace config_binder {

// Two listeners may not share a socket address, except ws (or wss) entries
// that share a socket by path (listener_groups).
void read_listeners(const Field& f, Config& c) {
  f.expect_list();
  if (f.value.size() == 0) f.reader->fail(f.name.Mark(), f.key, "at least one listener is required");
  std::vector<Address> addrs;
  listener_binder().read_list(f, [&](ListenerConfig&& l, const Field& item) {
    const Address a = parse_address(l.bind);
    auto fail = [&](const std::string& key, const std::string& what) { f.reader->fail(item.value.Mark(), key, what); };
    // Port 0 never collides (each gets its own ephemeral port). A wildcard
    // bind overlaps every address of its family (IPv6 listeners are v6-only).
    for (std::size_t j = 0; j < c.listeners.size() && l.port != 0; ++j) {
      const ListenerConfig& o = c.listeners[j];
      const Address& b = addrs[j];
      const std::string other = "listeners[" + std::to_string(j) + "]";
      if (o.port != l.port || a.family != b.family) continue;
      if (a.bytes == b.bytes && net::uses_websocket(l.transport) && o.transport == l.transport) {
        // One socket, several paths: the socket's settings must agree, the paths must differ.
        if (o.path == l.path) fail(item.key + ".path", "path '" + l.path + "' already served on this port by " + other);
        if (!(o.tls == l.tls) || !(o.websocket == l.websocket) || o.max_connections != l.max_connections)
          fail(item.key, "shares " + l.bind + ":" + std::to_string(l.port) + " with " + other +
                             ", so its tls, websocket and max_connections must be the same");
        continue;
      }
      if (a.bytes == b.bytes || is_wildcard(a) || is_wildcard(b))
        fail(item.key, "duplicate listener " + l.bind + ":" + std::to_string(l.port) + " (overlaps " + other +
                           " at line " + std::to_string(o.line) + ")");
    }
    addrs.push_back(a);
    c.listeners.push_back(std::move(l));
  });
}

}  // namespace config_binder

bool is_loopback_address(std::string_view literal) {
  Address a = parse_address(literal);
  if (a.family == AF_INET) return a.bytes[0] == 127;
  if (a.family != AF_INET6) return false;
  static constexpr unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), v4_mapped, 12) == 0) return a.bytes[12] == 127;
  for (int i = 0; i < 15; ++i)
    if (a.bytes[i] != 0) return false;
  return a.bytes[15] == 1;
}

std::vector<std::vector<std::size_t>> listener_groups(const std::vector<ListenerConfig>& listeners) {
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const ListenerConfig& l = listeners[i];
    bool joined = false;
    if (net::uses_websocket(l.transport) && l.port != 0) {
      for (auto& g : groups) {
        const ListenerConfig& o = listeners[g.front()];
        if (o.transport == l.transport && o.port == l.port && parse_address(o.bind).bytes == parse_address(l.bind).bytes) {
          g.push_back(i);
          joined = true;
          break;
        }
      }
    }
    if (!joined) groups.push_back({i});
  }
  return groups;
}

}  // namespace junction
