// junction::bench TreeLoader — idle MQTT connections that hold a large
// subscription tree in the broker: --extra-subscriptions (engine.cpp) and
// the subscriptions of `state` (state.cpp).
//
// start() opens the connections (clean sessions, --mqtt-version) and
// reports on_tree_connected() once every CONNACK came; subscribe() then
// sends tree_filter(root, 0 .. count-1), each connection its own range of at
// most kPerConnection filters (the subscriptions of many clients, as a
// large tree is in practice; and a broker may well take a time quadratic in
// one session's subscription count: Junction took 9 s for 100,000 when
// this was written), in SUBSCRIBE packets of up to kBatchFilters
// filters (and well under 256 KiB: brokers bound a packet's size), with
// kWindow packets in flight per connection. on_tree_ready() follows the
// last SUBACK; a SUBACK must carry one return code per filter, none a
// failure. The connections then stay idle until close(): they hold filters
// that match nothing the run publishes, so a message reaching one is a
// failure (the figures would include deliveries to them).
//
// Runs on the caller's loop and Io: the caller flushes, and destroys the
// loader only after uv_run() has returned (as it does its own clients).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "mqtt_client.h"
#include "options.h"

namespace junction::bench {

class TreeLoader final : public ClientEvents {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_tree_connected() = 0;
    virtual void on_tree_ready() = 0;
    virtual void on_tree_failure(const std::string& why) = 0;
    virtual void on_tree_closed() = 0;  // every connection is closed
  };

  static constexpr std::uint64_t kPerConnection = 10000;
  static constexpr std::size_t kBatchFilters = 1000;
  static constexpr std::size_t kBatchBytes = 128 * 1024;
  static constexpr std::uint16_t kWindow = 8;

  // `count` filters under `root`, at most `per_connection` on each
  // connection; client ids `id_prefix`-t<n>.
  TreeLoader(const Options& o, Io& io, Listener& listener, std::string root, std::uint64_t count,
             const std::string& id_prefix, std::uint64_t per_connection = kPerConnection);

  // Connections needed for `count` filters.
  static std::uint32_t connections_for(std::uint64_t count, std::uint64_t per_connection = kPerConnection);

  // Returns 0 or the libuv error of the first connection that could not be opened.
  int start(const sockaddr* addr);
  void subscribe();
  // Graceful: DISCONNECT first; otherwise the sockets are just closed.
  void close(bool graceful);

  std::uint64_t count() const { return count_; }
  std::uint64_t acknowledged() const { return acknowledged_; }
  std::uint32_t connections() const { return static_cast<std::uint32_t>(conns_.size()); }
  bool closed() const { return closed_ == conns_.size(); }
  const std::string& root() const { return root_; }

 private:
  struct Conn {
    std::unique_ptr<MqttClient> client;
    std::uint64_t next = 0, end = 0;     // filters [next, end) still to send
    std::vector<std::uint16_t> free_ids;  // packet ids 1..kWindow not in flight
    std::vector<std::size_t> sent;        // filters in the SUBSCRIBE of each packet id
    std::uint64_t pending = 0;            // filters sent, not yet acknowledged
  };

  void on_ready(Client& c) override;
  void on_subscribed(Client& c) override;
  void on_message(Client& c, Bytes payload) override;
  void on_publish_ack(Client& c, std::uint16_t id, bool first, bool accepted, bool complete) override;
  void on_failure(Client& c, const std::string& why) override;
  void on_writable(Client&) override {}
  void on_closed(Client& c) override;

  void send_batches(Conn& c);
  void fail(const Client& c, const std::string& why);
  std::string conn_name(const Client& c) const;

  Listener& listener_;
  int qos_;
  std::string root_;
  std::string id_prefix_;
  std::uint64_t count_;
  std::vector<Conn> conns_;
  std::uint32_t connected_ = 0;
  std::uint32_t done_ = 0;  // connections whose every filter is acknowledged
  std::uint64_t acknowledged_ = 0;
  std::size_t closed_ = 0;
  bool subscribing_ = false;
  bool closing_ = false;
  bool failed_ = false;
};

}  // namespace junction::bench
