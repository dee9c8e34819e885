// junction::net::Connection — one TCP connection, accepted by a Listener or
// made by a Connector: owns the socket (a plain non-blocking fd in the
// loop's epoll set; we do the reads and writes ourselves) and the
// ProtocolHandler the factory created for it.
//
// Why no libuv handle: a uv_tcp_t is 248 bytes with a write queue and a
// read machinery we do not need, a uv_poll_t 160 and four syscalls to
// register; the loop keeps one epoll set for all connections, watched by
// libuv as a single fd (LoopImpl::epoll_watch), so a connection is its fd
// and one epoll_ctl (10,000 idle clients: docs/PERFORMANCE.md).
//
// Input: on EPOLLIN, read() into the loop's shared buffer (up to 32
// full buffers per wake-up) and feed it straight to on_bytes(); only the
// unconsumed tail of a frame is copied into the input buffer. A handler
// that pauses reading mid-buffer gets the rest presented again when it
// resumes (from the loop's idle phase). read() == 0 is EOF; errors end
// the connection with libuv-style codes (-errno, e.g. UV_ECONNRESET).
//
// Output: write() appends to the output buffer and marks the connection
// dirty once; the check phase flushes it with one send(). What the kernel
// does not take stays queued (with a sent-offset, no copying) and the poll
// also waits for EPOLLOUT; each writable event sends more, and once the
// buffer is empty the poll stops watching for it. Bytes go out in order
// because there is only one buffer.
//
// Idle connections hold no buffers: input, output (and, while an outbound
// connect is pending, its request) live in one small heap block allocated
// on first need and freed when all of it is empty again.
//
// Lifecycle: Open -> (close_after_flush) Draining -> Closing (close(fd),
// which also leaves the epoll set) -> finish_close() from the loop's reaper:
// handler->on_closed(), handler destroyed, owner told, Connection deleted.
// on_closed() is deferred to the reaper so a handler that
// calls abort() from inside its own on_bytes() is never destroyed under
// itself. After Closing, writes and other sink calls are ignored.
//
// Size matters: no std::function, no timer, no buffer while idle; the 1 s
// tick comes from the loop's single timer; the water marks are interned in
// the loop (an index here).
//
// Transports (transport.h): a tcp connection has no layers (`layered_` is
// null) and the paths above are all it runs. For tls, ws and wss the
// Layered part holds a LayerStack: read bytes go through it and the
// decoded application bytes are fed to the handler from the input buffer;
// the handler's writes collect in Layered::app_out and are encoded once per
// flush (one TLS record run / one WebSocket message per iteration), into
// the output buffer, which is then written as for tcp. The handler is
// created only when every layer is open (TLS handshake done, WebSocket
// upgraded: the path chose the protocol), after ConnectionInfo got the
// transport and the client certificate's identity; until then the tick
// enforces the handshake deadline.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "connection_owner.h"
#include "frontend.h"
#include "stream_layer.h"
#include "transport.h"

namespace junction::net {

namespace detail {
struct LoopImpl;
}


class Connection final : public core::ConnectionSink {
 public:
  struct WaterMarks {
    std::uint32_t high = 64 * 1024;  // above: remember that the handler may hold back
    std::uint32_t low = 16 * 1024;   // below again: handler->on_drained()
    bool operator==(const WaterMarks&) const = default;
  };

  // Takes over `fd`, a connected non-blocking socket from accept4() whose
  // peer is `peer`. Returns nullptr (fd closed) if the set-up or the
  // handler creation fails.
  static Connection* accept(detail::LoopImpl& loop, int fd, const ::sockaddr* peer, ConnectionOwner* owner,
                            const std::string& listener_name, WaterMarks marks,
                            core::ProtocolFactory& factory,
                            std::shared_ptr<const TransportSpec> transport = nullptr) noexcept;
  // Starts an outbound connection to `addr`. Plain TCP without
  // `transport`; with a tls one (a client-role TlsContext) the TLS
  // handshake runs first, sending `server_name` as SNI and checking it
  // against the server's certificate. The handler is created when the TCP
  // connect (and the handshake) succeeded; a failed attempt ends in
  // owner->connection_closed(c, false), the error in error(); a failed
  // handshake in connection_closed(c, true), the reason in layer_error().
  // Returns nullptr (nothing to wait for) if the attempt cannot even start
  // (no memory, no socket); then *start_error, if given, gets the libuv
  // error code.
  static Connection* connect(detail::LoopImpl& loop, const ::sockaddr* addr, ConnectionOwner* owner,
                             const std::string& name, WaterMarks marks, core::ProtocolFactory& factory,
                             std::shared_ptr<const TransportSpec> transport = nullptr,
                             const std::string& server_name = {}, int* start_error = nullptr) noexcept;

