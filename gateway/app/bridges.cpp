#include "bridges.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "amqp_bridge.h"
#include "connector.h"
#include "log.h"
#include "tls_files.h"
#include "xmpp_bridge.h"

namespace junction::app {

namespace {

amqp::BridgeOptions bridge_options(const BridgeConfig& bc, const Config& cfg) {
  amqp::BridgeOptions o;
  o.name = bc.name;
  o.node_id = bc.node_id.empty() ? default_node_id(cfg.store) : bc.node_id;
  o.upstreams = bc.upstreams;
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
  o.dedup = bc.dedup;
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
    spec->tls = load_tls_context(net::TlsContext::Role::Client, s);
  } catch (const std::exception& e) {
    throw std::runtime_error("bridge " + bc.name + ": " + e.what());
  }
  return spec;
}


xmpp::XmppOptions xmpp_options(const XmppConfig& x) {
  xmpp::XmppOptions o;
  o.component = x.component;
  o.secret = x.secret;
  o.scope = x.scope;
  o.qos = x.qos;
  o.retain_pubsub = x.retain_pubsub;
  o.offline_limit = x.offline_limit;
  o.limits.max_stanza_bytes = x.max_stanza_size;
  return o;
}

std::string where(const net::Endpoint& e) { return e.host + ":" + std::to_string(e.port); }

const char* connector_state(const net::Connector& c, bool protocol_up) {
  if (c.connected()) return protocol_up ? "up" : "connecting";
  return c.running() ? "connecting" : "stopped";
}

// An upstream AMQP 0-9-1 broker (`bridges:` entry): amqp::AmqpBridge on a
// net::Connector.
class AmqpLink final : public Bridge {
 public:
  AmqpLink(net::Loop& loop, core::Broker& broker, const BridgeConfig& bc, const Config& cfg)
      : Bridge("amqp:" + bc.name), config_(bc), max_packet_size_(cfg.limits.max_packet_size) {
    bridge_ = std::make_unique<amqp::AmqpBridge>(broker, bridge_options(bc, cfg));
    net::ConnectorSpec spec;
    spec.name = "bridge " + bc.name;
    for (const amqp::AmqpUri& u : bc.upstreams) spec.endpoints.push_back(net::Endpoint{u.host, u.port});
    spec.transport = client_transport(bc);
    spec.server_name = bc.tls_options.server_name;
    spec.min_backoff_ms = bc.min_backoff_ms;
    spec.max_backoff_ms = std::max(bc.min_backoff_ms, bc.max_backoff_ms);
    connector_ = std::make_unique<net::Connector>(loop, spec, *bridge_);
    net::Connector* c = connector_.get();
    bridge_->set_endpoint_probe([c] { return std::make_pair(c->endpoint().host, c->endpoint().port); });
  }
  ~AmqpLink() override { connector_.reset(); }  // before the bridge it drives

  void start() override {
    bridge_->start();
    connector_->start();
  }
  void tick() override { bridge_->tick(); }
  void stop() override {
    stopping_ = true;
    connector_->stop();
  }
  bool stopped() const override { return connector_->idle(); }
  BridgeStatus status() const override {
    BridgeStatus s;
    s.name = name();
    s.state = stopping_ ? (stopped() ? "stopped" : "stopping") : connector_state(*connector_, bridge_->connected());
    s.endpoint = where(connector_->endpoint());
    s.last_error = bridge_->connected() ? std::string() : connector_->last_error();
    if (s.last_error.empty() && !bridge_->connected()) s.last_error = bridge_->last_error();
    s.outbox = bridge_->outbox_depth();
    s.confirms_pending = bridge_->confirms_pending();
    s.attempts = connector_->attempts();
    s.started_ms = started_ms();
    return s;
  }
  bool same_config(const Config& cfg) const override {
    if (cfg.limits.max_packet_size != max_packet_size_) return false;
    for (const BridgeConfig& bc : cfg.bridges)
      if (bc.name == config_.name) return bc == config_;
    return false;
  }

 private:
  BridgeConfig config_;
  std::uint32_t max_packet_size_;
  std::unique_ptr<amqp::AmqpBridge> bridge_;
  std::unique_ptr<net::Connector> connector_;  // drives bridge_
  bool stopping_ = false;
};

// The XMPP server (`xmpp:` section): xmpp::XmppBridge as a component on a
// net::Connector. Its goodbye is </stream:stream>; the connector stops once
// the server closed the stream, or after kStopGraceMs.
class XmppLink final : public Bridge {
 public:
  static constexpr std::int64_t kStopGraceMs = 2000;

  XmppLink(net::Loop& loop, core::Broker& broker, const XmppConfig& x) : Bridge("xmpp"), loop_(loop), config_(x) {
    config_.line = 0;
    bridge_ = std::make_unique<xmpp::XmppBridge>(broker, xmpp_options(x));
    net::ConnectorSpec spec;
    spec.endpoints.push_back(net::Endpoint{x.host, x.port});
    spec.name = "xmpp " + x.component;
    connector_ = std::make_unique<net::Connector>(loop, spec, *bridge_);
  }
  ~XmppLink() override { connector_.reset(); }

