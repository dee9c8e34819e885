#include "config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "amqp_uri.h"

namespace junction {

namespace detail {
extern const std::string_view default_config_yaml;  // config_default.cpp (generated)
}

const char* durability_name(Durability d) {
  switch (d) {
    case Durability::Sync: return "sync";
    case Durability::Batch: return "batch";
    case Durability::Memory: return "memory";
  }
  return "?";
}

namespace {

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

// One reader per document: knows the file name for messages.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Mark& m, const std::string& key, const std::string& what) const {
    std::string where = source_ + ":" + std::to_string(m.line >= 0 ? m.line + 1 : 1) + ": ";
    throw ConfigError(key.empty() ? where + what : where + "key '" + key + "': " + what);
  }

  // Where a value's problem is reported: a null value has no useful mark of
  // its own (yaml-cpp puts it on the next token), so use its key's.
  static YAML::Mark mark_of(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() ? key.Mark() : value.Mark();
  }

  static std::string describe(const YAML::Node& n) {
    if (n.IsNull()) return "nothing";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a map";
    if (n.Tag() != "?") return "a string";
    return "'" + n.Scalar() + "'";
  }

  // Visits each key of `map` once, rejecting duplicates and keys outside
  // `allowed`. visit(name, key_node, value_node).
  template <typename Visit>
  void each_key(const YAML::Node& map, const std::string& prefix, std::initializer_list<const char*> allowed,
                Visit&& visit) const {
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: it-> yields a temporary pair, references into it dangle.
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) fail(k.Mark(), prefix, "keys must be plain names");
      std::string name = k.Scalar();
      std::string full = prefix.empty() ? name : prefix + "." + name;
      bool known = false;
      std::string expected;
      for (const char* a : allowed) {
        if (name == a) known = true;
        expected += expected.empty() ? a : std::string(", ") + a;
      }
      if (!known) fail(k.Mark(), full, "unknown key (expected one of: " + expected + ")");
      for (const auto& s : seen)
        if (s == name) fail(k.Mark(), full, "duplicate key");
      seen.push_back(name);
      visit(name, full, k, v);
    }
  }

  std::string string(const YAML::Node& k, const YAML::Node& v, const std::string& key) const {
    if (!v.IsScalar()) fail(mark_of(k, v), key, "expected a string, got " + describe(v));
    return v.Scalar();
  }

  std::uint64_t integer(const YAML::Node& k, const YAML::Node& v, const std::string& key, std::uint64_t min,
                        std::uint64_t max) const {
    if (!v.IsScalar() || v.Tag() != "?")
      fail(mark_of(k, v), key, "expected an integer, got " + describe(v));
    const std::string& s = v.Scalar();
    std::string range = "must be between " + std::to_string(min) + " and " + std::to_string(max);
    if (!s.empty() && s[0] == '-') {
      std::int64_t neg = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), neg);
      if (ec == std::errc() && p == s.data() + s.size()) fail(v.Mark(), key, range + ", got " + s);
      fail(v.Mark(), key, "expected an integer, got '" + s + "'");
    }
    std::uint64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc::result_out_of_range) fail(v.Mark(), key, range + ", got " + s);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
      fail(v.Mark(), key, "expected an integer, got '" + s + "'");
    if (out < min || out > max) fail(v.Mark(), key, range + ", got " + s);
    return out;
  }

  bool boolean(const YAML::Node& k, const YAML::Node& v, const std::string& key) const {
    if (v.IsScalar() && v.Tag() == "?") {
      const std::string& s = v.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    fail(mark_of(k, v), key, "expected true or false, got " + describe(v));
  }

  void expect_map(const YAML::Node& k, const YAML::Node& v, const std::string& key) const {
    if (!v.IsMap()) fail(mark_of(k, v), key, "expected a map, got " + describe(v));
  }

 private:
  std::string source_;
};