  // core::ConnectionSink
  void write(std::string_view bytes) override;
  std::size_t queued_bytes() const override;
  void close_after_flush() override;
  void abort() override;
  void pause_reading(bool paused) override;
  const core::ConnectionInfo& info() const override { return info_; }

  // Loop side.
  void on_events(std::uint32_t events) noexcept;  // from the loop's epoll set
  static void finish_close(Connection* c) noexcept;  // after begin_close, from the loop
  void flush() noexcept;              // check phase, when dirty
  void replay() noexcept;             // idle phase, after a resume
  void tick(std::int64_t now_ms) noexcept;
  bool open() const noexcept { return state_ != State::Closing; }
  void detach_owner() noexcept { owner_ = nullptr; }
  ConnectionOwner* owner() const noexcept { return owner_; }
  bool established() const noexcept { return established_; }
  // The libuv-style error that ended the connection or attempt (0: none,
  // e.g. closed by either side cleanly); -errno on Linux.
  int error() const noexcept { return error_; }
  // Why a layer (TLS) ended the stream, e.g. mbedTLS's text for a failed
  // handshake; empty for tcp or when no layer complained.
  std::string layer_error() const;
  // The layers (TLS handshake) were passed and a handler was made. Stays
  // true after the close (the handler is destroyed before the owner hears
  // of the close): an owner tells a connection that was up from a failed
  // handshake by it.
  bool handler_ready() const noexcept { return handler_made_; }

 private:
  // The loop's intrusive list of live connections is the loop's business:
  // others walk it with LoopImpl::for_each_connection.
  friend struct detail::LoopImpl;
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;

  enum class State : std::uint8_t { Connecting, Open, Draining, Closing };
  struct Buffers;         // connection.cpp; allocated on first need
  struct ConnectRequest;  // connection.cpp; outbound, until connected
  struct Layered;         // connection.cpp; tls, ws, wss only

  Connection(detail::LoopImpl& loop, ConnectionOwner* owner, WaterMarks marks);
  ~Connection() override;

  detail::LoopImpl& loop() const noexcept;
  WaterMarks marks() const noexcept;
  std::string& input();           // allocates the buffers if needed (may throw)
  std::string& output();          // idem
  void trim_buffers() noexcept;    // free the heap block once all of it is empty
  bool output_empty() const noexcept;
  bool init_poll(detail::LoopImpl& loop, int fd) noexcept;
  void update_poll() noexcept;
  void on_readable() noexcept;
  void on_writable() noexcept;
  void on_connected(int err) noexcept;
  bool send_output() noexcept;  // false: failed (closing)

  void feed(const char* data, std::size_t size) noexcept;
  std::size_t consume(const char* data, std::size_t size) noexcept;
  void consume_input() noexcept;
  void begin_close() noexcept;
  void after_output_progress() noexcept;
  void fail(const char* what, int err) noexcept;
  bool start(core::ProtocolFactory& factory, std::shared_ptr<const TransportSpec> transport,
             const std::string& server_name = {}) noexcept;
  bool create_handler(core::ProtocolFactory& factory) noexcept;
  bool start_layers(core::ProtocolFactory& factory, std::shared_ptr<const TransportSpec> transport,
                    const std::string& server_name) noexcept;
  void feed_layered(const char* data, std::size_t size) noexcept;
  void encode_output() noexcept;
  void end_layered(LayerStatus status) noexcept;


  detail::LoopImpl* loop_;
  ConnectionOwner* owner_;
  std::unique_ptr<core::ProtocolHandler> handler_;
  std::unique_ptr<Layered> layered_;  // null for tcp
  Buffers* buffers_ = nullptr;        // null while idle
  int fd_ = -1;
  int error_ = 0;
  std::uint16_t marks_ = 0;           // index into the loop's interned water marks
  State state_ = State::Open;
  std::uint8_t events_ = 0;           // what the epoll set watches now (EPOLLIN | EPOLLOUT; 0: not in it)
  bool paused_ : 1 = false;
  bool above_high_ : 1 = false;
  bool established_ : 1 = false;
  bool want_write_ : 1 = false;       // output the kernel did not take yet
  bool handler_made_ : 1 = false;     // see handler_ready()

 public:
  // Loop side: queued in the loop's dirty / replay lists.
  bool in_dirty : 1 = false;
  bool in_replay : 1 = false;

 private:
  core::ConnectionInfo info_;
};

}  // namespace junction::net
