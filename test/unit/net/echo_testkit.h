// gateway/net against real loopback sockets: a Loop and a Listener on port 0
// with a small framed echo protocol defined here, driven by a blocking
// socket client in a thread. Every case ends with Loop::run() returning
// uv_loop_close()'s result, which must be 0 (STYLE 18). Assertions are made
// on the test thread after the client thread joined (Catch2 is not
// thread-safe); loop-side observations go into Stats.
//
// Shared by test_loop.cpp, test_socket_io.cpp and (closed_port) test_connector.cpp.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "frontend.h"
#include "listener.h"
#include "loop.h"

namespace echo_testkit {

// A loopback port nobody listens on: bound once to get a free number, then
// closed. A connect to it is refused at once.
inline std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

using namespace junction;

inline constexpr std::size_t kBig = 16 * 1024 * 1024;  // more than loopback buffers hold

inline char pattern(std::size_t i) { return static_cast<char>('a' + (i * 7 + i / 251) % 26); }

struct Stats {
  int created = 0, closed = 0, destroyed = 0, drained = 0, ticks = 0;
  std::vector<std::string> frames;    // every 4-byte frame, in order
  std::vector<std::size_t> presented; // size of each on_bytes() span
  std::size_t queued_after_big = 0;
  std::size_t queued_at_hook = 0;
  bool hook_pending = false;
  core::ConnectionSink* hook_sink = nullptr;
  core::ConnectionSink* last_sink = nullptr;  // the newest connection's
  core::ConnectionInfo info;
};

// Frames are 4 bytes. Commands: BIG! (16 MiB), BYE! (reply, close after
// flush), KILL (abort), PAUS / PAUL (pause reading 50 / 300 ms), HOOK, INFO; anything else
// is echoed. Consumes at most two frames per call so the transport's
// call-again loop is exercised too.
class EchoHandler final : public core::ProtocolHandler {
 public:
  EchoHandler(core::ConnectionSink& sink, Stats& s, net::Loop& loop)
      : sink_(sink), s_(s), loop_(loop), alive_(std::make_shared<bool>(true)) {
    ++s_.created;
    s_.last_sink = &sink;
  }
  ~EchoHandler() override {
    *alive_ = false;
    ++s_.destroyed;
    if (s_.last_sink == &sink_) s_.last_sink = nullptr;
  }

  std::size_t on_bytes(std::span<const std::uint8_t> data) override {
    s_.presented.push_back(data.size());
    std::size_t used = 0;
    for (int n = 0; n < 2 && data.size() - used >= 4; ++n) {
      std::string f(reinterpret_cast<const char*>(data.data()) + used, 4);
      used += 4;
      s_.frames.push_back(f);
      if (!frame(f)) break;
    }
    return used;
  }
  void on_closed() override { ++s_.closed; }
  void on_tick(std::int64_t) override { ++s_.ticks; }
  void on_drained() override { ++s_.drained; }

 private:
  bool frame(const std::string& f) {  // false: stop consuming
    if (f == "BIG!") {
      std::string chunk(64 * 1024, '\0');
      for (std::size_t off = 0; off < kBig; off += chunk.size()) {
        for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = pattern(off + i);
        sink_.write(chunk);
      }
      s_.queued_after_big = sink_.queued_bytes();
    } else if (f == "BYE!") {
      sink_.write("bye.");
      sink_.close_after_flush();
      return false;
    } else if (f == "KILL") {
      sink_.abort();
      return false;
    } else if (f == "PAUS" || f == "PAUL") {
      sink_.pause_reading(true);
      auto alive = alive_;
      auto* sink = &sink_;
      loop_.after(f == "PAUS" ? 50 : 300, [alive, sink] {
        if (*alive) sink->pause_reading(false);
      });
      return false;
    } else if (f == "HOOK") {
      sink_.write("hook");
      s_.hook_pending = true;
      s_.hook_sink = &sink_;
    } else if (f == "INFO") {
      const auto& i = sink_.info();
      std::string text = i.peer_address + "|" + (i.loopback ? "lo" : "remote") + "|" + std::string(i.listener);
      s_.info = i;
      sink_.write(std::string(1, static_cast<char>(text.size())) + text);
    } else {
      sink_.write(f);
    }
    return true;
  }

  core::ConnectionSink& sink_;
  Stats& s_;
  net::Loop& loop_;
  std::shared_ptr<bool> alive_;
};

class EchoFactory final : public core::ProtocolFactory {
 public:
  EchoFactory(Stats& s, net::Loop& loop) : s_(s), loop_(loop) {}
  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override {
    return std::make_unique<EchoHandler>(sink, s_, loop_);
  }
  const char* protocol_name() const override { return "echo"; }

 private:
  Stats& s_;
  net::Loop& loop_;
};

// ---- blocking client side ----

inline int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline void send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

// Reads exactly n bytes (less on EOF, error or timeout).
inline std::string recv_n(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

// True when the peer closed (EOF or reset) before the timeout.
inline bool peer_closed(int fd) {
  char c;
  ssize_t r = ::recv(fd, &c, 1, 0);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

// One loop, one listener on 127.0.0.1:0, and an Async the client uses to
// stop the loop when it is done.
struct Harness {
  Stats stats;
  net::Loop loop;
  EchoFactory factory{stats, loop};
  net::Listener listener;
  net::Async done{loop, [this] { loop.stop(); }};

  explicit Harness(net::ListenerSpec spec = {"127.0.0.1", 0, "test", 0})
      : listener(loop, std::move(spec), factory) {}

  // Runs the loop while `client` runs in a thread; returns run()'s result.
  int run(const std::function<void(std::uint16_t)>& client) {
    std::uint16_t port = listener.port();
    std::thread t([&] {
      client(port);
      done.send();
    });
    int rc = loop.run();
    t.join();
    return rc;
  }
};

}  // namespace echo_testkit