void read_tls(const Reader& r, const YAML::Node& key, const YAML::Node& v, const std::string& prefix,
              TlsListenerConfig& t) {
  r.expect_map(key, v, prefix);
  YAML::Node require_node, identity_node;
  r.each_key(v, prefix,
             {"cert_file", "key_file", "ca_file", "require_certificate", "use_identity_as_username", "ciphers",
              "handshake_timeout_ms"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               auto file = [&] {
                 std::string f = r.string(k, x, full);
                 if (f.empty()) r.fail(x.Mark(), full, "must not be empty");
                 return f;
               };
               if (name == "cert_file") t.cert_file = file();
               else if (name == "key_file") t.key_file = file();
               else if (name == "ca_file") t.ca_file = file();
               else if (name == "require_certificate") {
                 t.require_certificate = r.boolean(k, x, full);
                 require_node = k;
               } else if (name == "use_identity_as_username") {
                 t.use_identity_as_username = r.boolean(k, x, full);
                 identity_node = k;
               } else if (name == "ciphers") t.ciphers = r.string(k, x, full);
               else if (name == "handshake_timeout_ms")
                 t.handshake_timeout_ms = static_cast<std::uint32_t>(r.integer(k, x, full, 100, 600000));
             });
  if (t.cert_file.empty()) r.fail(v.Mark(), prefix + ".cert_file", "required key missing");
  if (t.key_file.empty()) r.fail(v.Mark(), prefix + ".key_file", "required key missing");
  if (t.require_certificate && t.ca_file.empty())
    r.fail(require_node.Mark(), prefix + ".require_certificate", "needs ca_file (the CA that signs client certificates)");
  if (t.use_identity_as_username && !t.require_certificate)
    r.fail(identity_node.Mark(), prefix + ".use_identity_as_username", "needs require_certificate: true");
}

void read_websocket(const Reader& r, const YAML::Node& key, const YAML::Node& v, const std::string& prefix,
                    WebSocketListenerConfig& w) {
  r.expect_map(key, v, prefix);
  r.each_key(v, prefix, {"allowed_origins", "max_request_size", "max_headers", "max_frame_size", "handshake_timeout_ms"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               auto u32 = [&](std::uint64_t min, std::uint64_t max) {
                 return static_cast<std::uint32_t>(r.integer(k, x, full, min, max));
               };
               if (name == "allowed_origins") {
                 if (!x.IsSequence()) r.fail(Reader::mark_of(k, x), full, "expected a list, got " + Reader::describe(x));
                 for (std::size_t i = 0; i < x.size(); ++i) {
                   const YAML::Node o = x[i];
                   std::string item = full + "[" + std::to_string(i) + "]";
                   std::string origin = r.string(k, o, item);
                   if (origin.empty()) r.fail(o.Mark(), item, "must not be empty");
                   w.allowed_origins.push_back(origin);
                 }
               } else if (name == "max_request_size") w.max_request_size = u32(256, 1048576);
               else if (name == "max_headers") w.max_headers = u32(4, 1024);
               else if (name == "max_frame_size") w.max_frame_size = u32(64, 2147483647);
               else if (name == "handshake_timeout_ms") w.handshake_timeout_ms = u32(100, 600000);
             });
}

ListenerConfig read_listener(const Reader& r, const YAML::Node& item, const std::string& prefix) {
  ListenerConfig l;
  l.line = item.Mark().line + 1;
  bool have_port = false, have_protocol = false, have_anonymous = false, have_path = false;
  YAML::Node bind_node, path_node, path_key, tls_key, ws_key, transport_node;
  bool have_tls = false, have_ws = false;
  r.each_key(item, prefix,
             {"protocol", "transport", "bind", "port", "name", "path", "max_connections", "allow_anonymous", "tls",
              "websocket"},
             [&](const std::string& name, const std::string& key, const YAML::Node& k, const YAML::Node& v) {
               if (name == "protocol") {
                 l.protocol = r.string(k, v, key);
                 have_protocol = true;
                 if (l.protocol != "mqtt" && l.protocol != "stomp")
                   r.fail(v.Mark(), key, "unknown protocol '" + l.protocol + "' (expected mqtt or stomp)");
               } else if (name == "transport") {
                 l.transport = r.string(k, v, key);
                 transport_node = v;
                 if (l.transport != "tcp" && l.transport != "tls" && l.transport != "ws" && l.transport != "wss")
                   r.fail(v.Mark(), key, "unknown transport '" + l.transport + "' (expected tcp, tls, ws or wss)");
               } else if (name == "bind") {
                 l.bind = r.string(k, v, key);
                 if (parse_address(l.bind).family == 0)
                   r.fail(v.Mark(), key, "'" + l.bind + "' is not an IPv4 or IPv6 address literal");
               } else if (name == "port") {
                 l.port = static_cast<std::uint16_t>(r.integer(k, v, key, 0, 65535));
                 have_port = true;
               } else if (name == "name") {
                 l.name = r.string(k, v, key);
               } else if (name == "path") {
                 l.path = r.string(k, v, key);
                 path_node = v;
                 path_key = k;
                 have_path = true;
               } else if (name == "max_connections") {
                 l.max_connections = static_cast<std::uint32_t>(r.integer(k, v, key, 0, 0xFFFFFFFFu));
               } else if (name == "allow_anonymous") {
                 l.allow_anonymous = r.boolean(k, v, key);
                 have_anonymous = true;
               } else if (name == "tls") {
                 read_tls(r, k, v, key, l.tls);
                 tls_key = k;
                 have_tls = true;
               } else if (name == "websocket") {
                 read_websocket(r, k, v, key, l.websocket);
                 ws_key = k;
                 have_ws = true;
               }
             });
  if (!have_protocol) r.fail(item.Mark(), prefix + ".protocol", "required key missing");
  if (!have_port) r.fail(item.Mark(), prefix + ".port", "required key missing");
  bool tls = l.transport == "tls" || l.transport == "wss";
  bool ws = l.transport == "ws" || l.transport == "wss";
  if (have_path && !ws) r.fail(Reader::mark_of(path_key, path_node), prefix + ".path", "only valid with transport ws or wss");
  if (have_path && (l.path.empty() || l.path[0] != '/'))
    r.fail(Reader::mark_of(path_key, path_node), prefix + ".path", "must start with '/'");
  if (have_tls && !tls) r.fail(tls_key.Mark(), prefix + ".tls", "only valid with transport tls or wss");
  if (!have_tls && tls)
    r.fail(transport_node.Mark(), prefix + ".tls", "transport " + l.transport + " needs a tls block with cert_file and key_file");
  if (have_ws && !ws) r.fail(ws_key.Mark(), prefix + ".websocket", "only valid with transport ws or wss");
  // Anonymous access is safe by default only where nobody else can reach.
  if (!have_anonymous) l.allow_anonymous = is_loopback_address(l.bind);
  return l;
}

