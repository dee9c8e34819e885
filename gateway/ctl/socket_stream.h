// junction::ctl byte streams to the admin listener: a TCP connection made
// with a timeout, and optionally TLS over it (tls_stream.h). Blocking with
// poll(2): every wait is bounded by `timeout_ms`, so a silent server costs
// ctl a timeout, never a hang.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace junction::ctl {

// Where a failure happened: before the server was reached (connect,
// resolve, TLS handshake) or in the exchange after it.
struct IoError {
  std::string message;
};

class Stream {
 public:
  virtual ~Stream() = default;
  // Sends everything; false and `err` on failure or timeout.
  virtual bool send_all(std::span<const char> data, IoError& err) = 0;
  // Reads some bytes: > 0 the count, 0 end of stream, -1 failure (`err`).
  virtual long receive(std::span<char> buf, IoError& err) = 0;
};

class TcpStream final : public Stream {
 public:
  // Resolves `host` and tries each address in turn, each connect bounded by
  // `timeout_ms`. Null and `err` ("cannot connect to host:port: ...") when
  // none answers.
  static std::unique_ptr<TcpStream> connect(const std::string& host, unsigned port, int timeout_ms, IoError& err);
  ~TcpStream() override;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  bool send_all(std::span<const char> data, IoError& err) override;
  long receive(std::span<char> buf, IoError& err) override;

  // For TLS, which drives the socket itself: waits until readable
  // (`for_write` false) or writable; false on timeout or error.
  bool wait(bool for_write) const;
  int fd() const { return fd_; }
  int timeout_ms() const { return timeout_ms_; }

 private:
  TcpStream(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  int fd_;
  int timeout_ms_;
};

}  // namespace junction::ctl
