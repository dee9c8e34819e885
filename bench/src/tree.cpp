// junction::bench TreeLoader: connections, batched SUBSCRIBEs, idle hold.
#include "tree.h"

#include <algorithm>

#include "scenario.h"

namespace junction::bench {

TreeLoader::TreeLoader(const Options& o, Io& io, Listener& listener, std::string root, std::uint64_t count,
                       const std::string& id_prefix, std::uint64_t per_connection)
    : listener_(listener), qos_(o.qos), root_(std::move(root)), id_prefix_(id_prefix), count_(count) {
  const std::uint32_t n = connections_for(count, per_connection);
  conns_.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    Conn& c = conns_[i];
    c.client = std::make_unique<MqttClient>(io, *this, i, o.mqtt_version);
    c.next = i * per_connection;
    c.end = std::min<std::uint64_t>(count, c.next + per_connection);
    c.sent.assign(kWindow + 1, 0);
    for (std::uint16_t id = kWindow; id >= 1; --id) c.free_ids.push_back(id);
  }
}

std::uint32_t TreeLoader::connections_for(std::uint64_t count, std::uint64_t per_connection) {
  return static_cast<std::uint32_t>((count + per_connection - 1) / per_connection);
}

std::string TreeLoader::conn_name(const Client& c) const {
  return "extra subscription connection " + std::to_string(c.index());
}

int TreeLoader::start(const sockaddr* addr) {
  for (Conn& c : conns_) {
    const int rc = c.client->connect(addr, id_prefix_ + "-t" + std::to_string(c.client->index()));
    if (rc != 0) return rc;
  }
  return 0;
}

void TreeLoader::subscribe() {
  subscribing_ = true;
  for (Conn& c : conns_) send_batches(c);
}

// Fills the window with SUBSCRIBEs of consecutive filters; each packet
// stops at kBatchFilters filters or about kBatchBytes of them.
void TreeLoader::send_batches(Conn& c) {
  std::vector<std::string> batch;
  while (!c.free_ids.empty() && c.next < c.end) {
    batch.clear();
    std::size_t bytes = 0;
    while (c.next < c.end && batch.size() < kBatchFilters && bytes < kBatchBytes) {
      batch.push_back(tree_filter(root_, c.next++));
      bytes += batch.back().size() + 3;  // length prefix and options byte
    }
    const std::uint16_t id = c.free_ids.back();
    c.free_ids.pop_back();
    c.sent[id] = batch.size();
    c.pending += batch.size();
    c.client->subscribe_many(batch, qos_, id);
  }
}

void TreeLoader::close(bool graceful) {
  closing_ = true;
  for (Conn& c : conns_) {
    if (graceful) {
      c.client->disconnect();
    } else {
      c.client->abort();
    }
  }
}

void TreeLoader::fail(const Client& c, const std::string& why) {
  if (closing_ || failed_) return;
  failed_ = true;
  listener_.on_tree_failure(conn_name(c) + ": " + why);
}

void TreeLoader::on_ready(Client&) {
  if (closing_) return;
  if (++connected_ == conns_.size()) listener_.on_tree_connected();
}

void TreeLoader::on_subscribed(Client& client) {
  if (closing_) return;
  Conn& c = conns_[client.index()];
  MqttClient& m = *c.client;
  const std::uint16_t id = m.suback_id();
  if (id == 0 || id > kWindow || c.sent[id] == 0) {
    fail(client, "SUBACK for packet id " + std::to_string(id) + ", which is not in flight");
    return;
  }
  if (m.suback_codes() != c.sent[id]) {
    fail(client, "SUBACK for packet id " + std::to_string(id) + " has " + std::to_string(m.suback_codes()) +
                     " return codes for " + std::to_string(c.sent[id]) + " filters");
    return;
  }
  acknowledged_ += c.sent[id];
  c.pending -= c.sent[id];
  c.sent[id] = 0;
  c.free_ids.push_back(id);
  send_batches(c);
  if (c.next == c.end && c.pending == 0 && ++done_ == conns_.size()) listener_.on_tree_ready();
}

void TreeLoader::on_message(Client& c, Bytes) {
  fail(c, "received a message: one of its filters (under " + root_ +
              "/) matches a topic the run publishes, so the figures would include that delivery");
}

void TreeLoader::on_publish_ack(Client& c, std::uint16_t, bool, bool, bool) {
  fail(c, "acknowledgement of a publish it never sent");
}

void TreeLoader::on_failure(Client& c, const std::string& why) { fail(c, why); }

void TreeLoader::on_closed(Client&) {
  if (++closed_ == conns_.size()) listener_.on_tree_closed();
}

}  // namespace junction::bench