void read_listeners(const Reader& r, const YAML::Node& k, const YAML::Node& v, Config& c) {
  if (!v.IsSequence()) r.fail(Reader::mark_of(k, v), "listeners", "expected a list, got " + Reader::describe(v));
  if (v.size() == 0) r.fail(k.Mark(), "listeners", "at least one listener is required");
  std::vector<Address> addrs;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string prefix = "listeners[" + std::to_string(i) + "]";
    const YAML::Node item = v[i];
    if (!item.IsMap()) r.fail(item.IsNull() ? k.Mark() : item.Mark(), prefix, "expected a map, got " + Reader::describe(item));
    ListenerConfig l = read_listener(r, item, prefix);
    Address a = parse_address(l.bind);
    // Port 0 never collides (each gets its own ephemeral port). A wildcard
    // bind overlaps every address of its family (IPv6 listeners are v6-only).
    for (std::size_t j = 0; j < c.listeners.size() && l.port != 0; ++j) {
      const ListenerConfig& o = c.listeners[j];
      const Address& b = addrs[j];
      if (o.port != l.port || a.family != b.family) continue;
      if (a.bytes == b.bytes && (l.transport == "ws" || l.transport == "wss") && o.transport == l.transport) {
        // One socket, several paths (listener_groups): the socket's
        // settings must agree, the paths must differ.
        if (o.path == l.path)
          r.fail(item.Mark(), prefix + ".path",
                 "path '" + l.path + "' already served on this port by listeners[" + std::to_string(j) + "]");
        if (!(o.tls == l.tls) || !(o.websocket == l.websocket) || o.max_connections != l.max_connections)
          r.fail(item.Mark(), prefix,
                 "shares " + l.bind + ":" + std::to_string(l.port) + " with listeners[" + std::to_string(j) +
                     "], so its tls, websocket and max_connections must be the same");
        continue;
      }
      if (a.bytes == b.bytes || is_wildcard(a) || is_wildcard(b)) {
        r.fail(item.Mark(), prefix,
               "duplicate listener " + l.bind + ":" + std::to_string(l.port) + " (overlaps listeners[" +
                   std::to_string(j) + "] at line " + std::to_string(o.line) + ")");
      }
    }
    addrs.push_back(a);
    c.listeners.push_back(std::move(l));
  }
}

