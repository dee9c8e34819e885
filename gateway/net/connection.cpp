#include "connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <span>
#include <utility>

#include "layer_stack.h"
#include "log.h"
#include "loop_impl.h"
#include "tls_layer.h"
#include "ws_layer.h"

namespace junction::net {

namespace {

// After a complete flush, buffers larger than this are freed rather than
// kept: an idle connection should own no output memory.
constexpr std::size_t kKeepOutputCapacity = 512;

uv_stream_t* as_stream(uv_tcp_t* t) { return reinterpret_cast<uv_stream_t*>(t); }
uv_handle_t* as_handle(uv_tcp_t* t) { return reinterpret_cast<uv_handle_t*>(t); }

void release(std::string& s) noexcept { std::string().swap(s); }

// Numeric address, port and loopback flag (127.0.0.0/8, ::1, ::ffff:127.x).
void describe_peer(uv_tcp_t* tcp, core::ConnectionInfo& info) noexcept {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
  char text[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, text, sizeof text);
    info.peer_port = ntohs(a->sin_port);
    info.loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, text, sizeof text);
    info.peer_port = ntohs(a->sin6_port);
    const in6_addr& ip = a->sin6_addr;
    info.loopback = IN6_IS_ADDR_LOOPBACK(&ip) || (IN6_IS_ADDR_V4MAPPED(&ip) && ip.s6_addr[12] == 127);
  }
  info.peer_address = text;
}

}  // namespace

struct Connection::WriteRequest {
  uv_write_t req{};
  Connection* connection = nullptr;
  std::string buffer;  // owns the bytes until the write completes
};

// The non-tcp part of a connection (see connection.h).
struct Connection::Layered {
  std::shared_ptr<const TransportSpec> spec;  // keeps the TLS context and routes alive
  core::ProtocolFactory* factory = nullptr;   // the listener's (tls); ws picks by path
  LayerStack stack;
  TlsLayer* tls = nullptr;  // owned by `stack`
  WsLayer* ws = nullptr;
  std::string app_out;      // handler output not yet encoded
  std::int64_t deadline_ms = 0;
  bool shut = false;        // shutdown bytes produced; nothing more to encode
};

struct Connection::ConnectRequest {
  uv_connect_t req{};
  Connection* connection = nullptr;
  core::ProtocolFactory* factory = nullptr;
  std::shared_ptr<const TransportSpec> transport;  // client TLS, or null
  std::string server_name;
};

Connection::Connection(detail::LoopImpl& loop, ConnectionOwner* owner, WaterMarks marks)
    : loop_(loop), owner_(owner), marks_(marks) {}

Connection::~Connection() = default;

Connection* Connection::accept(detail::LoopImpl& loop, uv_stream_t* server, ConnectionOwner* owner,
                               const std::string& listener_name, WaterMarks marks,
                               core::ProtocolFactory& factory,
                               std::shared_ptr<const TransportSpec> transport) noexcept {
  Connection* c = nullptr;
  try {
    c = new Connection(loop, owner, marks);
    c->info_.listener = loop.intern(listener_name);
  } catch (...) {
    delete c;
    // Out of memory: take the socket off the backlog and drop it.
    auto* t = new (std::nothrow) uv_tcp_t;
    if (t == nullptr) return nullptr;
    uv_tcp_init(&loop.uv, t);
    if (uv_accept(server, as_stream(t)) != 0) { /* nothing to drop */ }
    uv_close(as_handle(t), [](uv_handle_t* h) noexcept { delete reinterpret_cast<uv_tcp_t*>(h); });
    return nullptr;
  }
  uv_tcp_init(&loop.uv, &c->tcp_);
  c->tcp_.data = c;
  // From here on the close callback is the only way out: it unlinks the
  // connection, tells its owner, and frees it.
  loop.add_connection(c);
  if (owner != nullptr) owner->connection_opened(c);
  int r = uv_accept(server, as_stream(&c->tcp_));
  if (r != 0) {
    log::warning("%s: accept failed: %s", listener_name.c_str(), uv_strerror(r));
    c->begin_close();
    return nullptr;
  }
  c->established_ = true;
  return c->start(factory, std::move(transport)) ? c : nullptr;
}

