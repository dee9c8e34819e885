#include "sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

namespace junction::sd {

namespace {

NotifyResult failed(std::string* error, std::string text) {
  if (error) *error = std::move(text);
  return NotifyResult::Failed;
}

}  // namespace

NotifyResult notify_to(std::string_view socket_name, std::string_view state, std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Abstract names may use the whole sun_path (the leading NUL included);
  // paths need room for their terminating NUL.
  const bool abstract = !socket_name.empty() && socket_name.front() == '@';
  if (socket_name.empty() || (!abstract && socket_name.front() != '/'))
    return failed(error, "NOTIFY_SOCKET '" + std::string(socket_name) + "' is neither a path nor @abstract");
  if (socket_name.size() > sizeof addr.sun_path - (abstract ? 0 : 1))
    return failed(error, "NOTIFY_SOCKET name too long");
  std::memcpy(addr.sun_path, socket_name.data(), socket_name.size());
  if (abstract) addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(error, std::string("socket: ") + std::strerror(errno));
  const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  const int saved = errno;
  ::close(fd);
  if (n < 0) return failed(error, "sending to " + std::string(socket_name) + ": " + std::strerror(saved));
  return NotifyResult::Sent;
}

NotifyResult notify(std::string_view state, std::string* error) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || *name == '\0') return NotifyResult::NoSocket;
  return notify_to(name, state, error);
}

NotifyResult notify_ready(std::string* error) { return notify("READY=1", error); }

NotifyResult notify_reloading(std::string* error) {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
  return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec), error);
}

NotifyResult notify_stopping(std::string* error) { return notify("STOPPING=1", error); }

}  // namespace junction::sd