void read_store(const Reader& r, const YAML::Node& key, const YAML::Node& v, StoreConfig& s) {
  r.expect_map(key, v, "store");
  YAML::Node max_value;
  r.each_key(v, "store", {"path", "durability", "sync_interval_ms", "map_size_mb", "max_map_size_mb"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               if (name == "path") {
                 s.path = r.string(k, x, full);
                 if (s.path.empty()) r.fail(x.Mark(), full, "must not be empty");
               } else if (name == "durability") {
                 std::string d = r.string(k, x, full);
                 if (d == "sync") s.durability = Durability::Sync;
                 else if (d == "batch") s.durability = Durability::Batch;
                 else if (d == "memory") s.durability = Durability::Memory;
                 else r.fail(x.Mark(), full, "must be one of sync, batch, memory (got '" + d + "')");
               } else if (name == "sync_interval_ms") {
                 s.sync_interval_ms = static_cast<std::uint32_t>(r.integer(k, x, full, 1, 3600000));
               } else if (name == "map_size_mb") {
                 s.map_size_mb = r.integer(k, x, full, 1, 1u << 20);
               } else if (name == "max_map_size_mb") {
                 s.max_map_size_mb = r.integer(k, x, full, 0, 1u << 20);
                 max_value = x;
               }
             });
  if (s.max_map_size_mb != 0 && s.max_map_size_mb < s.map_size_mb)
    r.fail(max_value.Mark(), "store.max_map_size_mb",
           "must be 0 (no limit) or at least map_size_mb (" + std::to_string(s.map_size_mb) + ")");
}

void read_limits(const Reader& r, const YAML::Node& key, const YAML::Node& v, LimitsConfig& l) {
  r.expect_map(key, v, "limits");
  r.each_key(v, "limits",
             {"max_queued_messages", "max_queued_bytes", "max_packet_size", "max_keepalive", "max_inflight", "receive_maximum",
              "topic_alias_maximum", "outbound_buffer", "slow_consumer_ms", "max_session_expiry", "max_connections",
              "max_connect_rate", "max_publish_rate"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               auto u32 = [&](std::uint64_t min, std::uint64_t max) {
                 return static_cast<std::uint32_t>(r.integer(k, x, full, min, max));
               };
               auto u16 = [&](std::uint64_t min) { return static_cast<std::uint16_t>(r.integer(k, x, full, min, 65535)); };
               if (name == "max_queued_messages") l.max_queued_messages = u32(1, 0xFFFFFFFFu);
               else if (name == "max_queued_bytes") l.max_queued_bytes = r.integer(k, x, full, 0, UINT64_MAX);
               // MQTT's largest packet: 268435455 bytes of body + 5 of header.
               else if (name == "max_packet_size") l.max_packet_size = u32(64, 268435460);
               else if (name == "max_keepalive") l.max_keepalive = u16(1);
               else if (name == "max_inflight") l.max_inflight = u16(1);
               else if (name == "receive_maximum") l.receive_maximum = u16(1);
               else if (name == "topic_alias_maximum") l.topic_alias_maximum = u16(0);
               else if (name == "outbound_buffer") l.outbound_buffer = r.integer(k, x, full, 1024, 0xFFFFFFFFu);
               else if (name == "slow_consumer_ms") l.slow_consumer_ms = u32(0, 86400000);
               else if (name == "max_session_expiry") l.max_session_expiry = u32(0, 0xFFFFFFFFu);
               else if (name == "max_connections") l.max_connections = u32(0, 0xFFFFFFFFu);
               else if (name == "max_connect_rate") l.max_connect_rate = u32(0, 0xFFFFFFFFu);
               else if (name == "max_publish_rate") l.max_publish_rate = u32(0, 0xFFFFFFFFu);
             });
}

void read_queues(const Reader& r, const YAML::Node& k, const YAML::Node& v, std::vector<QueueConfig>& out) {
  if (!v.IsSequence()) r.fail(Reader::mark_of(k, v), "queues", "expected a list, got " + Reader::describe(v));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string prefix = "queues[" + std::to_string(i) + "]";
    const YAML::Node item = v[i];
    if (!item.IsMap()) r.fail(item.IsNull() ? k.Mark() : item.Mark(), prefix, "expected a map, got " + Reader::describe(item));
    QueueConfig q;
    q.line = item.Mark().line + 1;
    bool have_pattern = false;
    r.each_key(item, prefix,
               {"pattern", "max_length", "max_bytes", "overflow", "max_deliveries", "dead_letter", "ttl_ms"},
               [&](const std::string& name, const std::string& full, const YAML::Node& kk, const YAML::Node& x) {
                 if (name == "pattern") {
                   q.pattern = r.string(kk, x, full);
                   if (q.pattern.empty()) r.fail(x.Mark(), full, "must not be empty");
                   have_pattern = true;
                 } else if (name == "max_length") {
                   q.max_length = static_cast<std::uint32_t>(r.integer(kk, x, full, 0, 0xFFFFFFFFu));
                 } else if (name == "max_bytes") {
                   q.max_bytes = r.integer(kk, x, full, 0, ~std::uint64_t{0});
                 } else if (name == "overflow") {
                   std::string o = r.string(kk, x, full);
                   if (o == "reject-publish") q.drop_head = false;
                   else if (o == "drop-head") q.drop_head = true;
                   else r.fail(x.Mark(), full, "must be reject-publish or drop-head (got '" + o + "')");
                 } else if (name == "max_deliveries") {
                   q.max_deliveries = static_cast<std::uint32_t>(r.integer(kk, x, full, 0, 0xFFFFFFFFu));
                 } else if (name == "dead_letter") {
                   q.dead_letter = r.string(kk, x, full);
                 } else if (name == "ttl_ms") {
                   q.ttl_ms = r.integer(kk, x, full, 0, 0x7FFFFFFFFFFFull);
                 }
               });
    if (!have_pattern) r.fail(item.Mark(), prefix + ".pattern", "required key missing");
    out.push_back(std::move(q));
  }
}

