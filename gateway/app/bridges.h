// junction::app bridges — every link to another messaging system, one shape.
//
// A Bridge is a protocol's bridge object (amqp::AmqpBridge, xmpp::XmppBridge:
// the ProtocolFactory that owns state across reconnects) driven by a
// net::Connector (one outbound connection, back-off, failover). BridgeSet
// builds them from the configuration (`bridges:` for AMQP upstreams, `xmpp:`
// for the XMPP component), ticks them, reports their status, applies a
// reloaded configuration (added ones start, removed ones stop cleanly,
// changed ones restart, unchanged ones are not touched) and stops them at
// shutdown.
//
// Stopping a bridge is two steps: stop() closes its connection (politely
// where the protocol has a goodbye) and stops reconnecting; the object may be
// destroyed once stopped() says its connection is gone (its handler refers
// to the bridge until then). BridgeSet keeps a removed bridge until then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker.h"
#include "config.h"
#include "loop.h"

namespace junction::app {

struct BridgeStatus {
  std::string name;       // "amqp:<name>" or "xmpp"
  const char* state = "";  // "connecting", "up", "stopping", "stopped"
  std::string endpoint;   // host:port of the current (or next) attempt
  std::string last_error; // empty while up
  std::size_t outbox = 0; // messages waiting to go out (AMQP outbox, XMPP offline deliveries)
  std::size_t confirms_pending = 0;  // sent upstream, not confirmed yet (AMQP publisher confirms)
  std::uint64_t attempts = 0;  // connection attempts so far (this bridge object)
  std::int64_t started_ms = 0; // when this bridge object started (loop clock): a restart changes it
};

class Bridge {
 public:
  virtual ~Bridge() = default;
  const std::string& name() const { return name_; }
  // After Broker::restore(): resumes the bridge's session, then connects.
  virtual void start() = 0;
  virtual void tick() {}  // once a second
  // While stopping: called often (every 20 ms at shutdown), to finish the stop.
  virtual void poll() {}
  // Closes the connection and stops reconnecting.
  virtual void stop() = 0;
  // The connection is gone after stop(): the object may be destroyed.
  virtual bool stopped() const = 0;
  virtual BridgeStatus status() const = 0;
  // True when `cfg` asks for exactly this bridge (a reload leaves it alone).
  virtual bool same_config(const Config& cfg) const = 0;

  std::int64_t started_ms() const { return started_ms_; }
  void set_started(std::int64_t now_ms) { started_ms_ = now_ms; }

 protected:
  explicit Bridge(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
  std::int64_t started_ms_ = 0;
};

class BridgeSet {
 public:
  BridgeSet(net::Loop& loop, core::Broker& broker);
  ~BridgeSet();
  BridgeSet(const BridgeSet&) = delete;
  BridgeSet& operator=(const BridgeSet&) = delete;

  // Builds and starts the bridges `cfg` asks for. Throws std::runtime_error
  // (a TLS file that does not load) before starting any.
  void start(const Config& cfg);
  // SIGHUP with a new configuration: see the file comment. A bridge that
  // cannot be built (bad TLS file) is logged and left out; the others apply.
  void reload(const Config& cfg);
  void tick();
  // Shutdown: every bridge stops; poll() until stopped().
  void stop();
  void poll();
  // Every bridge is stopped (shutdown may finish).
  bool stopped() const;

  std::vector<BridgeStatus> status() const;
  std::size_t size() const { return live_.size(); }

 private:
  std::vector<std::unique_ptr<Bridge>> build(const Config& cfg);
  std::unique_ptr<Bridge> build_one(const Config& cfg, const std::string& name);
  void start_pending();
  void reap();

  net::Loop& loop_;
  core::Broker& broker_;
  std::vector<std::unique_ptr<Bridge>> live_;
  std::vector<std::unique_ptr<Bridge>> retiring_;  // stopping; destroyed once stopped()
  Config pending_;                                  // the reloaded configuration, for pending_names_
  std::vector<std::string> pending_names_;          // to start once their old version is gone
};

// "<host name>:<absolute store path>": distinct for every node, stable across restarts.
std::string default_node_id(const StoreConfig& store);

}  // namespace junction::app
