// The bridges to other brokers: xmpp: (the XEP-0114 component) and
// bridges: (AMQP 0-9-1 upstreams, with outbox:, reconnect:, tls: and their
// outbound and inbound rules).
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config_sections.h"

namespace junction::config_binder {

namespace {

// A topic filter as the core accepts it: `+` and `#` fill whole levels, `#` last.
std::string topic_filter(const std::string& f) {
  bool ok = !f.empty();
  for (std::size_t i = 0; ok && i < f.size(); ++i) {
    if (f[i] != '+' && f[i] != '#') continue;
    if (i > 0 && f[i - 1] != '/') ok = false;
    if (i + 1 < f.size() && (f[i] == '#' || f[i + 1] != '/')) ok = false;
  }
  return ok ? "" : "not a topic filter";
}

void check_xmpp(const Section& s, XmppConfig& x) {
  if (!x.secret_file.empty()) {
    const YAML::Mark at = s.value_mark("secret_file");
    if (!x.secret.empty()) s.fail(at, "secret_file", "give secret or secret_file, not both");
    std::ifstream in(x.secret_file, std::ios::binary);
    if (!in) s.fail(at, "secret_file", "cannot open " + x.secret_file + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    x.secret = text.str();
    while (!x.secret.empty() && (x.secret.back() == '\n' || x.secret.back() == '\r')) x.secret.pop_back();
  }
  if (!x.enabled) return;
  if (x.component.empty()) s.fail(s.own_key_mark(), "component", "required when the bridge is enabled");
  if (x.secret.empty()) s.fail(s.own_key_mark(), "secret", "required when the bridge is enabled (or secret_file)");
}

std::string bridge_name(const std::string& name) {
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return "letters, digits, '-', '_' and '.' only";
  return "";
}

// uris: the failover list, parsed once; all amqp:// or all amqps://.
void read_uris(const Field& f, BridgeConfig& b) {
  if (!f.value.IsSequence() || f.value.size() == 0) f.fail("expected a non-empty list of amqp:// URIs");
  for (std::size_t j = 0; j < f.value.size(); ++j) {
    const Field item = f.at(j);
    std::string err;
    auto parsed = amqp::parse_amqp_uri(item.string(), err);
    if (!parsed) item.fail(err);
    // One connector, one transport: a failover list is all amqp or all amqps.
    if (j == 0) b.tls = parsed->tls;
    else if (parsed->tls != b.tls) item.fail("mixes amqp:// and amqps:// in one bridge");
    b.upstreams.push_back(std::move(*parsed));
  }
}

Binder<BridgeOutboundConfig> outbound_binder() {
  using O = BridgeOutboundConfig;
  return Binder<O>()
      .string("filter", &O::filter)
      .string("exchange", &O::exchange)
      .string("routing_key", &O::routing_key)
      .integer("qos", &O::qos, 0, 1)
      .boolean("mandatory", &O::mandatory)
      .check([](const Section& s, O& o) {
        if (o.filter.empty()) s.fail(s.map_mark(), "filter", "required key missing");
        if (o.routing_key.empty() || o.routing_key.size() > 255)
          s.fail(s.map_mark(), "routing_key", "must be 1..255 characters");
      });
}

Binder<BridgeInboundConfig> inbound_binder() {
  using I = BridgeInboundConfig;
  return Binder<I>()
      .string("queue", &I::queue)
      .string("exchange", &I::exchange)
      .string("binding_key", &I::binding_key)
      .string("topic_prefix", &I::topic_prefix)
      .string("local_queue", &I::local_queue)
      .integer("qos", &I::qos, 0, 1)
      .check([](const Section& s, I& in) {
        if (in.queue.empty() && in.exchange.empty())
          s.fail(s.map_mark(), "", "needs a queue, or an exchange with a binding_key");
        if (!in.exchange.empty() && in.binding_key.empty()) s.fail(s.map_mark(), "binding_key", "required with exchange");
        if (in.queue.size() > 255 || in.exchange.size() > 255 || in.binding_key.size() > 255)
          s.fail(s.map_mark(), "", "queue, exchange and binding_key are at most 255 characters");
      });
}

Binder<BridgeTlsConfig> bridge_tls_binder() {
  using T = BridgeTlsConfig;
  return Binder<T>()
      .string("ca_file", &T::ca_file, not_empty)
      .string("cert_file", &T::cert_file, not_empty)
      .string("key_file", &T::key_file, not_empty)
      .string("server_name", &T::server_name, not_empty)
      .boolean("verify", &T::verify)
      .check([](const Section& s, T& t) {
        if (t.verify && t.ca_file.empty()) s.fail(s.map_mark(), "ca_file", "required to verify the server (or verify: false)");
        if (t.cert_file.empty() != t.key_file.empty())
          s.fail(s.map_mark(), t.cert_file.empty() ? "cert_file" : "key_file", "cert_file and key_file go together");
      });
}

void check_bridge(const Section& s, BridgeConfig& b) {
  if (b.name.empty()) s.fail(s.map_mark(), "name", "required key missing");
  if (s.has("tls") && !b.tls) s.fail(s.key_mark("tls"), "tls", "only valid with amqps:// URIs");
  if (s.has("uris") && b.tls && !s.has("tls"))
    s.fail(s.key_mark("uris"), "tls", "amqps:// needs a tls block with ca_file (or verify: false)");
  if (b.upstreams.empty()) s.fail(s.map_mark(), "uris", "required key missing");
  if (b.outbox_drop_oldest && b.outbox_max_messages == 0)
    s.fail(s.key_mark("outbox"), "outbox.overflow", "drop-oldest needs outbox.max_messages (the default is no limit)");
}

const Binder<BridgeConfig>& bridge_binder() {
  using B = BridgeConfig;
  static const Binder<B> binder =
      Binder<B>()
          .string("name", &B::name, bridge_name)
          .custom("uris", read_uris)
          .string("node_id", &B::node_id)
          .integer("heartbeat", &B::heartbeat, 0, 3600)
          .integer("prefetch", &B::prefetch, 1, 65535)
          .integer("max_unconfirmed", &B::max_unconfirmed, 1, 65535)
          .boolean("dedup", &B::dedup)
          .map("outbox", Binder<B>()
                             .integer("max_messages", &B::outbox_max_messages, 0, 0xFFFFFFFFu)
                             .choice("overflow", &B::outbox_drop_oldest, Choices<bool>{{"reject", false}, {"drop-oldest", true}}))
          .map("reconnect", Binder<B>()
                                .integer("min_backoff_ms", &B::min_backoff_ms, 10, 3600000)
                                .integer("max_backoff_ms", &B::max_backoff_ms, 10, 3600000))
          .list("outbound", &B::outbound, outbound_binder())
          .list("inbound", &B::inbound, inbound_binder())
          .map("tls", &B::tls_options, bridge_tls_binder())
          .check(check_bridge);
  return binder;
}

}  // namespace

const Binder<XmppConfig>& xmpp_binder() {
  using X = XmppConfig;
  static const Binder<X> binder = Binder<X>()
                                      .boolean("enabled", &X::enabled)
                                      .string("host", &X::host)
                                      .integer("port", &X::port, 1, 65535)
                                      .string("component", &X::component)
                                      .string("secret", &X::secret)
                                      .string("secret_file", &X::secret_file)
                                      .strings("scope", &X::scope, topic_filter)
                                      .integer("qos", &X::qos, 0, 2)
                                      .boolean("retain_pubsub", &X::retain_pubsub)
                                      .integer("offline_limit", &X::offline_limit, 1, 10000000)
                                      .integer("max_stanza_size", &X::max_stanza_size, 1024, 268435456)
                                      .line(&X::line)
                                      .check(check_xmpp);
  return binder;
}

// Null (`bridges:` with nothing) is no bridges; names are unique.
void read_bridges(const Field& f, Config& c) {
  if (f.value.IsNull()) return;
  bridge_binder().read_list(f, [&](BridgeConfig&& b, const Field& item) {
    for (const BridgeConfig& o : c.bridges)
      if (o.name == b.name) f.reader->fail(item.value.Mark(), item.key + ".name", "duplicate bridge name '" + b.name + "'");
    c.bridges.push_back(std::move(b));
  });
}

}  // namespace junction::config_binder
