// junction::net::Listener — one bound, listening TCP socket whose accepted
// connections get a handler from one ProtocolFactory.
//
// Construction binds and listens (backlog 4096) and throws std::runtime_error
// naming the address on failure (address in use, permission, bad literal):
// start-up only. After that, errors are logged, never thrown.
//
// The socket is ours, not a uv_tcp_t (which would insist on accepting into
// a uv_tcp_t): socket/bind/listen with SO_REUSEADDR, IPV6_V6ONLY for IPv6
// and TCP_NODELAY (Linux passes it on to accepted sockets), watched by a
// uv_poll_t. Readable: accept4(SOCK_NONBLOCK) until EAGAIN, at most 128 per
// wake-up so one listener cannot starve the loop; each socket is admitted
// (max_connections, the loop's limits) and handed as a plain fd, with the
// peer address from accept4, to a Connection, or closed at once when
// refused. EMFILE/ENFILE stop the poll for 100 ms (logged every 1000th
// time) instead of spinning on a socket that stays readable.
//
// The Listener is owned by the caller and must not outlive its Loop. Closing
// it (stop_accepting(), destruction, Loop::stop()) stops new connections;
// connections already accepted live on and do not refer back to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <memory>

#include "connection_owner.h"
#include "frontend.h"
#include "loop.h"
#include "transport.h"

struct sockaddr;
struct uv_poll_s;

namespace junction::net {

struct ListenerSpec {
  std::string bind = "127.0.0.1";  // IPv4 or IPv6 literal ("::" for all IPv6)
  std::uint16_t port = 0;          // 0: ephemeral, see Listener::port()
  std::string name;                // default "<protocol>/tcp <address>"
  std::uint32_t max_connections = 0;  // 0: unlimited; past it accept, then close
  std::uint32_t high_water = 64 * 1024;  // per connection, see ProtocolHandler::on_drained
  std::uint32_t low_water = 16 * 1024;
};

class Listener final : private detail::Closable, public ConnectionOwner {
 public:
  // `transport` null or kind tcp: plain TCP. For ws/wss the factories of
  // the paths are in the transport; `factory` names the listener in logs.
  Listener(Loop& loop, ListenerSpec spec, core::ProtocolFactory& factory,
           std::shared_ptr<const TransportSpec> transport = nullptr);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The bound port (the kernel's choice when the spec said 0).
  std::uint16_t port() const noexcept { return port_; }
  // "127.0.0.1:1883" or "[::1]:1883".
  std::string address() const;
  const std::string& name() const noexcept { return name_; }
  const ListenerSpec& spec() const noexcept { return spec_; }

  // New connections get `transport` (SIGHUP: new certificates); open ones
  // keep what they started with.
  void set_transport(std::shared_ptr<const TransportSpec> transport) { transport_ = std::move(transport); }
  const std::shared_ptr<const TransportSpec>& transport() const noexcept { return transport_; }

  // Closes the listening socket; accepted connections are not touched.
  void stop_accepting() noexcept;
  bool accepting() const noexcept { return server_ != nullptr; }

  std::size_t connection_count() const noexcept { return live_; }
  std::uint64_t accepted() const noexcept { return accepted_; }
  std::uint64_t refused() const noexcept { return refused_; }

  // Net-internal: called by the listening socket and by Connection.
  void on_incoming(int status) noexcept;
  static void on_poll(uv_poll_s* h, int status, int events) noexcept;
  void connection_opened(Connection*) noexcept override {
    ++live_;
    ++accepted_;
  }
  void connection_closed(Connection*, bool) noexcept override { --live_; }

  struct Server;  // listener.cpp

 private:
  void close() noexcept override;
  void admit(int fd, const ::sockaddr* peer) noexcept;
  void note_accept_error(int err) noexcept;
  void pause_accepting() noexcept;

  Loop& loop_;
  ListenerSpec spec_;
  core::ProtocolFactory& factory_;
  std::shared_ptr<const TransportSpec> transport_;
  std::string name_;
  Server* server_ = nullptr;  // null once closed
  std::uint16_t port_ = 0;
  std::size_t live_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t accept_errors_ = 0;
};

}  // namespace junction::net
