// junction::bench Stream — one libuv TCP connection with push parsing and
// gathered writes; the only bench code besides the drivers that touches uv.h.
//
// Reading: libuv reads into one loop-wide scratch buffer (Io::scratch). The
// handler parses whole frames straight from it and says how many bytes it
// consumed; only a partial frame is copied into the stream's own buffer, so
// an idle connection holds no read buffer at all.
//
// Writing: producers append to out() during a loop iteration; Io::flush()
// (called by the driver from uv_prepare and uv_check) writes each dirty
// stream with one uv_try_write and, for what the kernel did not take, one
// uv_write. While that write is in flight, backed_up() is true and new
// output accumulates for the next one: at most one write per connection is
// ever queued, which is also the generator's back-pressure signal.
//
// Lifetime: close() is asynchronous; the owner keeps the Stream alive until
// on_closed() and destroys it only after uv_run() has returned.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace junction::bench {

using Bytes = std::span<const std::uint8_t>;

class Stream;

// Per-loop I/O state shared by every stream of a run.
class Io {
 public:
  explicit Io(uv_loop_t* loop) : loop_(loop), scratch_(kScratch) {}
  uv_loop_t* loop() const { return loop_; }
  void mark_dirty(Stream* s) { dirty_.push_back(s); }
  // Writes the output of every stream that produced some since the last call.
  void flush();
  char* scratch() { return scratch_.data(); }
  static constexpr std::size_t kScratch = 256 * 1024;

 private:
  uv_loop_t* loop_;
  std::vector<Stream*> dirty_;
  std::vector<Stream*> flushing_;
  std::vector<char> scratch_;
};

class Stream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_connected(int status) = 0;  // 0 or a libuv error (connect())
    // Returns the number of bytes consumed (whole frames); the rest is kept
    // and offered again, in front of the next bytes.
    virtual std::size_t on_data(Bytes data) = 0;
    // The peer closed (UV_EOF) or the socket failed; the stream is closing.
    virtual void on_disconnect(int status) = 0;
    // A queued write finished: the stream is no longer backed up.
    virtual void on_writable() {}
    virtual void on_closed() {}
  };

  Stream(Io& io, Handler& h);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int connect(const sockaddr* addr);  // 0 or a libuv error
  int accept(uv_stream_t* server);    // 0 or a libuv error

  // Output buffer for this iteration; the stream is flushed at the end of it.
  std::string& out() {
    if (!dirty_) {
      dirty_ = true;
      io_.mark_dirty(this);
    }
    return out_;
  }
  bool backed_up() const { return writing_; }
  std::size_t queued_bytes() const { return out_.size() + (writing_ ? wlen_ : 0); }
  bool open() const { return state_ == State::Open; }
  bool closed() const { return state_ == State::Closed; }

  void flush();
  // Graceful: writes what is queued first (shutdown after the last write).
  void close_after_flush();
  void close();
  // Closes with a reset (SO_LINGER 0): no TIME_WAIT left behind on either
  // side of the loopback. Used after `conns`, whose 10,000 connections
  // would otherwise leave 10,000 TIME_WAIT sockets that slow every connect
  // of the next run for a minute (the kernel's lookups walk them).
  void reset();

 private:
  enum class State : std::uint8_t { Idle, Connecting, Open, Closing, Closed };
  friend class Io;

  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_connect(uv_connect_t* req, int status);
  static void on_close(uv_handle_t* h);
  void start_reading();
  void deliver(const char* data, std::size_t n, bool in_scratch);
  void fail(int status);

  Io& io_;
  Handler& handler_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  State state_ = State::Idle;
  bool dirty_ = false;
  bool writing_ = false;
  bool close_when_flushed_ = false;
  std::size_t wlen_ = 0;
  std::string out_;   // produced this iteration
  std::string wbuf_;  // owned by the uv_write in flight
  std::vector<char> partial_;  // an incomplete frame, when there is one
  std::size_t partial_len_ = 0;
};

}  // namespace junction::bench
