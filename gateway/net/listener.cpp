#include "listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <stdexcept>
#include <utility>

#include "connection.h"
#include "log.h"
#include "loop_impl.h"

namespace junction::net {

namespace {

constexpr int kBacklog = 4096;
constexpr int kAcceptsPerWake = 128;
// After EMFILE/ENFILE: long enough not to spin, short enough that clients
// in the backlog do not time out once descriptors are free again.
constexpr std::uint64_t kPauseAfterErrorMs = 100;

std::string format_address(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

// Heap-allocated so the close callbacks can outlive the Listener object.
struct Listener::Server {
  uv_poll_t poll{};    // the listening socket, readable when connections wait
  uv_timer_t pause{};  // resumes accepting after EMFILE/ENFILE
  int fd = -1;
  int open_handles = 0;       // closed and freed when this drops to 0
  Listener* owner = nullptr;  // null once the listener let go of it

  // Closes both handles; the last close callback closes the fd and frees.
  void close() noexcept {
    owner = nullptr;
    auto done = [](uv_handle_t* h) noexcept {
      auto* s = static_cast<Server*>(h->data);
      if (--s->open_handles == 0) {
        if (s->fd >= 0) ::close(s->fd);
        delete s;
      }
    };
    if (open_handles == 0) {  // nothing initialised yet
      if (fd >= 0) ::close(fd);
      delete this;
      return;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&poll), done);
    uv_close(reinterpret_cast<uv_handle_t*>(&pause), done);
  }
};

namespace {

// The listening socket, bound and listening; -errno on failure.
int open_listening_socket(const sockaddr* addr, bool v6) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  // A restart must not wait for TIME_WAIT sockets of the last run.
  int r = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // IPv6 listeners take IPv6 only, so "0.0.0.0" and "::" on one port can
  // coexist and every listener binds exactly what the config says.
  if (r == 0 && v6) r = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // Latency over packet count (control packets are small). Linux copies
  // the listener's TCP_NODELAY to every accepted socket: one setsockopt
  // here instead of one per connection.
  if (r == 0) r = ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (r == 0) r = ::bind(fd, addr, v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  if (r == 0) r = ::listen(fd, kBacklog);
  if (r != 0) {
    int err = -errno;
    ::close(fd);
    return err;
  }
  return fd;
}

}  // namespace

Listener::Listener(Loop& loop, ListenerSpec spec, core::ProtocolFactory& factory,
                   std::shared_ptr<const TransportSpec> transport)
    : loop_(loop), spec_(std::move(spec)), factory_(factory), transport_(std::move(transport)) {
  detail::LoopImpl& d = loop.impl();
  std::string where = format_address(spec_.bind, spec_.port);
  if (d.stopping) throw std::runtime_error("cannot listen on " + where + ": the loop is stopping");

  sockaddr_storage addr{};
  bool v6 = spec_.bind.find(':') != std::string::npos;
  int r = v6 ? uv_ip6_addr(spec_.bind.c_str(), spec_.port, reinterpret_cast<sockaddr_in6*>(&addr))
             : uv_ip4_addr(spec_.bind.c_str(), spec_.port, reinterpret_cast<sockaddr_in*>(&addr));
  if (r != 0) throw std::runtime_error("cannot listen on " + where + ": not an IPv4 or IPv6 address");

  int fd = open_listening_socket(reinterpret_cast<const sockaddr*>(&addr), v6);
  r = fd < 0 ? fd : 0;
  if (r == 0) {
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      r = -errno;
    } else {
      port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
  }
  auto* server = new Server;
  server->fd = fd;
  if (r == 0) {
    r = uv_poll_init_socket(&d.uv, &server->poll, fd);
    if (r == 0) {
      ++server->open_handles;
      server->poll.data = server;
      uv_timer_init(&d.uv, &server->pause);
      ++server->open_handles;
      server->pause.data = server;
      server->owner = this;
      r = uv_poll_start(&server->poll, UV_READABLE, &Listener::on_poll);
    }
  }
  if (r != 0) {
    server->close();
    throw std::runtime_error("cannot listen on " + where + ": " + uv_strerror(r) + " (" + uv_err_name(r) + ")");
  }
  server_ = server;
  const char* kind = transport_ ? transport_name(transport_->kind) : "tcp";
  name_ = spec_.name.empty() ? std::string(factory.protocol_name()) + "/" + kind + " " + address() : spec_.name;
  d.add_closable(this);
}

Listener::~Listener() {
  close();
  // Connections outlive their listener; they must not report back to it.
  loop_.impl().for_each_connection([this](Connection* c) {
    if (c->owner() == this) c->detach_owner();
  });
}

std::string Listener::address() const { return format_address(spec_.bind, port_); }

void Listener::stop_accepting() noexcept { close(); }

void Listener::close() noexcept {
  if (server_ == nullptr) return;
  loop_.impl().remove_closable(this);
  server_->close();
  server_ = nullptr;
}

void Listener::on_poll(uv_poll_t* h, int status, int) noexcept {
  auto* server = static_cast<Server*>(h->data);
  if (server->owner != nullptr) server->owner->on_incoming(status);
}

void Listener::on_incoming(int status) noexcept {
  if (status < 0) {
    // POLLERR on a listening socket: not expected; say so, but not 10,000
    // times (libuv has stopped watching it; the pause timer restarts it).
    note_accept_error(status);
    pause_accepting();
    return;
  }
  // Everything waiting, up to a cap: one busy listener must not starve the
  // loop (the level-triggered poll calls again for the rest).
  for (int i = 0; i < kAcceptsPerWake && server_ != nullptr; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(server_->fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;  // that one is gone; the next may wait
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      note_accept_error(-err);
      // Out of descriptors or memory: the connections stay in the backlog
      // and the socket stays readable; polling on would spin the loop.
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) pause_accepting();
      return;
    }
    admit(fd, reinterpret_cast<const sockaddr*>(&peer));
  }
}

void Listener::admit(int fd, const sockaddr* peer) noexcept {
  detail::LoopImpl& d = loop_.impl();
  const char* why = nullptr;
  std::uint64_t count = 0;
  if (spec_.max_connections != 0 && live_ >= spec_.max_connections) {
    why = "max_connections";
    count = ++refused_;
  } else if ((why = d.admit(count)) != nullptr) {
    ++refused_;
  }
  if (why != nullptr) {
    // Refuse by accepting and closing at once: leaving it in the backlog
    // would make the client wait for a timeout instead.
    ::close(fd);
    if (count % 1000 == 1) {
      log::warning("%s: %s reached; refusing (%llu so far)", name_.c_str(), why,
                   static_cast<unsigned long long>(count));
    }
    return;
  }
  Connection::WaterMarks marks{spec_.high_water, spec_.low_water};
  Connection::accept(d, fd, peer, this, name_, marks, factory_, transport_);
}

void Listener::note_accept_error(int err) noexcept {
  // E.g. EMFILE under a connection storm: say so, but not 10,000 times.
  if (accept_errors_++ % 1000 == 0) {
    log::warning("%s: accept failed: %s (%llu so far)", name_.c_str(), uv_strerror(err),
                 static_cast<unsigned long long>(accept_errors_));
  }
}

void Listener::pause_accepting() noexcept {
  if (server_ == nullptr) return;
  uv_poll_stop(&server_->poll);
  uv_timer_start(
      &server_->pause,
      [](uv_timer_t* t) noexcept {
        auto* s = static_cast<Server*>(t->data);
        if (s->owner != nullptr) uv_poll_start(&s->poll, UV_READABLE, &Listener::on_poll);
      },
      kPauseAfterErrorMs, 0);
}

}  // namespace junction::net
