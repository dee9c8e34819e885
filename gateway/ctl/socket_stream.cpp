#include "socket_stream.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace junction::ctl {

namespace {

// 1 ready, 0 timeout, -1 error (errno).
int wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 ? 1 : n;
  }
}

// One address: a non-blocking connect bounded by the timeout. The socket
// stays non-blocking; every later read and write polls first.
int connect_one(const addrinfo* ai, int timeout_ms, std::string& why) {
  const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    why = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  const int ready = wait_fd(fd, POLLOUT, timeout_ms);
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (ready == 0) {
    char text[48];
    std::snprintf(text, sizeof text, "timed out after %g s", timeout_ms / 1000.0);
    why = text;
  } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
    why = std::strerror(errno);
  } else if (soerr != 0) {
    why = std::strerror(soerr);
  } else {
    return fd;
  }
  ::close(fd);
  return -1;
}

}  // namespace

std::unique_ptr<TcpStream> TcpStream::connect(const std::string& host, unsigned port, int timeout_ms, IoError& err) {
  const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); rc != 0) {
    err.message = "cannot connect to " + where + ": " + ::gai_strerror(rc);
    return nullptr;
  }
  std::string why = "no address";
  int fd = -1;
  for (const addrinfo* ai = list; ai && fd < 0; ai = ai->ai_next) fd = connect_one(ai, timeout_ms, why);
  ::freeaddrinfo(list);
  if (fd < 0) {
    err.message = "cannot connect to " + where + ": " + why;
    return nullptr;
  }
  return std::unique_ptr<TcpStream>(new TcpStream(fd, timeout_ms));
}

TcpStream::~TcpStream() { ::close(fd_); }

bool TcpStream::wait(bool for_write) const { return wait_fd(fd_, for_write ? POLLOUT : POLLIN, timeout_ms_) > 0; }

bool TcpStream::send_all(std::span<const char> data, IoError& err) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a server that hangs up costs EPIPE, not SIGPIPE.
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data = data.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait(true)) continue;
      err.message = "timed out sending the request";
      return false;
    }
    err.message = std::string("sending the request failed: ") + std::strerror(errno);
    return false;
  }
  return true;
}

long TcpStream::receive(std::span<char> buf, IoError& err) {
  for (;;) {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (wait(false)) continue;
      err.message = "timed out waiting for the answer";
      return -1;
    }
    err.message = std::string("reading the answer failed: ") + std::strerror(errno);
    return -1;
  }
}

}  // namespace junction::ctl
