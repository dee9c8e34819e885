// The contract between the transport (gateway/net) and a protocol front-end
// (protocols/*). The net layer implements ConnectionSink; each protocol
// implements ProtocolHandler (one per connection) and ProtocolFactory (one per
// listener). Neither side sees the other's types: net never includes a
// protocol, protocols never include uv.h.
//
// Threading: everything here runs on the loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace junction::core {

struct ConnectionInfo {
  std::string peer_address;   // numeric, e.g. "127.0.0.1" or "::1"
  // Listener (or connector) name, e.g. "mqtt/tcp 127.0.0.1:1883"; the
  // bytes live as long as the loop (one copy per listener, not per
  // connection: 10,000 idle clients) and are NUL-terminated.
  std::string_view listener;
  // Filled by the transport stack (gateway/net) for tls/wss listeners:
  // "tcp", "tls", "ws" or "wss".
  const char* transport = "tcp";
  // The verified client certificate's subject CN (or first SAN when the CN
  // is absent); empty without a verified client certificate.
  std::string cert_identity;
  std::uint16_t peer_port = 0;
  bool loopback = false;      // peer is 127.0.0.0/8 or ::1
  // The listener says `use_identity_as_username: true`: the front-end takes
  // cert_identity as the user name and asks for no password.
  bool identity_is_username = false;
  // (Members ordered largest first: one of these sits in every connection.)
};

// Transport side of one connection.
class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;
  // Appends bytes to the outbound buffer. Nothing is written to the socket
  // before the end of the loop iteration (one writev per connection).
  virtual void write(std::string_view bytes) = 0;
  // Bytes queued and not yet accepted by the kernel.
  virtual std::size_t queued_bytes() const = 0;
  // Flushes what is queued, then closes. The handler gets on_closed().
  virtual void close_after_flush() = 0;
  // Closes now, dropping queued output. The handler gets on_closed().
  virtual void abort() = 0;
  // Back-pressure on the publisher: stop / resume reading from the socket.
  virtual void pause_reading(bool paused) = 0;
  virtual const ConnectionInfo& info() const = 0;
};

// Protocol side of one connection.
class ProtocolHandler {
 public:
  virtual ~ProtocolHandler() = default;
  // Consumes whole frames from `data` and returns how many bytes it used;
  // the transport keeps the rest and presents it again, followed by new
  // bytes, on the next call. Must not retain pointers into `data`.
  virtual std::size_t on_bytes(std::span<const std::uint8_t> data) = 0;
  // The transport is gone (peer closed, error, or after close/abort). The
  // handler must not touch the sink after this; it is destroyed right after.
  virtual void on_closed() = 0;
  // About once a second: keep-alive, timeouts. `now_ms` is monotonic.
  virtual void on_tick(std::int64_t now_ms) = 0;
  // The outbound buffer drained below the low-water mark after having been
  // above the high-water mark (resume deliveries held back).
  virtual void on_drained() {}
};

// One per configured listener protocol (or outbound connection): makes the
// handler of each new connection, and is what the composition root holds
// in one list whatever the protocol.
class ProtocolFactory {
 public:
  struct Counters {
    std::size_t connections = 0;     // live handlers
    std::uint64_t rate_limited = 0;  // times a client's input was paused by limits.max_publish_rate
  };

  virtual ~ProtocolFactory() = default;
  virtual std::unique_ptr<ProtocolHandler> create(ConnectionSink& sink) = 0;
  virtual const char* protocol_name() const = 0;
  // The broker is stopping: every connection is told so in its protocol's
  // way and closed once its output is flushed.
  virtual void shutdown() {}
  virtual Counters counters() const { return {}; }
};

}  // namespace junction::core