Connection* Connection::connect(detail::LoopImpl& loop, const sockaddr* addr, ConnectionOwner* owner,
                                const std::string& name, WaterMarks marks, core::ProtocolFactory& factory,
                                std::shared_ptr<const TransportSpec> transport,
                                const std::string& server_name) noexcept {
  Connection* c = nullptr;
  ConnectRequest* cr = nullptr;
  try {
    c = new Connection(loop, owner, marks);
    c->info_.listener = loop.intern(name);
    cr = new ConnectRequest;
    cr->transport = std::move(transport);
    cr->server_name = server_name;
  } catch (...) {
    delete cr;
    delete c;
    return nullptr;
  }
  uv_tcp_init(&loop.uv, &c->tcp_);
  c->tcp_.data = c;
  loop.add_connection(c);
  if (owner != nullptr) owner->connection_opened(c);
  cr->req.data = cr;
  cr->connection = c;
  cr->factory = &factory;
  int r = uv_tcp_connect(&cr->req, &c->tcp_, addr, &Connection::on_connect);
  if (r != 0) {
    delete cr;
    c->error_ = r;
    c->begin_close();  // the owner hears of it from the close callback
  }
  return c;
}

void Connection::on_connect(uv_connect_t* req, int status) noexcept {
  auto* cr = static_cast<ConnectRequest*>(req->data);
  Connection* c = cr->connection;
  core::ProtocolFactory* factory = cr->factory;
  std::shared_ptr<const TransportSpec> transport = std::move(cr->transport);
  std::string server_name;
  server_name.swap(cr->server_name);
  delete cr;
  // UV_ECANCELED: aborted (connect timeout, stop) while connecting; the
  // close is already under way.
  if (c->state_ == State::Closing) return;
  if (status != 0) {
    c->error_ = status;  // the owner logs it
    c->begin_close();
    return;
  }
  c->established_ = true;
  if (c->owner_ != nullptr) c->owner_->connection_established(c);
  c->start(*factory, std::move(transport), server_name);
}

// Once the socket is connected (accepted or outbound): the layers or the
// handler, then reading. False when the connection is already going away.
bool Connection::start(core::ProtocolFactory& factory, std::shared_ptr<const TransportSpec> transport,
                       const std::string& server_name) noexcept {
  // Latency over packet count: MQTT control packets are small.
  uv_tcp_nodelay(&tcp_, 1);
  describe_peer(&tcp_, info_);
  if (transport != nullptr && transport->kind != TransportKind::Tcp) {
    // The handler comes once the layers are open (feed_layered).
    if (!start_layers(factory, std::move(transport), server_name)) return false;
  } else if (!create_handler(factory)) {
    return false;
  }
  if (state_ != State::Open) return true;  // the handler (or a layer) refused it already
  int r = uv_read_start(as_stream(&tcp_), &Connection::on_alloc, &Connection::on_read);
  if (r != 0) fail("read start", r);
  return true;
}

bool Connection::create_handler(core::ProtocolFactory& factory) noexcept {
  try {
    handler_ = factory.create(*this);
  } catch (const std::exception& e) {
    log::error("%s: cannot create a %s handler: %s", info_.listener.data(), factory.protocol_name(), e.what());
  } catch (...) {
    log::error("%s: cannot create a %s handler", info_.listener.data(), factory.protocol_name());
  }
  if (!handler_) {
    begin_close();
    return false;
  }
  return true;
}

// ------------------------------------------------------------- layered ----

bool Connection::start_layers(core::ProtocolFactory& factory, std::shared_ptr<const TransportSpec> transport,
                              const std::string& server_name) noexcept {
  try {
    auto l = std::make_unique<Layered>();
    l->factory = &factory;
    l->deadline_ms = loop_.clock.now_ms() + transport->handshake_timeout_ms;
    if (uses_tls(transport->kind)) {
      auto tls = std::make_unique<TlsLayer>(transport->tls, server_name);
      l->tls = tls.get();
      l->stack.push(std::move(tls));
    }
    if (uses_websocket(transport->kind)) {
      auto ws = std::make_unique<WsLayer>(transport->ws);
      l->ws = ws.get();
      l->stack.push(std::move(ws));
    }
    info_.transport = transport_name(transport->kind);
    info_.identity_is_username = transport->use_identity_as_username;
    l->spec = std::move(transport);
    layered_ = std::move(l);
    if (layered_->stack.start(output_) != LayerStatus::Ok) {
      end_layered(LayerStatus::Error);
      return true;
    }
  } catch (...) {
    log::error("%s: cannot set up the %s layers", info_.listener.data(), info_.transport);
    begin_close();
    return false;
  }
  if (!output_.empty()) loop_.mark_dirty(this);
  return true;
}