void read_stomp(const Reader& r, const YAML::Node& key, const YAML::Node& v, StompConfig& s) {
  r.expect_map(key, v, "stomp");
  r.each_key(v, "stomp", {"heart_beat_ms", "prefetch", "max_frame_size", "max_headers", "max_header_line"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               auto u32 = [&](std::uint64_t min, std::uint64_t max) {
                 return static_cast<std::uint32_t>(r.integer(k, x, full, min, max));
               };
               if (name == "heart_beat_ms") s.heart_beat_ms = u32(0, 3600000);
               else if (name == "prefetch") s.prefetch = u32(0, 65535);
               else if (name == "max_frame_size") s.max_frame_size = u32(256, 268435456);
               else if (name == "max_headers") s.max_headers = u32(1, 65535);
               else if (name == "max_header_line") s.max_header_line = u32(64, 1048576);
             });
}

void read_auth(const Reader& r, const YAML::Node& key, const YAML::Node& v, AuthConfig& a) {
  r.expect_map(key, v, "auth");
  r.each_key(v, "auth", {"password_file", "acl_file", "deny_publish_v3"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               if (name == "password_file") {
                 a.password_file = r.string(k, x, full);
               } else if (name == "acl_file") {
                 a.acl_file = r.string(k, x, full);
               } else if (name == "deny_publish_v3") {
                 const std::string s = r.string(k, x, full);
                 if (s == "drop") a.disconnect_on_denied_publish_v3 = false;
                 else if (s == "disconnect") a.disconnect_on_denied_publish_v3 = true;
                 else r.fail(x.Mark(), full, "must be drop or disconnect (got '" + s + "')");
               }
             });
}

// A topic filter as the core accepts it: `+` and `#` fill whole levels, `#` last.
bool plausible_filter(std::string_view f) {
  if (f.empty()) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '+' && f[i] != '#') continue;
    if (i > 0 && f[i - 1] != '/') return false;
    if (i + 1 < f.size() && (f[i] == '#' || f[i + 1] != '/')) return false;
  }
  return true;
}

