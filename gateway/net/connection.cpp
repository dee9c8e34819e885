#include "connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
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

// After a complete flush, an output buffer that grew past kSmallOutput is
// a busy connection's: it is kept (up to kKeepOutput) so the next
// iteration's writes do not grow a fresh buffer from nothing again (for a
// fan-out that is a malloc and a copy per doubling, per subscriber, per
// iteration), and freed on the next tick if it is still empty then. A
// small one (a CONNACK, a SUBACK) is freed at once with its block, so idle
// connections own no output memory and a connect storm leaves no holes.
constexpr std::size_t kSmallOutput = 512;
constexpr std::size_t kKeepOutput = 256 * 1024;
// Full read buffers per readable event before other sockets get a turn
// (libuv's uv_read does the same).
constexpr int kReadsPerWake = 32;
// A partly sent output buffer is compacted once this much of its front
// has gone, so a peer that reads slowly but steadily cannot make it grow
// without bound.
constexpr std::size_t kCompactAfter = 64 * 1024;

void release(std::string& s) noexcept { std::string().swap(s); }

// libuv's error codes are -errno on Linux (UV__ERR), so error() and the
// log texts (uv_strerror) stay what they were with uv_tcp_t.
int uv_error(int errnum) noexcept { return -errnum; }

bool would_block(int errnum) noexcept { return errnum == EAGAIN || errnum == EWOULDBLOCK; }

// Numeric address, port and loopback flag (127.0.0.0/8, ::1, ::ffff:127.x).
void describe_peer(const sockaddr* sa, core::ConnectionInfo& info) noexcept {
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    info.peer_port = ntohs(a->sin_port);
    info.loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  } else if (sa->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    info.peer_port = ntohs(a->sin6_port);
    const in6_addr& ip = a->sin6_addr;
    info.loopback = IN6_IS_ADDR_LOOPBACK(&ip) || (IN6_IS_ADDR_V4MAPPED(&ip) && ip.s6_addr[12] == 127);
  } else {
    return;
  }
  info.peer_address = text;
}

// The socket's pending error (ECONNREFUSED after a failed connect, the
// reset behind a POLLERR); 0 if none.
int socket_error(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

}  // namespace

struct Connection::ConnectRequest {
  core::ProtocolFactory* factory = nullptr;
  std::shared_ptr<const TransportSpec> transport;  // client TLS, or null
  std::string server_name;
};

