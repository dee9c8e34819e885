// junction::net::Connector — keeps one outbound TCP connection up for a
// bridge (AMQP upstream, XMPP server): the client-side twin of Listener.
//
// Each successful connect gets a fresh ProtocolHandler from the factory,
// with the same ConnectionSink contract as accepted connections (gathered
// writes, 1 s on_tick, back-pressure). When the connection closes for any
// reason, or an attempt fails (name resolution, refused, connect timeout),
// the next attempt waits an exponential back-off with jitter: the n-th
// consecutive failure waits a random time in [d/2, d], d = min(max_backoff,
// min_backoff * 2^n), so a fleet of gateways does not reconnect in step.
// Attempts rotate through the endpoints (a failover list). A connection that
// stayed up healthy_after_ms resets the back-off: a server that accepts and
// then refuses the handshake keeps backing off. With spec.transport the
// connection is TLS (amqps://): the handshake comes first, and its failure
// is logged with mbedTLS's reason and retried like a refused connect.
//
// Errors are logged here (once per change of the error text at info, then
// at debug) and kept in last_error(); never thrown after construction.
//
// Ownership like Listener: the caller owns the Connector, which must not
// outlive its Loop; Loop::stop() stops it. The handler a connection got is
// destroyed with that connection, as for accepted ones.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connection_owner.h"
#include "frontend.h"
#include "loop.h"
#include "transport.h"

struct addrinfo;
struct sockaddr;

namespace junction::net {

struct Endpoint {
  std::string host;  // IP literal or a name (resolved on every attempt)
  std::uint16_t port = 0;
};

struct ConnectorSpec {
  std::vector<Endpoint> endpoints;  // at least one
  std::string name;                 // for logs, e.g. "bridge upstream"
  std::uint32_t min_backoff_ms = 500;
  std::uint32_t max_backoff_ms = 30000;
  std::uint32_t connect_timeout_ms = 10000;  // resolve + TCP connect
  std::uint32_t healthy_after_ms = 10000;
  std::uint32_t high_water = 64 * 1024;  // see ProtocolHandler::on_drained
  std::uint32_t low_water = 16 * 1024;
  // Client TLS (kind tls, a client-role TlsContext), or null for plain TCP.
  // The handshake runs before the handler is created; one that fails
  // (untrusted certificate, wrong name) counts as a failed attempt.
  std::shared_ptr<const TransportSpec> transport;
  // Sent as SNI and checked against the server certificate; "" = the
  // endpoint's host. mbedTLS 2.28 matches DNS names only, not IP SANs.
  std::string server_name;
};

class Connector final : private detail::Closable, public ConnectionOwner {
 public:
  // Throws std::invalid_argument on a spec without endpoints.
  Connector(Loop& loop, ConnectorSpec spec, core::ProtocolFactory& factory);
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // Connects now (or keeps the connection it has). Idempotent.
  void start();
  // Aborts the connection or attempt and stops reconnecting; the handler
  // gets on_closed(). start() may be called again later.
  void stop() noexcept;

  bool running() const noexcept { return running_; }
  // The TCP connection is up (the handler exists; its own handshake may
  // still be under way).
  bool connected() const noexcept;
  // Nothing under way: no connection (its handler destroyed), no attempt,
  // no retry pending. After stop(), the factory may be destroyed once idle.
  bool idle() const noexcept;
  const Endpoint& endpoint() const noexcept { return spec_.endpoints[index_]; }
  // Empty while a connection is up (for TLS: once its handshake is done).
  const std::string& last_error() const noexcept;
  std::uint64_t attempts() const noexcept { return attempts_; }
  std::uint64_t connects() const noexcept { return connects_; }
  // Delay chosen for the pending retry, 0 when none is pending (tests).
  std::uint64_t pending_backoff_ms() const noexcept { return pending_backoff_ms_; }

  const ConnectorSpec& spec() const noexcept { return spec_; }

  // ConnectionOwner
  void connection_opened(Connection* c) noexcept override;
  void connection_established(Connection* c) noexcept override;
  void connection_closed(Connection* c, bool established) noexcept override;

  struct State;    // connector.cpp: the timer, freed by its close callback
  struct Resolve;  // connector.cpp: one uv_getaddrinfo in flight

 private:
  void close() noexcept override;  // Loop::stop()
  void attempt() noexcept;
  void resolved(int status, const ::addrinfo* res) noexcept;
  void failed(const std::string& why) noexcept;
  void schedule_retry() noexcept;
  void timer_fired() noexcept;
  void note_error(const std::string& why) noexcept;
  void abandon_resolve() noexcept;

  Loop& loop_;
  ConnectorSpec spec_;
  core::ProtocolFactory& factory_;
  State* state_ = nullptr;
  Resolve* resolving_ = nullptr;
  Connection* connection_ = nullptr;
  enum class Phase : std::uint8_t { Idle, Resolving, Connecting, Connected, Waiting } phase_ = Phase::Idle;
  bool running_ = false;
  std::size_t index_ = 0;
  std::uint32_t failures_ = 0;  // consecutive, for the back-off
  std::int64_t connected_at_ms_ = 0;
  std::uint64_t attempts_ = 0;
  std::uint64_t connects_ = 0;
  std::uint64_t pending_backoff_ms_ = 0;
  std::uint64_t rng_;
  std::string last_error_;
};

}  // namespace junction::net
