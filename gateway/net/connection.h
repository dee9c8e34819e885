// junction::net::Connection — one TCP connection, accepted by a Listener or
// made by a Connector: owns the uv_tcp_t and the ProtocolHandler the
// factory created for it.
//
// Input: read_cb feeds the loop's shared buffer straight to on_bytes(); only
// the unconsumed tail of a frame is copied into `input_`, whose capacity is
// released once it empties. A handler that pauses reading mid-buffer gets
// the rest presented again when it resumes (from the loop's idle phase).
//
// Output: write() appends to `output_` and marks the connection dirty once;
// the check phase flushes it with one uv_try_write and, for what the kernel
// did not take, one uv_write that owns the moved buffer (new writes start a
// fresh buffer). One uv_write at a time keeps bytes in order; the next flush
// waits for its completion.
//
// Lifecycle: Open -> (close_after_flush) Draining -> Closing (uv_close) ->
// close_cb: handler->on_closed(), handler destroyed, Connection deleted.
// on_closed() is deferred to the close callback so a handler that calls
// abort() from inside its own on_bytes() is never destroyed under itself.
// After Closing, writes and other sink calls are ignored.
//
// Size matters (10,000 idle clients, DESIGN §5): no std::function, no timer,
// no buffer while idle; the 1 s tick comes from the loop's single timer.
//
// Transports (transport.h): a tcp connection has no layers (`layered_` is
// null) and the paths above are all it runs. For tls, ws and wss the
// Layered part holds a LayerStack: read bytes go through it and the
// decoded application bytes are fed to the handler from `input_`; the
// handler's writes collect in Layered::app_out and are encoded once per
// flush (one TLS record run / one WebSocket message per iteration), into
// `output_`, which is then written as for tcp. The handler is created only
// when every layer is open (TLS handshake done, WebSocket upgraded: the
// path chose the protocol), after ConnectionInfo got the transport and the
// client certificate's identity; until then the tick enforces the
// handshake deadline.
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
  };

  // Takes an accepted socket from `server`. Returns nullptr (socket closed)
  // if the accept or the handler creation fails.
  static Connection* accept(detail::LoopImpl& loop, uv_stream_t* server, ConnectionOwner* owner,
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
  // Returns nullptr (nothing to wait for) if the attempt cannot even start.
  static Connection* connect(detail::LoopImpl& loop, const ::sockaddr* addr, ConnectionOwner* owner,
                             const std::string& name, WaterMarks marks, core::ProtocolFactory& factory,
                             std::shared_ptr<const TransportSpec> transport = nullptr,
                             const std::string& server_name = {}) noexcept;

  // core::ConnectionSink
  void write(std::string_view bytes) override;
  std::size_t queued_bytes() const override;
  void close_after_flush() override;
  void abort() override;
  void pause_reading(bool paused) override;
  const core::ConnectionInfo& info() const override { return info_; }

  // Loop side.
  void flush() noexcept;              // check phase, when dirty
  void replay() noexcept;             // idle phase, after a resume
  void tick(std::int64_t now_ms) noexcept;
  bool open() const noexcept { return state_ == State::Open || state_ == State::Draining; }
  void detach_owner() noexcept { owner_ = nullptr; }
  ConnectionOwner* owner() const noexcept { return owner_; }
  bool established() const noexcept { return established_; }
  // The libuv error that ended the connection or attempt (0: none, e.g.
  // closed by either side cleanly).
  int error() const noexcept { return error_; }
  // Why a layer (TLS) ended the stream, e.g. mbedTLS's text for a failed
  // handshake; empty for tcp or when no layer complained.
  std::string layer_error() const;
  // The layers (TLS handshake) are open and the handler exists.
  bool handler_ready() const noexcept { return handler_ != nullptr; }

  // Intrusive list of the loop's live connections.
  Connection* prev = nullptr;
  Connection* next = nullptr;
  bool in_dirty = false;
  bool in_replay = false;

 private:
  enum class State : std::uint8_t { Open, Draining, Closing };
  struct WriteRequest;
  struct ConnectRequest;
  struct Layered;  // connection.cpp; tls, ws, wss only

  Connection(detail::LoopImpl& loop, ConnectionOwner* owner, WaterMarks marks);
  ~Connection() override;

  void feed(const char* data, std::size_t size) noexcept;
  std::size_t consume(const char* data, std::size_t size) noexcept;
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

  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_close(uv_handle_t* h) noexcept;
  static void on_connect(uv_connect_t* req, int status) noexcept;

  detail::LoopImpl& loop_;
  ConnectionOwner* owner_;
  uv_tcp_t tcp_{};
  std::unique_ptr<core::ProtocolHandler> handler_;
  std::unique_ptr<Layered> layered_;  // null for tcp
  std::string input_;   // unconsumed tail of the last read(s)
  std::string output_;  // written since the last flush
  WriteRequest* writing_ = nullptr;  // the one uv_write in flight
  WaterMarks marks_;
  State state_ = State::Open;
  bool paused_ = false;
  bool above_high_ = false;
  bool established_ = false;
  int error_ = 0;
  core::ConnectionInfo info_;
};

}  // namespace junction::net
