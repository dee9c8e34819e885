// junction::bench Client — one protocol connection of the generator (MQTT
// or STOMP) on top of a Stream, seen by the drivers through one interface:
// connect, subscribe, publish from a pre-encoded template, disconnect; and
// events back (ready, subscribed, message, publish acknowledged, failure).
//
// Everything a real client must do on its own (acknowledging deliveries:
// PUBACK, PUBREC/PUBREL/PUBCOMP, STOMP ACK) happens inside the client, in
// the same output buffer, so it leaves with the next gathered write.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "options.h"
#include "payload.h"
#include "stream.h"

namespace junction::bench {

class Client;

class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  virtual void on_ready(Client& c) = 0;       // session accepted (CONNACK 0 / CONNECTED)
  virtual void on_subscribed(Client& c) = 0;  // SUBACK granted / RECEIPT of the SUBSCRIBE
  // A delivery; the client has already queued its acknowledgement.
  virtual void on_message(Client& c, Bytes payload) = 0;
  // A publish acknowledgement. `first`: the broker's answer (PUBACK, PUBREC,
  // STOMP RECEIPT), with `accepted` false for an error reason code.
  // `complete`: the packet id is free again (PUBACK, PUBCOMP, rejection).
  virtual void on_publish_ack(Client& c, std::uint16_t id, bool first, bool accepted, bool complete) = 0;
  // Fatal for this connection (refused, protocol error, closed by the peer).
  virtual void on_failure(Client& c, const std::string& why) = 0;
  virtual void on_writable(Client& c) = 0;
  virtual void on_closed(Client& c) = 0;
};

class Client : protected Stream::Handler {
 public:
  Client(Io& io, ClientEvents& events, std::uint32_t index) : stream_(io, *this), events_(events), index_(index) {}
  ~Client() override = default;

  std::uint32_t index() const { return index_; }
  Stream& stream() { return stream_; }

  // TCP connect; the protocol's CONNECT goes out as soon as it succeeds.
  // `persistent`: ask for a session that outlives the connection (MQTT).
  int connect(const sockaddr* addr, std::string client_id, bool persistent = false) {
    client_id_ = std::move(client_id);
    persistent_ = persistent;
    return stream_.connect(addr);
  }
  virtual void subscribe(std::string_view filter, int qos) = 0;
  // Before connect(): the SUBSCRIBE leaves in the same write as CONNECT
  // (MQTT allows it); on_subscribed follows the SUBACK, and the driver does
  // not subscribe again on on_ready. Protocols that must wait return false.
  virtual bool subscribe_with_connect(std::string_view, int) { return false; }
  bool subscribed_with_connect() const { return !early_filter_.empty(); }
  // Encodes the publish once; append_publish() copies it and patches the
  // packet id and the payload stamp in place.
  virtual void prepare_publish(std::string_view topic, int qos, std::uint32_t payload_size) = 0;
  // Before prepare_publish: every publish carries a unique id in a user
  // property (x-dedup-id; MQTT 5 only, other protocols ignore it).
  virtual void use_dedup_ids(std::string_view /*property*/) {}
  virtual void append_publish(std::uint16_t id, const Stamp& stamp) = 0;
  virtual void disconnect() = 0;  // graceful: DISCONNECT, then close after the flush
  void abort() { stream_.close(); }
  void reset() { stream_.reset(); }
  // Unacknowledged publishes the broker accepts at once (MQTT 5 CONNACK
  // Receive Maximum); the publisher's window never exceeds it.
  virtual std::uint32_t send_quota() const { return 65535; }
  bool backed_up() const { return stream_.backed_up(); }

 protected:
  void on_writable() override { events_.on_writable(*this); }
  void on_closed() override { events_.on_closed(*this); }
  void on_disconnect(int status) override;
  static std::string uv_error(int status);
  // Reports a fatal error once and closes the connection.
  void failure(const std::string& why);

  Stream stream_;
  ClientEvents& events_;
  std::uint32_t index_;
  std::string client_id_;
  std::string early_filter_;  // subscribe_with_connect()
  int early_qos_ = 0;
  bool persistent_ = false;
  bool closing_ = false;  // our own disconnect: EOF is expected
  bool failed_ = false;
};

// Creates the client for o.protocol (and o.mqtt_version). Returns null with
// `why` set when the protocol is not available (kept for builds without one).
std::unique_ptr<Client> make_client(const Options& o, Io& io, ClientEvents& events, std::uint32_t index,
                                    std::string& why);

}  // namespace junction::bench