void read_xmpp(const Reader& r, const YAML::Node& key, const YAML::Node& v, XmppConfig& x) {
  r.expect_map(key, v, "xmpp");
  x.line = key.Mark().line + 1;
  YAML::Node secret_file_node;
  r.each_key(v, "xmpp",
             {"enabled", "host", "port", "component", "secret", "secret_file", "scope", "qos", "retain_pubsub",
              "offline_limit", "max_stanza_size"},
             [&](const std::string& name, const std::string& full, const YAML::Node& k, const YAML::Node& n) {
               if (name == "enabled") x.enabled = r.boolean(k, n, full);
               else if (name == "host") x.host = r.string(k, n, full);
               else if (name == "port") x.port = static_cast<std::uint16_t>(r.integer(k, n, full, 1, 65535));
               else if (name == "component") x.component = r.string(k, n, full);
               else if (name == "secret") x.secret = r.string(k, n, full);
               else if (name == "secret_file") {
                 x.secret_file = r.string(k, n, full);
                 secret_file_node = n;
               } else if (name == "qos") x.qos = static_cast<std::uint8_t>(r.integer(k, n, full, 0, 2));
               else if (name == "retain_pubsub") x.retain_pubsub = r.boolean(k, n, full);
               else if (name == "offline_limit") x.offline_limit = static_cast<std::uint32_t>(r.integer(k, n, full, 1, 10000000));
               else if (name == "max_stanza_size") x.max_stanza_size = static_cast<std::uint32_t>(r.integer(k, n, full, 1024, 268435456));
               else if (name == "scope") {
                 if (!n.IsSequence()) r.fail(Reader::mark_of(k, n), full, "expected a list, got " + Reader::describe(n));
                 x.scope.clear();
                 for (std::size_t i = 0; i < n.size(); ++i) {
                   const std::string item = full + "[" + std::to_string(i) + "]";
                   x.scope.push_back(r.string(k, n[i], item));
                   if (!plausible_filter(x.scope.back())) r.fail(n[i].Mark(), item, "not a topic filter");
                 }
               }
             });
  if (!x.secret_file.empty()) {
    if (!x.secret.empty()) r.fail(secret_file_node.Mark(), "xmpp.secret_file", "give secret or secret_file, not both");
    std::ifstream in(x.secret_file, std::ios::binary);
    if (!in) r.fail(secret_file_node.Mark(), "xmpp.secret_file", "cannot open " + x.secret_file + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    x.secret = text.str();
    while (!x.secret.empty() && (x.secret.back() == '\n' || x.secret.back() == '\r')) x.secret.pop_back();
  }
  if (!x.enabled) return;
  if (x.component.empty()) r.fail(key.Mark(), "xmpp.component", "required when the bridge is enabled");
  if (x.secret.empty()) r.fail(key.Mark(), "xmpp.secret", "required when the bridge is enabled (or secret_file)");
}

std::uint8_t read_qos(const Reader& r, const YAML::Node& k, const YAML::Node& x, const std::string& full) {
  return static_cast<std::uint8_t>(r.integer(k, x, full, 0, 1));
}

void read_bridge_rules(const Reader& r, const YAML::Node& k, const YAML::Node& v, const std::string& prefix,
                       BridgeConfig& b, bool outbound) {
  if (!v.IsSequence()) r.fail(Reader::mark_of(k, v), prefix, "expected a list, got " + Reader::describe(v));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string p = prefix + "[" + std::to_string(i) + "]";
    const YAML::Node item = v[i];
    if (!item.IsMap()) r.fail(item.IsNull() ? k.Mark() : item.Mark(), p, "expected a map, got " + Reader::describe(item));
    if (outbound) {
      BridgeOutboundConfig o;
      r.each_key(item, p, {"filter", "exchange", "routing_key", "qos", "mandatory"},
                 [&](const std::string& n, const std::string& full, const YAML::Node& kk, const YAML::Node& x) {
                   if (n == "filter") o.filter = r.string(kk, x, full);
                   else if (n == "exchange") o.exchange = r.string(kk, x, full);
                   else if (n == "routing_key") o.routing_key = r.string(kk, x, full);
                   else if (n == "qos") o.qos = read_qos(r, kk, x, full);
                   else if (n == "mandatory") o.mandatory = r.boolean(kk, x, full);
                 });
      if (o.filter.empty()) r.fail(item.Mark(), p + ".filter", "required key missing");
      if (o.routing_key.empty() || o.routing_key.size() > 255) r.fail(item.Mark(), p + ".routing_key", "must be 1..255 characters");
      b.outbound.push_back(std::move(o));
    } else {
      BridgeInboundConfig in;
      r.each_key(item, p, {"queue", "exchange", "binding_key", "topic_prefix", "local_queue", "qos"},
                 [&](const std::string& n, const std::string& full, const YAML::Node& kk, const YAML::Node& x) {
                   if (n == "queue") in.queue = r.string(kk, x, full);
                   else if (n == "exchange") in.exchange = r.string(kk, x, full);
                   else if (n == "binding_key") in.binding_key = r.string(kk, x, full);
                   else if (n == "topic_prefix") in.topic_prefix = r.string(kk, x, full);
                   else if (n == "local_queue") in.local_queue = r.string(kk, x, full);
                   else if (n == "qos") in.qos = read_qos(r, kk, x, full);
                 });
      if (in.queue.empty() && in.exchange.empty())
        r.fail(item.Mark(), p, "needs a queue, or an exchange with a binding_key");
      if (!in.exchange.empty() && in.binding_key.empty()) r.fail(item.Mark(), p + ".binding_key", "required with exchange");
      if (in.queue.size() > 255 || in.exchange.size() > 255 || in.binding_key.size() > 255)
        r.fail(item.Mark(), p, "queue, exchange and binding_key are at most 255 characters");
      b.inbound.push_back(std::move(in));
    }
  }
}

void read_bridge_tls(const Reader& r, const YAML::Node& k, const YAML::Node& v, const std::string& prefix,
                     BridgeTlsConfig& t) {
  r.expect_map(k, v, prefix);
  r.each_key(v, prefix, {"ca_file", "cert_file", "key_file", "server_name", "verify"},
             [&](const std::string& n, const std::string& full, const YAML::Node& kk, const YAML::Node& x) {
               if (n == "verify") {
                 t.verify = r.boolean(kk, x, full);
                 return;
               }
               std::string text = r.string(kk, x, full);
               if (text.empty()) r.fail(x.Mark(), full, "must not be empty");
               if (n == "ca_file") t.ca_file = text;
               else if (n == "cert_file") t.cert_file = text;
               else if (n == "key_file") t.key_file = text;
               else t.server_name = text;
             });
  if (t.verify && t.ca_file.empty()) r.fail(v.Mark(), prefix + ".ca_file", "required to verify the server (or verify: false)");
  if (t.cert_file.empty() != t.key_file.empty())
    r.fail(v.Mark(), prefix + (t.cert_file.empty() ? ".cert_file" : ".key_file"), "cert_file and key_file go together");
}