void Connection::feed_layered(const char* data, std::size_t size) noexcept {
  Layered& l = *layered_;
  std::string app;
  LayerStatus s = LayerStatus::Error;
  try {
    s = l.stack.on_wire(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size), app, output_);
  } catch (...) {
    fail("buffer", UV_ENOMEM);
    return;
  }
  if (!output_.empty()) loop_.mark_dirty(this);
  if (!handler_ && l.stack.open()) {
    // Everything the handler may want to know is known now.
    core::ProtocolFactory* factory = l.factory;
    if (l.tls != nullptr) {
      info_.cert_identity = l.tls->peer_identity();
      log::debug("%s:%u: %s%s%s", info_.peer_address.c_str(), info_.peer_port, l.tls->describe().c_str(),
                 info_.cert_identity.empty() ? "" : ", client ", info_.cert_identity.c_str());
    }
    if (l.ws != nullptr) {
      auto e = static_cast<std::size_t>(l.ws->endpoint());
      factory = e < l.spec->ws_factories.size() ? l.spec->ws_factories[e] : nullptr;
    }
    if (factory == nullptr || !create_handler(*factory)) {
      if (factory == nullptr) begin_close();
      return;
    }
  }
  // Application bytes before a close in the same read still count.
  if (!app.empty() && handler_ && state_ == State::Open) {
    try {
      if (input_.empty()) input_ = std::move(app);
      else input_.append(app);
    } catch (...) {
      fail("buffer", UV_ENOMEM);
      return;
    }
    std::size_t used = consume(input_.data(), input_.size());
    if (state_ == State::Open) {
      if (used == input_.size()) release(input_);
      else input_.erase(0, used);
    }
  }
  if (s != LayerStatus::Ok) end_layered(s);
}

// The handler's output since the last flush becomes wire bytes.
void Connection::encode_output() noexcept {
  Layered& l = *layered_;
  if (l.app_out.empty()) return;
  std::string app;
  app.swap(l.app_out);
  if (l.shut) return;  // after a close frame / close_notify nothing may follow
  LayerStatus s = LayerStatus::Error;
  try {
    s = l.stack.on_app(app, output_);
  } catch (...) {
    fail("buffer", UV_ENOMEM);
    return;
  }
  if (s != LayerStatus::Ok) end_layered(s);
}

// A layer ended the stream (peer closed, protocol or handshake error):
// what it answered is in output_; send that, then close.
void Connection::end_layered(LayerStatus status) noexcept {
  Layered& l = *layered_;
  if (l.shut) return;
  l.shut = true;
  const std::string& why = l.stack.error();
  log::write(status == LayerStatus::Close ? log::Level::debug : log::Level::info, "%s:%u: %s %s; closing",
             info_.peer_address.c_str(), info_.peer_port, info_.transport, why.empty() ? "stream ended" : why.c_str());
  close_after_flush();
}

std::string Connection::layer_error() const {
  return layered_ ? layered_->stack.error() : std::string();
}

// ------------------------------------------------------------- sink API ----

void Connection::write(std::string_view bytes) {
  if (state_ == State::Closing || bytes.empty()) return;
  if (layered_) {
    layered_->app_out.append(bytes.data(), bytes.size());
    loop_.mark_dirty(this);
    if (!above_high_ && queued_bytes() > marks_.high) above_high_ = true;
    return;
  }
  output_.append(bytes.data(), bytes.size());
  loop_.mark_dirty(this);
  if (!above_high_ && queued_bytes() > marks_.high) above_high_ = true;
}

std::size_t Connection::queued_bytes() const {
  return output_.size() + (layered_ ? layered_->app_out.size() : 0) +
         uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
}

void Connection::close_after_flush() {
  if (state_ != State::Open) return;
  if (layered_ && !layered_->shut) {
    // What the handler said last, then the WebSocket close / close_notify.
    encode_output();
    if (state_ != State::Open) return;
    layered_->shut = true;
    try {
      layered_->stack.shutdown(output_);
    } catch (...) {
    }
  }
  state_ = State::Draining;
  // Reading is over for good; what the peer still sends is not looked at.
  if (!paused_) uv_read_stop(as_stream(&tcp_));
  if (output_.empty() && writing_ == nullptr) {
    begin_close();
    return;
  }
  if (!output_.empty()) loop_.mark_dirty(this);
}

void Connection::abort() { begin_close(); }