// Everything a connection needs only while bytes are in transit.
struct Connection::Buffers {
  std::string input;   // unconsumed tail of the last read(s)
  std::string output;  // queued output; the kernel has taken [0, sent)
  std::size_t sent = 0;
  std::unique_ptr<ConnectRequest> connecting;  // outbound, until connected
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

Connection::Connection(detail::LoopImpl& loop, ConnectionOwner* owner, WaterMarks marks)
    : loop_(&loop), owner_(owner), marks_(loop.intern_marks(marks.high, marks.low)) {}

Connection::~Connection() { delete buffers_; }

detail::LoopImpl& Connection::loop() const noexcept { return *loop_; }

Connection::WaterMarks Connection::marks() const noexcept {
  const auto& m = loop().water_marks[marks_];
  return {m.first, m.second};
}

std::string& Connection::input() {
  if (buffers_ == nullptr) buffers_ = new Buffers;
  return buffers_->input;
}

std::string& Connection::output() {
  if (buffers_ == nullptr) buffers_ = new Buffers;
  return buffers_->output;
}

bool Connection::output_empty() const noexcept { return buffers_ == nullptr || buffers_->output.empty(); }

void Connection::trim_buffers() noexcept {
  if (buffers_ != nullptr && buffers_->input.empty() && buffers_->output.empty() && !buffers_->connecting) {
    delete buffers_;
    buffers_ = nullptr;
  }
}

bool Connection::init_poll(detail::LoopImpl&, int fd) noexcept {
  fd_ = fd;
  return true;
}

// Watch what the state asks for in the loop's epoll set; the kernel is told
// only about changes. Nothing watched: out of the set, so a hang-up on a
// paused socket cannot report itself again and again.
void Connection::update_poll() noexcept {
  std::uint32_t want = 0;
  if (state_ == State::Connecting) {
    want = EPOLLOUT;
  } else if (state_ == State::Open || state_ == State::Draining) {
    if (state_ == State::Open && !paused_) want |= EPOLLIN;
    if (want_write_) want |= EPOLLOUT;
  }
  if (want == events_) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = this;
  const int op = events_ == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  events_ = static_cast<std::uint8_t>(want);
  if (::epoll_ctl(loop().epoll_fd, op, fd_, &ev) != 0) fail("poll", uv_error(errno));
}

Connection* Connection::accept(detail::LoopImpl& loop, int fd, const sockaddr* peer, ConnectionOwner* owner,
                               const std::string& listener_name, WaterMarks marks,
                               core::ProtocolFactory& factory,
                               std::shared_ptr<const TransportSpec> transport) noexcept {
  Connection* c = nullptr;
  try {
    c = new Connection(loop, owner, marks);
    c->info_.listener = loop.intern(listener_name);
  } catch (...) {
    delete c;  // out of memory: drop the socket
    ::close(fd);
    return nullptr;
  }
  if (!c->init_poll(loop, fd)) {
    delete c;
    ::close(fd);
    return nullptr;
  }
  describe_peer(peer, c->info_);
  // From here on begin_close() and then finish_close() (from the loop's
  // reaper) are the only way out: the socket closes, the connection is
  // unlinked, its owner told, and it is freed.
  loop.add_connection(c);
  if (owner != nullptr) owner->connection_opened(c);
  c->established_ = true;
  return c->start(factory, std::move(transport)) ? c : nullptr;
}

Connection* Connection::connect(detail::LoopImpl& loop, const sockaddr* addr, ConnectionOwner* owner,
                                const std::string& name, WaterMarks marks, core::ProtocolFactory& factory,
                                std::shared_ptr<const TransportSpec> transport,
                                const std::string& server_name, int* start_error) noexcept {
  if (start_error != nullptr) *start_error = 0;
  Connection* c = nullptr;
  try {
    c = new Connection(loop, owner, marks);
    c->info_.listener = loop.intern(name);
    c->buffers_ = new Buffers;
    c->buffers_->connecting = std::make_unique<ConnectRequest>();
    ConnectRequest& cr = *c->buffers_->connecting;
    cr.factory = &factory;
    cr.transport = std::move(transport);
    cr.server_name = server_name;
  } catch (...) {
    delete c;
    if (start_error != nullptr) *start_error = UV_ENOMEM;
    return nullptr;
  }
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (start_error != nullptr) *start_error = uv_error(errno);
    delete c;
    return nullptr;
  }
  // Latency over packet count: the protocols' control frames are small.
  int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!c->init_poll(loop, fd)) {
    if (start_error != nullptr) *start_error = UV_ENOMEM;
    delete c;
    ::close(fd);
    return nullptr;
  }
  describe_peer(addr, c->info_);
  c->state_ = State::Connecting;
  loop.add_connection(c);
  if (owner != nullptr) owner->connection_opened(c);
  socklen_t len = addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  // Even a connect that completes at once is reported from the loop (the
  // socket is writable), so the owner always hears of it asynchronously.
  if (::connect(fd, addr, len) != 0 && errno != EINPROGRESS && errno != EINTR) {
    c->error_ = uv_error(errno);
    c->begin_close();  // the owner hears of it from finish_close()
    return c;
  }
  c->update_poll();
  return c;
}

void Connection::on_connected(int err) noexcept {
  std::unique_ptr<ConnectRequest> cr = std::move(buffers_->connecting);
  trim_buffers();
  if (err != 0) {
    error_ = err;  // the owner logs it
    begin_close();
    return;
  }
  state_ = State::Open;
  established_ = true;
  if (owner_ != nullptr) owner_->connection_established(this);
  if (state_ != State::Open) return;  // the owner gave up on it
  start(*cr->factory, std::move(cr->transport), cr->server_name);
}

// Once the socket is connected (accepted or outbound): the layers or the
// handler, then reading. False when the connection is already going away.
bool Connection::start(core::ProtocolFactory& factory, std::shared_ptr<const TransportSpec> transport,
                       const std::string& server_name) noexcept {
  if (transport != nullptr && transport->kind != TransportKind::Tcp) {
    // The handler comes once the layers are open (feed_layered).
    if (!start_layers(factory, std::move(transport), server_name)) return false;
  } else if (!create_handler(factory)) {
    return false;
  }
  if (state_ != State::Open) return true;  // the handler (or a layer) refused it already
  update_poll();
  return true;
}

bool Connection::create_handler(core::ProtocolFactory& factory) noexcept {
  try {
    handler_ = factory.create(*this);
    handler_made_ = handler_ != nullptr;
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
    l->deadline_ms = loop().clock.now_ms() + transport->handshake_timeout_ms;
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
    if (layered_->stack.start(output()) != LayerStatus::Ok) {
      end_layered(LayerStatus::Error);
      return true;
    }
  } catch (...) {
    log::error("%s: cannot set up the %s layers", info_.listener.data(), info_.transport);
    begin_close();
    return false;
  }
  if (!output_empty()) loop().mark_dirty(this);
  return true;
}