void read_bridges(const Reader& r, const YAML::Node& k, const YAML::Node& v, std::vector<BridgeConfig>& out) {
  if (v.IsNull()) return;
  if (!v.IsSequence()) r.fail(Reader::mark_of(k, v), "bridges", "expected a list, got " + Reader::describe(v));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string prefix = "bridges[" + std::to_string(i) + "]";
    const YAML::Node item = v[i];
    if (!item.IsMap()) r.fail(item.IsNull() ? k.Mark() : item.Mark(), prefix, "expected a map, got " + Reader::describe(item));
    BridgeConfig b;
    YAML::Node uris_node, tls_node;
    bool have_uris = false, have_tls = false;
    r.each_key(item, prefix,
               {"name", "uris", "node_id", "heartbeat", "prefetch", "max_unconfirmed", "outbox", "reconnect", "outbound",
                "inbound", "tls"},
               [&](const std::string& n, const std::string& full, const YAML::Node& kk, const YAML::Node& x) {
                 if (n == "name") {
                   b.name = r.string(kk, x, full);
                   for (char c : b.name)
                     if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
                       r.fail(x.Mark(), full, "letters, digits, '-', '_' and '.' only");
                 } else if (n == "uris") {
                   if (!x.IsSequence() || x.size() == 0) r.fail(Reader::mark_of(kk, x), full, "expected a non-empty list of amqp:// URIs");
                   for (std::size_t j = 0; j < x.size(); ++j) {
                     const std::string uk = full + "[" + std::to_string(j) + "]";
                     std::string uri = r.string(kk, x[j], uk), err;
                     auto parsed = amqp::parse_amqp_uri(uri, err);
                     if (!parsed) r.fail(x[j].Mark(), uk, err);
                     // One connector, one transport: a failover list is all amqp or all amqps.
                     if (j == 0) b.tls = parsed->tls;
                     else if (parsed->tls != b.tls) r.fail(x[j].Mark(), uk, "mixes amqp:// and amqps:// in one bridge");
                     b.upstreams.push_back(std::move(*parsed));
                   }
                   uris_node = kk;
                   have_uris = true;
                 } else if (n == "node_id") {
                   b.node_id = r.string(kk, x, full);
                 } else if (n == "heartbeat") {
                   b.heartbeat = static_cast<std::uint16_t>(r.integer(kk, x, full, 0, 3600));
                 } else if (n == "prefetch") {
                   b.prefetch = static_cast<std::uint16_t>(r.integer(kk, x, full, 1, 65535));
                 } else if (n == "max_unconfirmed") {
                   b.max_unconfirmed = static_cast<std::uint16_t>(r.integer(kk, x, full, 1, 65535));
                 } else if (n == "outbox") {
                   r.expect_map(kk, x, full);
                   r.each_key(x, full, {"max_messages", "overflow"},
                              [&](const std::string& on, const std::string& ofull, const YAML::Node& ok, const YAML::Node& ox) {
                                if (on == "max_messages") {
                                  b.outbox_max_messages = static_cast<std::uint32_t>(r.integer(ok, ox, ofull, 1, 0xFFFFFFFFu));
                                } else {
                                  const std::string o = r.string(ok, ox, ofull);
                                  if (o == "reject") b.outbox_drop_oldest = false;
                                  else if (o == "drop-oldest") b.outbox_drop_oldest = true;
                                  else r.fail(ox.Mark(), ofull, "must be reject or drop-oldest (got '" + o + "')");
                                }
                              });
                 } else if (n == "reconnect") {
                   r.expect_map(kk, x, full);
                   r.each_key(x, full, {"min_backoff_ms", "max_backoff_ms"},
                              [&](const std::string& on, const std::string& ofull, const YAML::Node& ok, const YAML::Node& ox) {
                                const auto ms = static_cast<std::uint32_t>(r.integer(ok, ox, ofull, 10, 3600000));
                                if (on == "min_backoff_ms") b.min_backoff_ms = ms; else b.max_backoff_ms = ms;
                              });
                 } else if (n == "outbound") {
                   read_bridge_rules(r, kk, x, full, b, true);
                 } else if (n == "inbound") {
                   read_bridge_rules(r, kk, x, full, b, false);
                 } else if (n == "tls") {
                   read_bridge_tls(r, kk, x, full, b.tls_options);
                   tls_node = kk;
                   have_tls = true;
                 }
               });
    if (b.name.empty()) r.fail(item.Mark(), prefix + ".name", "required key missing");
    if (have_tls && !b.tls) r.fail(tls_node.Mark(), prefix + ".tls", "only valid with amqps:// URIs");
    if (have_uris && b.tls && !have_tls)
      r.fail(uris_node.Mark(), prefix + ".tls", "amqps:// needs a tls block with ca_file (or verify: false)");
    if (b.upstreams.empty()) r.fail(item.Mark(), prefix + ".uris", "required key missing");
    for (const BridgeConfig& o : out)
      if (o.name == b.name) r.fail(item.Mark(), prefix + ".name", "duplicate bridge name '" + b.name + "'");
    out.push_back(std::move(b));
  }
}

