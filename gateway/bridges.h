// The configured upstream bridges (config `bridges:`), each an
// amqp::AmqpBridge (the ProtocolFactory, owning state across reconnects)
// driven by a net::Connector (one outbound TCP connection with back-off and
// failover). Part of the composition root: it knows config, net and amqp.
#pragma once

#include <memory>
#include <vector>

#include "amqp_bridge.h"
#include "config.h"
#include "connector.h"

namespace junction {

class Bridges {
 public:
  Bridges(net::Loop& loop, core::Broker& broker, const Config& cfg);
  ~Bridges();
  void start();     // after Broker::restore()
  void tick();      // once a second
  void shutdown();  // stop reconnecting and close the upstream connections
  std::size_t size() const { return bridges_.size(); }

 private:
  std::vector<std::unique_ptr<amqp::AmqpBridge>> bridges_;
  std::vector<std::unique_ptr<net::Connector>> connectors_;  // after bridges_: destroyed first
};

// "<host name>:<absolute store path>": distinct for every node, stable across restarts.
std::string default_node_id(const StoreConfig& store);

}  // namespace junction
