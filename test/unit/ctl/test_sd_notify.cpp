// sd_notify without libsystemd: the datagram arrives on a bound unix socket
// (path and abstract names), $NOTIFY_SOCKET is honoured, and its absence
// is a quiet no-op.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sd_notify.h"

using namespace junction::sd;

namespace {

// A datagram socket bound to `name` ("/path" or "@abstract"), as systemd's.
class Receiver {
 public:
  explicit Receiver(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, name.data(), name.size());
    if (name[0] == '@') a.sun_path[0] = '\0';
    else ::unlink(name.c_str());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0);
  }
  ~Receiver() {
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }
  std::string receive() {
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  std::string name_;
  int fd_ = -1;
};

std::string unique_name(const char* prefix) { return prefix + std::to_string(::getpid()); }

}  // namespace

TEST_CASE("notify_to: a path socket gets the datagram", "[ctl][sd_notify]") {
  const std::string path = unique_name("/tmp/junction-sd-notify-test-");
  Receiver r(path);
  CHECK(notify_to(path, "READY=1") == NotifyResult::Sent);
  CHECK(r.receive() == "READY=1");
}

TEST_CASE("notify_to: an abstract socket ('@' name)", "[ctl][sd_notify]") {
  const std::string name = unique_name("@junction-sd-notify-test-");
  Receiver r(name);
  CHECK(notify_to(name, "STOPPING=1") == NotifyResult::Sent);
  CHECK(r.receive() == "STOPPING=1");
}

TEST_CASE("notify: $NOTIFY_SOCKET, the helpers, and no socket at all", "[ctl][sd_notify]") {
  const std::string name = unique_name("@junction-sd-notify-env-");
  Receiver r(name);
  REQUIRE(::setenv("NOTIFY_SOCKET", name.c_str(), 1) == 0);
  CHECK(notify_ready() == NotifyResult::Sent);
  CHECK(r.receive() == "READY=1");
  CHECK(notify_stopping() == NotifyResult::Sent);
  CHECK(r.receive() == "STOPPING=1");
  CHECK(notify_reloading() == NotifyResult::Sent);
  const std::string reloading = r.receive();
  CHECK_THAT(reloading, Catch::StartsWith("RELOADING=1\nMONOTONIC_USEC="));
  CHECK(reloading.size() > 28);

  REQUIRE(::unsetenv("NOTIFY_SOCKET") == 0);
  CHECK(notify_ready() == NotifyResult::NoSocket);
  REQUIRE(::setenv("NOTIFY_SOCKET", "", 1) == 0);
  CHECK(notify_ready() == NotifyResult::NoSocket);
  REQUIRE(::unsetenv("NOTIFY_SOCKET") == 0);
  CHECK(r.receive() == "<nothing>");
}

TEST_CASE("notify_to: unusable names fail with a reason", "[ctl][sd_notify]") {
  std::string error;
  CHECK(notify_to("relative/path", "READY=1", &error) == NotifyResult::Failed);
  CHECK_THAT(error, Catch::Contains("neither a path"));
  CHECK(notify_to("/tmp/junction-no-such-socket-" + std::to_string(::getpid()), "READY=1", &error) ==
        NotifyResult::Failed);
  CHECK_FALSE(error.empty());
  CHECK(notify_to("/" + std::string(200, 'x'), "READY=1", &error) == NotifyResult::Failed);
  CHECK_THAT(error, Catch::Contains("too long"));
}
