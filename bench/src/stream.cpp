// junction::bench Stream: libuv TCP with a shared read buffer and one write
// in flight per connection.
#include "stream.h"

#include <sys/socket.h>

#include <cassert>
#include <cstring>

namespace junction::bench {

void Io::flush() {
  if (dirty_.empty()) return;
  flushing_.swap(dirty_);
  for (Stream* s : flushing_) {
    s->dirty_ = false;
    s->flush();
  }
  flushing_.clear();
}

Stream::Stream(Io& io, Handler& h) : io_(io), handler_(h) {
  uv_tcp_init(io_.loop(), &tcp_);
  tcp_.data = this;
  connect_req_.data = this;
  write_req_.data = this;
}

Stream::~Stream() {
  // The owner destroys streams only after uv_run() returned with every handle closed.
  assert(state_ == State::Closed);
}

int Stream::connect(const sockaddr* addr) {
  const int rc = uv_tcp_connect(&connect_req_, &tcp_, addr, &Stream::on_connect);
  if (rc == 0) state_ = State::Connecting;
  return rc;
}

int Stream::accept(uv_stream_t* server) {
  const int rc = uv_accept(server, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (rc != 0) return rc;
  state_ = State::Open;
  uv_tcp_nodelay(&tcp_, 1);
  start_reading();
  return 0;
}

void Stream::start_reading() {
  const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Stream::on_alloc, &Stream::on_read);
  if (rc != 0) fail(rc);
}

void Stream::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<Stream*>(req->data);
  if (status == UV_ECANCELED || self->state_ != State::Connecting) return;
  if (status < 0) {
    self->handler_.on_connected(status);
    self->close();
    return;
  }
  self->state_ = State::Open;
  uv_tcp_nodelay(&self->tcp_, 1);
  self->start_reading();
  if (self->state_ != State::Open) return;
  self->handler_.on_connected(0);
  if (self->state_ == State::Open && !self->out_.empty()) self->flush();
}

void Stream::on_alloc(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(h->data);
  if (self->partial_len_ == 0) {
    *buf = uv_buf_init(self->io_.scratch(), static_cast<unsigned>(Io::kScratch));
    return;
  }
  // An incomplete frame is waiting: read right behind it.
  constexpr std::size_t kMinRoom = 64 * 1024;
  if (self->partial_.size() - self->partial_len_ < kMinRoom) self->partial_.resize(self->partial_len_ + kMinRoom);
  *buf = uv_buf_init(self->partial_.data() + self->partial_len_,
                     static_cast<unsigned>(self->partial_.size() - self->partial_len_));
}

void Stream::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(s->data);
  if (n < 0) {
    self->fail(static_cast<int>(n));
    return;
  }
  if (n == 0 || self->state_ != State::Open) return;
  if (buf->base == self->io_.scratch()) {
    self->deliver(buf->base, static_cast<std::size_t>(n), true);
  } else {
    self->partial_len_ += static_cast<std::size_t>(n);
    self->deliver(self->partial_.data(), self->partial_len_, false);
  }
}

void Stream::deliver(const char* data, std::size_t n, bool in_scratch) {
  const std::size_t used = handler_.on_data(Bytes(reinterpret_cast<const std::uint8_t*>(data), n));
  assert(used <= n);
  if (state_ != State::Open) return;
  const std::size_t rest = n - used;
  if (in_scratch) {
    if (rest > 0) {
      if (partial_.size() < rest) partial_.resize(rest);
      std::memcpy(partial_.data(), data + used, rest);
    }
    partial_len_ = rest;
  } else if (used > 0) {
    if (rest > 0) std::memmove(partial_.data(), partial_.data() + used, rest);
    partial_len_ = rest;
  }
}

void Stream::flush() {
  if (state_ != State::Open || writing_) return;
  if (out_.empty()) {
    if (close_when_flushed_) close();
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  uv_buf_t b = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  const int n = uv_try_write(stream, &b, 1);
  if (n >= 0 && static_cast<std::size_t>(n) == out_.size()) {
    out_.clear();
    if (close_when_flushed_) close();
    return;
  }
  if (n < 0 && n != UV_EAGAIN) {
    fail(n);
    return;
  }
  const std::size_t off = n > 0 ? static_cast<std::size_t>(n) : 0;
  wbuf_.swap(out_);
  out_.clear();
  wlen_ = wbuf_.size() - off;
  b = uv_buf_init(wbuf_.data() + off, static_cast<unsigned>(wlen_));
  const int rc = uv_write(&write_req_, stream, &b, 1, &Stream::on_write);
  if (rc != 0) {
    fail(rc);
    return;
  }
  writing_ = true;
}

void Stream::on_write(uv_write_t* req, int status) {
  auto* self = static_cast<Stream*>(req->data);
  self->writing_ = false;
  self->wbuf_.clear();
  self->wlen_ = 0;
  if (status < 0) {
    if (status != UV_ECANCELED) self->fail(status);
    return;
  }
  if (self->state_ != State::Open) return;
  if (!self->out_.empty() || self->close_when_flushed_) self->flush();
  if (!self->writing_ && self->state_ == State::Open) self->handler_.on_writable();
}

void Stream::close_after_flush() {
  if (state_ != State::Open) {
    close();
    return;
  }
  close_when_flushed_ = true;
  if (!writing_) flush();
}

void Stream::close() {
  if (state_ == State::Closing || state_ == State::Closed) return;
  state_ = State::Closing;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Stream::on_close);
}

void Stream::reset() {
  if (state_ == State::Closing || state_ == State::Closed) return;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) == 0) {
    const linger l{1, 0};
    (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close();
}

void Stream::on_close(uv_handle_t* h) {
  auto* self = static_cast<Stream*>(h->data);
  self->state_ = State::Closed;
  self->partial_ = {};
  self->partial_len_ = 0;
  self->handler_.on_closed();
}

void Stream::fail(int status) {
  if (state_ == State::Closing || state_ == State::Closed) return;
  handler_.on_disconnect(status);
  close();
}

}  // namespace junction::bench
