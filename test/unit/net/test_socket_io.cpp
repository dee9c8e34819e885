// The socket I/O under net::Connection and net::Listener (our own reads,
// writes, accepts and connects; sockets in the loop's epoll set): partial writes against a peer
// that does not read, EOF in the middle of a frame, accept bursts above the
// per-wake-up cap, outbound connects, and no descriptor left behind.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "connection.h"
#include "echo_testkit.h"
#include "loop_impl.h"

using namespace junction;
using namespace echo_testkit;

namespace {

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

// A loopback port nobody listens on: bound, then closed.
sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Records what Connection::connect reports to its owner.
struct Outbound final : net::ConnectionOwner {
  int opened = 0, established = 0, closed = 0;
  bool closed_established = false;
  int error = 0;
  std::function<void()> on_closed;
  void connection_opened(net::Connection*) noexcept override { ++opened; }
  void connection_established(net::Connection*) noexcept override { ++established; }
  void connection_closed(net::Connection* c, bool est) noexcept override {
    ++closed;
    closed_established = est;
    error = c->error();
    if (on_closed) on_closed();
  }
};

}  // namespace

TEST_CASE("a peer that does not read: output stays queued past high water, then drains", "[net]") {
  Harness h;
  std::vector<std::size_t> queued;  // sampled by the loop while the client sleeps
  int drained_while_stalled = -1;
  std::string data;
  std::atomic<bool> sampled{false};
  net::Async sample{h.loop, [&] {
    if (h.stats.last_sink != nullptr) queued.push_back(h.stats.last_sink->queued_bytes());
    drained_while_stalled = h.stats.drained;
    sampled = true;
  }};
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "BIG!");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // not reading
    sample.send();
    while (!sampled.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    data = recv_n(fd, kBig);
    send_all(fd, "ping");
    std::string pong = recv_n(fd, 4);
    data += pong;
    ::close(fd);
  });
  CHECK(rc == 0);
  REQUIRE(queued.size() == 1);
  // The kernel took some (socket buffers), the rest waits in our buffer.
  CHECK(queued[0] > 64 * 1024);
  CHECK(queued[0] < kBig);
  CHECK(drained_while_stalled == 0);
  REQUIRE(data.size() == kBig + 4);
  bool intact = true;
  for (std::size_t i = 0; i < kBig && intact; ++i) intact = data[i] == pattern(i);
  CHECK(intact);
  CHECK(data.substr(kBig) == "ping");
  CHECK(h.stats.drained == 1);
}

TEST_CASE("EOF in the middle of a frame closes; the reply to a whole frame still leaves", "[net]") {
  Harness h;
  std::string reply;
  bool eof = false;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "abcdef");  // one frame and half of the next
    ::shutdown(fd, SHUT_WR);
    reply = recv_n(fd, 4);
    eof = peer_closed(fd);
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(reply == "abcd");
  CHECK(eof);
  CHECK(h.stats.frames == std::vector<std::string>{"abcd"});
  CHECK(h.stats.closed == 1);
  CHECK(h.stats.destroyed == 1);
  CHECK(h.loop.connection_count() == 0);
}

TEST_CASE("the loop counts the bytes read and sent on its sockets ($SYS bytes/...)", "[net]") {
  Harness h;
  CHECK(h.loop.traffic().bytes_received == 0);
  CHECK(h.loop.traffic().bytes_sent == 0);
  std::string reply;
  bool eof = false;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "abcdefgh");  // two frames, echoed
    reply = recv_n(fd, 8);
    send_all(fd, "BYE!");
    reply += recv_n(fd, 4);
    eof = peer_closed(fd);
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(eof);
  CHECK(reply == "abcdefghbye.");
  CHECK(h.loop.traffic().bytes_received == 12);
  CHECK(h.loop.traffic().bytes_sent == 12);
}

