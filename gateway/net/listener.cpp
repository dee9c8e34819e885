#include "listener.h"

#include <netinet/in.h>

#include <stdexcept>
#include <utility>

#include "connection.h"
#include "log.h"
#include "loop_impl.h"

namespace junction::net {

namespace {

constexpr int kBacklog = 4096;

std::string format_address(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

// Heap-allocated so the close callback can outlive the Listener object.
struct Listener::Server {
  uv_tcp_t tcp{};
  Listener* owner = nullptr;  // null once the listener let go of it
};

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

  auto* server = new Server;
  server->owner = this;
  server->tcp.data = server;
  uv_tcp_init(&d.uv, &server->tcp);
  // IPv6 listeners take IPv6 only, so "0.0.0.0" and "::" on one port can
  // coexist and every listener binds exactly what the config says.
  r = uv_tcp_bind(&server->tcp, reinterpret_cast<const sockaddr*>(&addr), v6 ? UV_TCP_IPV6ONLY : 0);
  if (r == 0) {
    // libuv reports some bind errors (EADDRINUSE) only at listen time.
    r = uv_listen(reinterpret_cast<uv_stream_t*>(&server->tcp), kBacklog,
                  [](uv_stream_t* s, int status) noexcept {
                    auto* srv = static_cast<Server*>(s->data);
                    if (srv->owner != nullptr) srv->owner->on_incoming(status);
                  });
  }
  if (r == 0) {
    sockaddr_storage bound{};
    int len = sizeof bound;
    r = uv_tcp_getsockname(&server->tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    if (r == 0) {
      port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
  }
  if (r != 0) {
    server->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&server->tcp),
             [](uv_handle_t* h) noexcept { delete static_cast<Server*>(h->data); });
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
  for (Connection* c = loop_.impl().connections; c != nullptr; c = c->next) {
    if (c->owner() == this) c->detach_owner();
  }
}

std::string Listener::address() const { return format_address(spec_.bind, port_); }

void Listener::stop_accepting() noexcept { close(); }

void Listener::close() noexcept {
  if (server_ == nullptr) return;
  loop_.impl().remove_closable(this);
  server_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&server_->tcp),
           [](uv_handle_t* h) noexcept { delete static_cast<Server*>(h->data); });
  server_ = nullptr;
}

void Listener::on_incoming(int status) noexcept {
  if (status < 0) {
    // E.g. EMFILE under a connection storm: say so, but not 10,000 times.
    if (accept_errors_++ % 1000 == 0) {
      log::warning("%s: accept failed: %s (%llu so far)", name_.c_str(), uv_strerror(status),
                   static_cast<unsigned long long>(accept_errors_));
    }
    return;
  }
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
    auto* t = new (std::nothrow) uv_tcp_t;
    if (t == nullptr) return;
    uv_tcp_init(&d.uv, t);
    (void)uv_accept(reinterpret_cast<uv_stream_t*>(&server_->tcp), reinterpret_cast<uv_stream_t*>(t));
    uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) noexcept { delete reinterpret_cast<uv_tcp_t*>(h); });
    if (count % 1000 == 1) {
      log::warning("%s: %s reached; refusing (%llu so far)", name_.c_str(), why,
                   static_cast<unsigned long long>(count));
    }
    return;
  }
  Connection::WaterMarks marks{spec_.high_water, spec_.low_water};
  Connection::accept(d, reinterpret_cast<uv_stream_t*>(&server_->tcp), this, name_, marks, factory_, transport_);
}

}  // namespace junction::net