void Connection::feed_layered(const char* data, std::size_t size) noexcept {
  Layered& l = *layered_;
  std::string app;
  LayerStatus s = LayerStatus::Error;
  try {
    s = l.stack.on_wire(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size), app, output());
  } catch (...) {
    fail("buffer", UV_ENOMEM);
    return;
  }
  if (!output_empty()) loop().mark_dirty(this);
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
      std::string& in = input();
      if (in.empty()) in = std::move(app);
      else in.append(app);
    } catch (...) {
      fail("buffer", UV_ENOMEM);
      return;
    }
    consume_input();
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
    s = l.stack.on_app(app, output());
  } catch (...) {
    fail("buffer", UV_ENOMEM);
    return;
  }
  if (s != LayerStatus::Ok) end_layered(s);
}

// A layer ended the stream (peer closed, protocol or handshake error):
// what it answered is in the output buffer; send that, then close.
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
  if (layered_) layered_->app_out.append(bytes.data(), bytes.size());
  else output().append(bytes.data(), bytes.size());
  loop().mark_dirty(this);
  if (!above_high_ && queued_bytes() > marks().high) above_high_ = true;
}

std::size_t Connection::queued_bytes() const {
  return (buffers_ != nullptr ? buffers_->output.size() - buffers_->sent : 0) +
         (layered_ ? layered_->app_out.size() : 0);
}

void Connection::close_after_flush() {
  if (state_ == State::Connecting) {
    begin_close();  // nothing was said yet
    return;
  }
  if (state_ != State::Open) return;
  if (layered_ && !layered_->shut) {
    // What the handler said last, then the WebSocket close / close_notify.
    encode_output();
    if (state_ != State::Open) return;
    layered_->shut = true;
    try {
      layered_->stack.shutdown(output());
    } catch (...) {
    }
  }
  state_ = State::Draining;
  // Reading is over for good; what the peer still sends is not looked at.
  update_poll();
  if (state_ != State::Draining) return;
  if (output_empty()) {
    begin_close();
    return;
  }
  loop().mark_dirty(this);
}

void Connection::abort() { begin_close(); }

