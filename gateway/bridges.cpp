#include "bridges.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "log.h"

namespace junction {

namespace {

amqp::BridgeOptions bridge_options(const BridgeConfig& bc, const Config& cfg) {
  amqp::BridgeOptions o;
  o.name = bc.name;
  o.node_id = bc.node_id.empty() ? default_node_id(cfg.store) : bc.node_id;
  for (const std::string& text : bc.uris) {
    std::string err;
    if (auto u = amqp::parse_amqp_uri(text, err)) o.upstreams.push_back(*u);  // validated by the config
  }
  auto declare = [&](const std::string& exchange) {
    // The default exchange and amq.* exist already and cannot be declared.
    if (exchange.empty() || exchange.rfind("amq.", 0) == 0) return;
    for (const auto& x : o.exchanges)
      if (x.name == exchange) return;
    o.exchanges.push_back(amqp::ExchangeDecl{exchange, "topic", true});
  };
  for (const BridgeOutboundConfig& r : bc.outbound) {
    o.outbound.push_back(amqp::OutboundRule{r.filter, r.exchange, r.routing_key, r.qos, r.mandatory});
    declare(r.exchange);
  }
  for (const BridgeInboundConfig& r : bc.inbound) {
    o.inbound.push_back(amqp::InboundRule{r.queue, r.exchange, r.binding_key, r.topic_prefix, r.local_queue, r.qos});
    declare(r.exchange);
  }
  o.heartbeat_s = bc.heartbeat;
  o.prefetch = bc.prefetch;
  o.max_unconfirmed = bc.max_unconfirmed;
  o.outbox_max = bc.outbox_max_messages;
  o.outbox_drop_oldest = bc.outbox_drop_oldest;
  o.max_message_size = cfg.limits.max_packet_size;
  return o;
}

// amqps://: one client TLS context per bridge, shared by its connections.
// Throws std::runtime_error (unreadable file, bad key) at start-up.
std::shared_ptr<const net::TransportSpec> client_transport(const BridgeConfig& bc) {
  if (!bc.tls) return nullptr;
  net::TlsSettings s;
  s.ca_file = bc.tls_options.ca_file;
  s.cert_file = bc.tls_options.cert_file;
  s.key_file = bc.tls_options.key_file;
  s.verify_peer = bc.tls_options.verify;
  auto spec = std::make_shared<net::TransportSpec>();
  spec->kind = net::TransportKind::Tls;
  try {
    spec->tls = std::make_shared<const net::TlsContext>(net::TlsContext::Role::Client, s);
  } catch (const std::exception& e) {
    throw std::runtime_error("bridge " + bc.name + ": " + e.what());
  }
  return spec;
}

}  // namespace

std::string default_node_id(const StoreConfig& store) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(store.path, ec), ec);
  return std::string(host) + ":" + (ec ? store.path : p.string());
}

Bridges::Bridges(net::Loop& loop, core::Broker& broker, const Config& cfg) {
  for (const BridgeConfig& bc : cfg.bridges) {
    bridges_.push_back(std::make_unique<amqp::AmqpBridge>(broker, bridge_options(bc, cfg)));
    net::ConnectorSpec spec;
    spec.name = "bridge " + bc.name;
    for (const std::string& text : bc.uris) {
      std::string err;
      if (auto u = amqp::parse_amqp_uri(text, err)) spec.endpoints.push_back(net::Endpoint{u->host, u->port});
    }
    spec.transport = client_transport(bc);
    spec.server_name = bc.tls_options.server_name;
    spec.min_backoff_ms = bc.min_backoff_ms;
    spec.max_backoff_ms = std::max(bc.min_backoff_ms, bc.max_backoff_ms);
    connectors_.push_back(std::make_unique<net::Connector>(loop, spec, *bridges_.back()));
    net::Connector* c = connectors_.back().get();
    bridges_.back()->set_endpoint_probe([c] { return std::make_pair(c->endpoint().host, c->endpoint().port); });
  }
}

Bridges::~Bridges() = default;

void Bridges::start() {
  for (auto& b : bridges_) b->start();
  for (auto& c : connectors_) c->start();
}

void Bridges::tick() {
  for (auto& b : bridges_) b->tick();
}

void Bridges::shutdown() {
  for (auto& c : connectors_) c->stop();
}

}  // namespace junction