TEST_CASE("an accept burst above the per-wake-up cap is served in full", "[net]") {
  constexpr int kClients = 300;  // the listener takes 128 per wake-up
  Harness h;
  std::atomic<bool> release{false};
  // Hold the loop so every connection waits in the backlog at once.
  h.loop.after(0, [&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  int served = 0;
  int rc = h.run([&](std::uint16_t port) {
    std::vector<int> fds;
    for (int i = 0; i < kClients; ++i) fds.push_back(connect_to(port));  // the kernel completes them
    release = true;
    for (int fd : fds) send_all(fd, "ping");
    for (int fd : fds) served += recv_n(fd, 4) == "ping";
    for (int fd : fds) ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the server see the EOFs
  });
  CHECK(rc == 0);
  CHECK(served == kClients);
  CHECK(h.stats.created == kClients);
  CHECK(h.listener.accepted() == kClients);
  CHECK(h.listener.refused() == 0);
}

TEST_CASE("200 connections closed every way leave no descriptor behind", "[net]") {
  int before = open_fds();
  REQUIRE(before > 0);
  int refused = 0, finished = 0;
  {
    Harness h({"127.0.0.1", 0, "fds", 2});  // one held open, one at a time, the third refused
    int rc = h.run([&](std::uint16_t port) {
      int held = connect_to(port);
      send_all(held, "ping");
      recv_n(held, 4);
      for (int i = 0; i < 200; ++i) {
        int b = connect_to(port);
        send_all(b, "ping");
        bool ok = recv_n(b, 4) == "ping";
        int c = connect_to(port);  // past max_connections
        refused += c < 0 || peer_closed(c);
        if (c >= 0) ::close(c);
        switch (i % 3) {
          case 0:  // the server aborts
            send_all(b, "KILL");
            break;
          case 1:  // the server closes after flushing
            send_all(b, "BYE!");
            ok = ok && recv_n(b, 4) == "bye.";
            break;
          default:  // the client ends it
            ::shutdown(b, SHUT_WR);
        }
        // Closed on the server side before the next round (else it counts).
        finished += ok && peer_closed(b);
        ::close(b);
      }
      ::close(held);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    });
    CHECK(rc == 0);
    CHECK(h.listener.accepted() == 201);
    CHECK(h.listener.refused() == 200);
    CHECK(h.stats.destroyed == 201);
  }
  CHECK(refused == 200);
  CHECK(finished == 200);
  CHECK(open_fds() == before);
}

TEST_CASE("an outbound connect to a closed port fails with ECONNREFUSED", "[net]") {
  int before = open_fds();
  Stats stats;
  Outbound owner;
  {
    net::Loop loop;
    EchoFactory factory{stats, loop};
    owner.on_closed = [&] { loop.stop(); };
    sockaddr_in a = loopback(closed_port());
    net::Connection* c = net::Connection::connect(loop.impl(), reinterpret_cast<const sockaddr*>(&a), &owner,
                                                  "out", {}, factory);
    REQUIRE(c != nullptr);
    CHECK(loop.run() == 0);
  }
  CHECK(owner.opened == 1);
  CHECK(owner.established == 0);
  CHECK(owner.closed == 1);
  CHECK_FALSE(owner.closed_established);
  CHECK(owner.error == UV_ECONNREFUSED);
  CHECK(stats.created == 0);
  CHECK(open_fds() == before);
}

TEST_CASE("an outbound connect that succeeds creates the handler and talks", "[net]") {
  int before = open_fds();
  Outbound owner;
  Stats client_stats;
  std::string echoed;
  {
    Harness h;  // the server: echoes
    EchoFactory client_factory{client_stats, h.loop};
    // The client's handler gets the echo of what it sent; BYE! makes the
    // server close after its reply, which ends the test.
    owner.on_closed = [&] { h.loop.stop(); };
    sockaddr_in a = loopback(h.listener.port());
    net::Connection* c = net::Connection::connect(h.loop.impl(), reinterpret_cast<const sockaddr*>(&a), &owner,
                                                  "out", {}, client_factory);
    REQUIRE(c != nullptr);
    h.loop.after(50, [&] {
      if (client_stats.last_sink != nullptr) client_stats.last_sink->write("BYE!");
    });
    CHECK(h.loop.run() == 0);
    for (const auto& f : client_stats.frames) echoed += f;
  }
  CHECK(owner.opened == 1);
  CHECK(owner.established == 1);
  CHECK(owner.closed == 1);
  CHECK(owner.closed_established);
  CHECK(owner.error == 0);
  CHECK(client_stats.created == 1);
  CHECK(echoed == "bye.");
  CHECK(open_fds() == before);
}

TEST_CASE("out of descriptors, the listener pauses instead of spinning, then serves the backlog", "[net]") {
  constexpr int kClients = 5;
  Harness h;
  std::atomic<bool> connected{false};
  long iterations = 0, iterations_while_out = -1;
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  h.loop.on_iteration_end([&] { ++iterations; });
  h.loop.after(0, [&] {
    while (!connected.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // The lowest free descriptor becomes the limit: accept4 gets EMFILE.
    int probe = ::open("/dev/null", O_RDONLY);
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(probe);
    ::close(probe);
    ::setrlimit(RLIMIT_NOFILE, &low);
    long start = iterations;
    h.loop.after(300, [&, start] {
      iterations_while_out = iterations - start;
      ::setrlimit(RLIMIT_NOFILE, &saved);
    });
  });
  int served = 0;
  int rc = h.run([&](std::uint16_t port) {
    std::vector<int> fds;
    for (int i = 0; i < kClients; ++i) fds.push_back(connect_to(port));
    for (int fd : fds) send_all(fd, "ping");
    connected = true;
    for (int fd : fds) served += recv_n(fd, 4) == "ping";
    for (int fd : fds) ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  });
  ::setrlimit(RLIMIT_NOFILE, &saved);
  CHECK(rc == 0);
  // A 100 ms pause per EMFILE: a handful of iterations, not a busy loop.
  CHECK(iterations_while_out >= 0);
  CHECK(iterations_while_out < 50);
  CHECK(served == kClients);
  CHECK(h.listener.accepted() == kClients);
}

TEST_CASE("a peer that closes while reading is paused: no busy loop", "[net]") {
  // A hang-up is reported by epoll whether or not it was asked for; a
  // paused socket left in the set would wake the loop again and again.
  Harness h;
  rusage before{};
  ::getrusage(RUSAGE_THREAD, &before);
  REQUIRE(h.run([](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "PAUL");
    ::shutdown(fd, SHUT_WR);  // the server sees the FIN while paused
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    ::close(fd);
  }) == 0);
  rusage after{};
  ::getrusage(RUSAGE_THREAD, &after);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  const double cpu_ms = ms(after.ru_utime) - ms(before.ru_utime) + ms(after.ru_stime) - ms(before.ru_stime);
  CHECK(cpu_ms < 150);  // a spin would burn the whole 300 ms pause
  CHECK(h.stats.frames == std::vector<std::string>{"PAUL"});
  CHECK(h.stats.closed == 1);  // EOF seen after the pause, connection closed
}