void Connection::pause_reading(bool paused) {
  if (state_ != State::Open || paused == paused_) return;
  paused_ = paused;
  update_poll();
  if (paused || state_ != State::Open) return;
  // Frames already received wait in the input buffer; present them again
  // from the idle phase (not from here: we are inside the caller's stack).
  if (buffers_ != nullptr && !buffers_->input.empty()) loop().mark_replay(this);
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

// Presents the input buffer to the handler and keeps what it left.
void Connection::consume_input() noexcept {
  // The buffer is not touched by anyone else while the handler reads it:
  // reads happen only from the poll callback, and closing leaves it alone.
  std::string& in = buffers_->input;
  std::size_t used = consume(in.data(), in.size());
  if (state_ != State::Open) return;
  if (used == in.size()) {
    release(in);
    trim_buffers();
  } else {
    in.erase(0, used);
  }
}

void Connection::feed(const char* data, std::size_t size) noexcept {
  if (state_ != State::Open) return;
  if (layered_) {
    feed_layered(data, size);
    return;
  }
  if (buffers_ == nullptr || buffers_->input.empty()) {
    // Common case: whole frames straight from the shared buffer, no copy.
    std::size_t used = consume(data, size);
    if (used < size && state_ == State::Open) {
      try {
        input().assign(data + used, size - used);
      } catch (...) {
        fail("buffer", UV_ENOMEM);
      }
    }
    return;
  }
  try {
    buffers_->input.append(data, size);
  } catch (...) {
    fail("buffer", UV_ENOMEM);
    return;
  }
  consume_input();
}

void Connection::replay() noexcept {
  if (state_ != State::Open || paused_ || buffers_ == nullptr || buffers_->input.empty()) return;
  consume_input();
}

void Connection::on_events(std::uint32_t events) noexcept {
  if (state_ == State::Closing) return;  // closed earlier in the same batch
  if (state_ == State::Connecting) {
    // Writable (or failed): the connect is decided; SO_ERROR says how.
    int err = socket_error(fd_);
    if (err == 0 && (events & EPOLLERR) != 0) err = ECONNREFUSED;
    on_connected(uv_error(err));
    return;
  }
  if ((events & EPOLLERR) != 0) {
    // The socket failed (reset, ...). Hand over what was read before the
    // error, as uv_read did, then end with the socket's own error.
    if (state_ == State::Open && !paused_) on_readable();
    if (state_ == State::Closing) return;
    int err = socket_error(fd_);
    fail("socket", uv_error(err != 0 ? err : EIO));
    return;
  }
  // A hang-up reads as EOF where reading is on; elsewhere the write that
  // follows (or the resumed read) finds it.
  if ((events & (EPOLLIN | EPOLLHUP)) != 0 && (events_ & EPOLLIN) != 0) on_readable();
  if ((events & EPOLLOUT) != 0 && state_ != State::Closing) on_writable();
  if ((events & EPOLLHUP) != 0 && state_ != State::Closing && (events_ & EPOLLIN) == 0 && !want_write_) {
    // Nothing here would ever read or write it: stop hearing about it until
    // the handler resumes reading.
    epoll_event ev{};
    if (events_ != 0) (void)::epoll_ctl(loop().epoll_fd, EPOLL_CTL_DEL, fd_, &ev);
    events_ = 0;
  }
}

void Connection::on_readable() noexcept {
  detail::LoopImpl& d = loop();
  for (int i = 0; i < kReadsPerWake && state_ == State::Open && !paused_; ++i) {
    ssize_t n = ::read(fd_, d.read_buffer.get(), detail::kReadBufferSize);
    if (n > 0) {
      d.traffic.bytes_received += static_cast<std::uint64_t>(n);
      feed(d.read_buffer.get(), static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < detail::kReadBufferSize) return;  // drained for now
      continue;
    }
    if (n == 0) {
      // Peer is done sending. Give what we already have one chance to
      // leave (a reply to its last packet), but never wait on a peer that
      // left.
      if (layered_) encode_output();
      if (state_ != State::Closing && !output_empty()) {
        Buffers& b = *buffers_;
        (void)::send(fd_, b.output.data() + b.sent, b.output.size() - b.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      begin_close();
      return;
    }
    if (errno == EINTR) continue;
    if (would_block(errno)) return;
    fail("read", uv_error(errno));
    return;
  }
}

// --------------------------------------------------------------- output ----

// One send() of everything queued. What the kernel does not take stays,
// and the epoll set waits for EPOLLOUT until it is gone.
bool Connection::send_output() noexcept {
  Buffers& b = *buffers_;
  ssize_t n = ::send(fd_, b.output.data() + b.sent, b.output.size() - b.sent, MSG_NOSIGNAL);
  if (n < 0) {
    if (!would_block(errno) && errno != EINTR) {
      fail("write", uv_error(errno));
      return false;
    }
    n = 0;
  }
  loop().traffic.bytes_sent += static_cast<std::uint64_t>(n);
  b.sent += static_cast<std::size_t>(n);
  if (b.sent == b.output.size()) {
    b.sent = 0;
    want_write_ = false;
    const std::size_t cap = b.output.capacity();
    if (cap > kSmallOutput && cap <= kKeepOutput) {
      b.output.clear();
    } else {
      release(b.output);
      trim_buffers();
    }
  } else {
    if (b.sent >= kCompactAfter && b.sent >= b.output.size() / 2) {
      b.output.erase(0, b.sent);
      b.sent = 0;
    }
    want_write_ = true;
  }
  update_poll();
  return state_ != State::Closing;
}

void Connection::flush() noexcept {
  if (state_ == State::Closing || state_ == State::Connecting) return;
  if (layered_) {
    encode_output();
    if (state_ == State::Closing) return;
  }
  // While the kernel's buffer is full, the writable event sends (new
  // bytes queue behind the old ones, so the order holds).
  if (!want_write_ && !output_empty()) {
    if (!send_output()) return;
  }
  after_output_progress();
}

void Connection::on_writable() noexcept {
  if (!output_empty()) {
    if (!send_output()) return;
  } else {
    want_write_ = false;
    update_poll();
    if (state_ == State::Closing) return;
  }
  after_output_progress();
}

void Connection::after_output_progress() noexcept {
  if (state_ == State::Closing) return;
  if (above_high_ && queued_bytes() < marks().low) {
    above_high_ = false;
    try {
      if (handler_) handler_->on_drained();
    } catch (...) {
      log::error("%s:%u: on_drained failed", info_.peer_address.c_str(), info_.peer_port);
      begin_close();
      return;
    }
  }
  if (state_ == State::Draining && output_empty()) begin_close();
}

// ------------------------------------------------------------ lifecycle ----

void Connection::tick(std::int64_t now_ms) noexcept {
  // A buffer kept after a busy iteration (see kSmallOutput) that nothing
  // used since the flush goes now.
  if (buffers_ != nullptr && buffers_->output.empty() && buffers_->output.capacity() != 0 && state_ != State::Closing) {
    release(buffers_->output);
    trim_buffers();
  }
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
  if (buffers_ != nullptr) {
    // The input may be under the handler right now: freed with us.
    release(buffers_->output);
    buffers_->sent = 0;
  }
  // Closing the fd also takes it out of the epoll set; an event for it still
  // in the current batch sees Closing and is dropped.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  events_ = 0;
  loop().schedule_close(this);  // finish_close() from the loop, never under our caller
}

void Connection::finish_close(Connection* c) noexcept {
  c->loop().remove_connection(c);
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