void Connection::pause_reading(bool paused) {
  if (state_ != State::Open || paused == paused_) return;
  paused_ = paused;
  if (paused) {
    uv_read_stop(as_stream(&tcp_));
    return;
  }
  int r = uv_read_start(as_stream(&tcp_), &Connection::on_alloc, &Connection::on_read);
  if (r != 0) {
    fail("read start", r);
    return;
  }
  // Frames already received wait in input_; present them again from the
  // idle phase (not from here: we are inside the caller's stack).
  if (!input_.empty()) loop_.mark_replay(this);
}

// ---------------------------------------------------------------- input ----

std::size_t Connection::consume(const char* data, std::size_t size) noexcept {
  std::size_t used = 0;
  // Call again after progress: a handler may stop after some frames. Stop
  // when it makes no progress (partial frame), pauses, or closes.
  while (used < size && state_ == State::Open && !paused_) {
    std::size_t n = 0;
    try {
      n = handler_->on_bytes(
          std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data + used), size - used));
    } catch (const std::exception& e) {
      log::error("%s:%u: protocol handler failed: %s", info_.peer_address.c_str(), info_.peer_port, e.what());
      begin_close();
      return size;
    } catch (...) {
      log::error("%s:%u: protocol handler failed", info_.peer_address.c_str(), info_.peer_port);
      begin_close();
      return size;
    }
    if (n > size - used) {
      log::error("%s:%u: protocol handler consumed %zu of %zu bytes", info_.peer_address.c_str(),
                 info_.peer_port, n, size - used);
      begin_close();
      return size;
    }
    if (n == 0) break;
    used += n;
  }
  return used;
}

void Connection::feed(const char* data, std::size_t size) noexcept {
  if (state_ != State::Open) return;
  if (layered_) {
    feed_layered(data, size);
    return;
  }
  if (input_.empty()) {
    // Common case: whole frames straight from the shared buffer, no copy.
    std::size_t used = consume(data, size);
    if (used < size && state_ == State::Open) {
      try {
        input_.assign(data + used, size - used);
      } catch (...) {
        fail("buffer", UV_ENOMEM);
      }
    }
    return;
  }
  try {
    input_.append(data, size);
  } catch (...) {
    fail("buffer", UV_ENOMEM);
    return;
  }
  // input_ is not touched by anyone else while the handler reads it: reads
  // happen only from this callback, and closing leaves input_ alone.
  std::size_t used = consume(input_.data(), input_.size());
  if (state_ != State::Open) return;
  if (used == input_.size()) release(input_);
  else input_.erase(0, used);
}

void Connection::replay() noexcept {
  if (state_ != State::Open || paused_ || input_.empty()) return;
  std::size_t used = consume(input_.data(), input_.size());
  if (state_ != State::Open) return;
  if (used == input_.size()) release(input_);
  else input_.erase(0, used);
}

void Connection::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) noexcept {
  auto* c = static_cast<Connection*>(h->data);
  detail::LoopImpl& loop = c->loop_;
  if (loop.read_buffer_lent) {  // cannot happen with libuv's read sequence
    *buf = uv_buf_init(nullptr, 0);  // read_cb gets UV_ENOBUFS
    return;
  }
  loop.read_buffer_lent = true;
  *buf = uv_buf_init(loop.read_buffer.get(), static_cast<unsigned>(detail::kReadBufferSize));
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Connection*>(s->data);
  if (buf != nullptr && buf->base == c->loop_.read_buffer.get()) c->loop_.read_buffer_lent = false;
  if (nread > 0) {
    c->feed(buf->base, static_cast<std::size_t>(nread));
  } else if (nread == UV_EOF) {
    // Peer is done sending. Give what we already have one chance to leave
    // (a reply to its last packet), but never wait on a peer that left.
    if (c->layered_ && c->state_ == State::Open) c->encode_output();
    if (c->state_ != State::Closing && c->writing_ == nullptr && !c->output_.empty()) {
      uv_buf_t b = uv_buf_init(c->output_.data(), static_cast<unsigned>(c->output_.size()));
      (void)uv_try_write(s, &b, 1);
    }
    c->begin_close();
  } else if (nread < 0) {
    c->fail("read", static_cast<int>(nread));
  }
}

// --------------------------------------------------------------- output ----