  void start() override {
    connector_->start();
    log::notice("xmpp bridge: component %s via %s:%u", config_.component.c_str(), config_.host.c_str(),
                unsigned(config_.port));
  }
  void poll() override {
    if (stopping_ && connector_->running() &&
        (!connector_->connected() || loop_.now_ms() - stop_ms_ >= kStopGraceMs)) {
      connector_->stop();
    }
  }
  void stop() override {
    if (stopping_) return;
    stopping_ = true;
    stop_ms_ = loop_.now_ms();
    bridge_->shutdown();
    poll();
  }
  bool stopped() const override { return connector_->idle(); }
  BridgeStatus status() const override {
    BridgeStatus s;
    s.name = name();
    s.state = stopping_ ? (stopped() ? "stopped" : "stopping") : connector_state(*connector_, bridge_->online());
    s.endpoint = where(connector_->endpoint());
    s.last_error = bridge_->online() ? std::string() : connector_->last_error();
    s.outbox = bridge_->offline_depth();
    s.attempts = connector_->attempts();
    s.started_ms = started_ms();
    return s;
  }
  bool same_config(const Config& cfg) const override {
    XmppConfig x = cfg.xmpp;
    x.line = 0;
    return x.enabled && x == config_;
  }

 private:
  net::Loop& loop_;
  XmppConfig config_;
  std::unique_ptr<xmpp::XmppBridge> bridge_;
  std::unique_ptr<net::Connector> connector_;  // drives bridge_
  bool stopping_ = false;
  std::int64_t stop_ms_ = 0;
};

std::vector<std::string> wanted_names(const Config& cfg) {
  std::vector<std::string> names;
  for (const BridgeConfig& bc : cfg.bridges) names.push_back("amqp:" + bc.name);
  if (cfg.xmpp.enabled) names.push_back("xmpp");
  return names;
}

}  // namespace

std::string default_node_id(const StoreConfig& store) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(store.path, ec), ec);
  return std::string(host) + ":" + (ec ? store.path : p.string());
}


BridgeSet::BridgeSet(net::Loop& loop, core::Broker& broker) : loop_(loop), broker_(broker) {}

BridgeSet::~BridgeSet() = default;

std::unique_ptr<Bridge> BridgeSet::build_one(const Config& cfg, const std::string& name) {
  if (name == "xmpp") return std::make_unique<XmppLink>(loop_, broker_, cfg.xmpp);
  for (const BridgeConfig& bc : cfg.bridges)
    if ("amqp:" + bc.name == name) return std::make_unique<AmqpLink>(loop_, broker_, bc, cfg);
  return nullptr;
}

std::vector<std::unique_ptr<Bridge>> BridgeSet::build(const Config& cfg) {
  std::vector<std::unique_ptr<Bridge>> out;
  for (const std::string& name : wanted_names(cfg)) out.push_back(build_one(cfg, name));
  return out;
}

void BridgeSet::start(const Config& cfg) {
  live_ = build(cfg);
  for (auto& b : live_) {
    b->set_started(loop_.now_ms());
    b->start();
  }
}

void BridgeSet::reload(const Config& cfg) {
  const std::vector<std::string> wanted = wanted_names(cfg);
  auto is_wanted = [&](const std::string& n) { return std::find(wanted.begin(), wanted.end(), n) != wanted.end(); };
  for (auto it = live_.begin(); it != live_.end();) {
    Bridge& b = **it;
    if (is_wanted(b.name()) && b.same_config(cfg)) {
      ++it;
      continue;
    }
    log::notice("SIGHUP: bridge %s %s; stopping it", b.name().c_str(), is_wanted(b.name()) ? "changed" : "removed");
    b.stop();
    retiring_.push_back(std::move(*it));
    it = live_.erase(it);
  }
  pending_ = cfg;
  pending_names_.clear();
  for (const std::string& n : wanted) {
    bool running = false;
    for (const auto& b : live_) running |= b->name() == n;
    if (!running) pending_names_.push_back(n);
  }
  start_pending();
}

// New and changed bridges start once no retiring bridge of the same name is
// left: the old one's session and connection must be gone first.
void BridgeSet::start_pending() {
  for (auto it = pending_names_.begin(); it != pending_names_.end();) {
    bool blocked = false;
    for (const auto& r : retiring_) blocked |= r->name() == *it;
    if (blocked) {
      ++it;
      continue;
    }
    try {
      std::unique_ptr<Bridge> b = build_one(pending_, *it);
      b->set_started(loop_.now_ms());
      b->start();
      log::notice("SIGHUP: bridge %s started", it->c_str());
      live_.push_back(std::move(b));
    } catch (const std::exception& e) {
      log::error("SIGHUP: bridge %s: %s; not started", it->c_str(), e.what());
    }
    it = pending_names_.erase(it);
  }
}

void BridgeSet::reap() {
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if ((*it)->stopped()) {
      log::notice("bridge %s stopped", (*it)->name().c_str());
      it = retiring_.erase(it);
    } else {
      (*it)->poll();
      ++it;
    }
  }
}

void BridgeSet::tick() {
  for (auto& b : live_) b->tick();
  reap();
  if (!pending_names_.empty()) start_pending();
}

void BridgeSet::stop() {
  pending_names_.clear();
  for (auto& b : live_) b->stop();
  for (auto& b : live_) retiring_.push_back(std::move(b));
  live_.clear();
}

void BridgeSet::poll() { reap(); }

bool BridgeSet::stopped() const {
  for (const auto& b : retiring_)
    if (!b->stopped()) return false;
  return live_.empty();
}

std::vector<BridgeStatus> BridgeSet::status() const {
  std::vector<BridgeStatus> out;
  for (const auto& b : live_) out.push_back(b->status());
  for (const auto& b : retiring_) out.push_back(b->status());
  return out;
}

}  // namespace junction::app