void read_sys(const Reader& r, const YAML::Node& key, const YAML::Node& v, SysConfig& s) {
  r.expect_map(key, v, "sys");
  r.each_key(v, "sys", {"interval_s"},
             [&](const std::string&, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               s.interval_s = static_cast<std::uint32_t>(r.integer(k, x, full, 0, 86400));
             });
}

void read_log(const Reader& r, const YAML::Node& key, const YAML::Node& v, LogConfig& l) {
  r.expect_map(key, v, "log");
  r.each_key(v, "log", {"level"},
             [&](const std::string&, const std::string& full, const YAML::Node& k, const YAML::Node& x) {
               std::string s = r.string(k, x, full);
               if (!log::parse_level(s, l.level))
                 r.fail(x.Mark(), full, "must be one of error, warning, notice, info, debug (got '" + s + "')");
             });
}

}  // namespace

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

Config parse_config(std::string_view yaml, const std::string& source) {
  Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    r.fail(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "", std::string("YAML error: ") + e.what());
  }
  Config c;
  c.source = source;
  if (root.IsNull()) r.fail(YAML::Mark(), "listeners", "required key missing (the configuration is empty)");
  if (!root.IsMap())
    r.fail(root.Mark(), "", "expected a map of sections (listeners, store, limits, queues, stomp, auth, xmpp, bridges, sys, log), got " + Reader::describe(root));
  bool have_listeners = false;
  try {
    r.each_key(root, "", {"listeners", "store", "limits", "queues", "stomp", "auth", "xmpp", "bridges", "sys", "log"},
               [&](const std::string& name, const std::string&, const YAML::Node& k, const YAML::Node& v) {
                 if (name == "listeners") {
                   read_listeners(r, k, v, c);
                   have_listeners = true;
                 } else if (name == "store") {
                   read_store(r, k, v, c.store);
                 } else if (name == "limits") {
                   read_limits(r, k, v, c.limits);
                 } else if (name == "queues") {
                   read_queues(r, k, v, c.queues);
                 } else if (name == "stomp") {
                   read_stomp(r, k, v, c.stomp);
                 } else if (name == "auth") {
                   read_auth(r, k, v, c.auth);
                 } else if (name == "xmpp") {
                   read_xmpp(r, k, v, c.xmpp);
                 } else if (name == "bridges") {
                   read_bridges(r, k, v, c.bridges);
                 } else if (name == "sys") {
                   read_sys(r, k, v, c.sys);
                 } else if (name == "log") {
                   read_log(r, k, v, c.log);
                 }
               });
  } catch (const YAML::Exception& e) {  // should not happen: every access is checked
    r.fail(e.mark, "", std::string("YAML error: ") + e.what());
  }
  if (!have_listeners) r.fail(root.Mark(), "listeners", "required key missing");
  return c;
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  return parse_config(text.str(), path);
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative '*' matching with one backtrack point: linear for patterns
  // with a single '*', and never exponential.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const QueueConfig* match_queue_config(const std::vector<QueueConfig>& queues, std::string_view name) {
  for (const auto& q : queues) {
    if (glob_match(q.pattern, name)) return &q;
  }
  return nullptr;
}

std::vector<std::vector<std::size_t>> listener_groups(const std::vector<ListenerConfig>& listeners) {
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const ListenerConfig& l = listeners[i];
    bool joined = false;
    if ((l.transport == "ws" || l.transport == "wss") && l.port != 0) {
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

std::string_view default_config_text() { return detail::default_config_yaml; }

Config default_config() { return parse_config(detail::default_config_yaml, "<default>"); }

}  // namespace junction