void Connection::flush() noexcept {
  if (state_ == State::Closing) return;
  if (layered_) {
    encode_output();
    if (state_ == State::Closing) return;
  }
  // One uv_write at a time keeps the byte order; its completion re-marks us.
  if (writing_ == nullptr && !output_.empty()) {
    uv_buf_t b = uv_buf_init(output_.data(), static_cast<unsigned>(output_.size()));
    int n = uv_try_write(as_stream(&tcp_), &b, 1);
    if (n == UV_EAGAIN) n = 0;
    if (n < 0) {
      fail("write", n);
      return;
    }
    if (static_cast<std::size_t>(n) == output_.size()) {
      if (output_.capacity() > kKeepOutputCapacity) release(output_);
      else output_.clear();
    } else {
      WriteRequest* w = nullptr;
      try {
        w = new WriteRequest;
      } catch (...) {
        fail("write", UV_ENOMEM);
        return;
      }
      // The request owns the bytes; later writes start a new buffer.
      w->buffer = std::move(output_);
      output_ = std::string();
      w->req.data = w;
      w->connection = this;
      uv_buf_t rest = uv_buf_init(w->buffer.data() + n, static_cast<unsigned>(w->buffer.size() - n));
      int r = uv_write(&w->req, as_stream(&tcp_), &rest, 1, &Connection::on_write);
      if (r != 0) {
        delete w;
        fail("write", r);
        return;
      }
      writing_ = w;
    }
  }
  after_output_progress();
}

void Connection::on_write(uv_write_t* req, int status) noexcept {
  auto* w = static_cast<WriteRequest*>(req->data);
  Connection* c = w->connection;
  delete w;
  c->writing_ = nullptr;
  if (status < 0) {
    // UV_ECANCELED: we are closing and the callback is only bookkeeping.
    if (status != UV_ECANCELED) c->fail("write", status);
    return;
  }
  if (!c->output_.empty()) c->loop_.mark_dirty(c);
  c->after_output_progress();
}

void Connection::after_output_progress() noexcept {
  if (state_ == State::Closing) return;
  if (above_high_ && queued_bytes() < marks_.low) {
    above_high_ = false;
    try {
      if (handler_) handler_->on_drained();
    } catch (...) {
      log::error("%s:%u: on_drained failed", info_.peer_address.c_str(), info_.peer_port);
      begin_close();
      return;
    }
  }
  if (state_ == State::Draining && output_.empty() && writing_ == nullptr) begin_close();
}

// ------------------------------------------------------------ lifecycle ----

void Connection::tick(std::int64_t now_ms) noexcept {
  if (!handler_) {
    // Still in the TLS handshake or the HTTP upgrade: a peer that connects
    // and stalls must not hold a connection for ever.
    if (layered_ && state_ == State::Open && now_ms >= layered_->deadline_ms) {
      log::info("%s:%u: %s handshake not completed within %u ms; closing", info_.peer_address.c_str(),
                info_.peer_port, info_.transport, layered_->spec->handshake_timeout_ms);
      begin_close();
    }
    return;
  }
  try {
    handler_->on_tick(now_ms);
  } catch (...) {
    log::error("%s:%u: on_tick failed", info_.peer_address.c_str(), info_.peer_port);
    begin_close();
  }
}

void Connection::fail(const char* what, int err) noexcept {
  error_ = err;
  // Resets and broken pipes are how clients usually leave: not worth more.
  log::Level l = (err == UV_ECONNRESET || err == UV_EPIPE || err == UV_ETIMEDOUT) ? log::Level::debug
                                                                                   : log::Level::info;
  log::write(l, "%s:%u: %s failed: %s; closing", info_.peer_address.c_str(), info_.peer_port, what,
             uv_strerror(err));
  begin_close();
}

void Connection::begin_close() noexcept {
  if (state_ == State::Closing) return;
  state_ = State::Closing;
  release(output_);  // input_ may be under the handler right now: freed with us
  uv_close(as_handle(&tcp_), &Connection::on_close);
  loop_.request_pass();  // on_closed() work (store, other sinks) gets flushed
}

void Connection::on_close(uv_handle_t* h) noexcept {
  auto* c = static_cast<Connection*>(h->data);
  c->loop_.remove_connection(c);
  if (c->handler_) {
    try {
      c->handler_->on_closed();
    } catch (...) {
      log::error("%s:%u: on_closed failed", c->info_.peer_address.c_str(), c->info_.peer_port);
    }
    c->handler_.reset();
  }
  if (c->owner_ != nullptr) c->owner_->connection_closed(c, c->established_);
  delete c;
}

}  // namespace junction::net
