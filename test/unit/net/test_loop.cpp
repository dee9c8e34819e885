// gateway/net against real loopback sockets: see echo_testkit.h.
#include <catch2/catch.hpp>
#include <csignal>

#include "echo_testkit.h"

using namespace junction;
using namespace echo_testkit;

TEST_CASE("echo round trip and connection info", "[net]") {
  Harness h;
  std::string echoed, info;
  bool closed_by_peer_eof = false;
  REQUIRE(h.listener.port() != 0);
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "abcdefgh");
    echoed = recv_n(fd, 8);
    send_all(fd, "INFO");
    std::string len = recv_n(fd, 1);
    if (len.size() == 1) info = recv_n(fd, static_cast<unsigned char>(len[0]));
    ::close(fd);
    closed_by_peer_eof = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the server see EOF
  });
  CHECK(rc == 0);
  CHECK(echoed == "abcdefgh");
  CHECK(info == "127.0.0.1|lo|test");
  CHECK(h.stats.info.peer_port != 0);
  CHECK(closed_by_peer_eof);
  CHECK(h.stats.created == 1);
  CHECK(h.stats.closed == 1);
  CHECK(h.stats.destroyed == 1);
}

TEST_CASE("partial frames are kept and presented again with the next read", "[net]") {
  Harness h;
  std::string first, second, third;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "abcdef");  // one frame and a half
    first = recv_n(fd, 4);   // proves the first read was handled
    send_all(fd, "gh");
    second = recv_n(fd, 4);  // "efgh": leftover + new bytes
    send_all(fd, "i");       // partial frames over three reads
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    send_all(fd, "j");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    send_all(fd, "klmnopqrst");  // completes "ijkl", then 2 frames + "st"
    third = recv_n(fd, 12);
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(first == "abcd");
  CHECK(second == "efgh");
  CHECK(third == "ijklmnopqrst");
  REQUIRE(h.stats.frames.size() == 5);
  CHECK(h.stats.frames[1] == "efgh");
  // The leftover "ef" came back in front of "gh".
  REQUIRE(h.stats.presented.size() >= 2);
  CHECK(h.stats.presented[0] == 6);
  CHECK(h.stats.presented[1] == 2);  // after one frame, the handler saw the tail alone
}

TEST_CASE("many small writes in one iteration arrive in order", "[net]") {
  Harness h;
  std::string request, reply;
  for (int i = 0; i < 2000; ++i) {
    char f[12];
    std::snprintf(f, sizeof f, "%04d", i);
    request += f;
  }
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, request);
    reply = recv_n(fd, request.size());
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(reply == request);
}

TEST_CASE("end-of-iteration hooks run before output is flushed", "[net]") {
  Harness h;
  h.loop.on_iteration_end([&] {
    if (h.stats.hook_pending) {
      h.stats.hook_pending = false;
      h.stats.queued_at_hook = h.stats.hook_sink->queued_bytes();
    }
  });
  std::string reply;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "HOOK");
    reply = recv_n(fd, 4);
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(reply == "hook");
  CHECK(h.stats.queued_at_hook == 4);
}

TEST_CASE("a large reply keeps its order with writes made while it drains", "[net]") {
  Harness h;
  std::string head, body;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "BIG!");
    head = recv_n(fd, 1);   // the server has written BIG!, most still queued
    send_all(fd, "ping");   // its echo must come after the whole blob
    body = recv_n(fd, kBig - 1 + 4);
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(h.stats.queued_after_big == kBig);
  REQUIRE(head.size() == 1);
  REQUIRE(body.size() == kBig - 1 + 4);
  bool intact = head[0] == pattern(0);
  for (std::size_t i = 1; i < kBig && intact; ++i) intact = body[i - 1] == pattern(i);
  CHECK(intact);
  CHECK(body.substr(kBig - 1) == "ping");
  CHECK(h.stats.drained >= 1);  // went above high water, came back below low
}

TEST_CASE("close_after_flush delivers everything, then closes", "[net]") {
  Harness h;
  std::string data;
  bool eof = false;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "BIG!BYE!ignored!");
    data = recv_n(fd, kBig + 4);
    eof = peer_closed(fd);
    ::close(fd);
  });
  CHECK(rc == 0);
  REQUIRE(data.size() == kBig + 4);
  CHECK(data.substr(kBig) == "bye.");
  CHECK(eof);
  CHECK(h.stats.frames.size() == 2);  // nothing read after BYE!
  CHECK(h.stats.closed == 1);
  CHECK(h.stats.destroyed == 1);
}

TEST_CASE("abort closes at once", "[net]") {
  Harness h;
  bool eof = false;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "KILL");
    eof = peer_closed(fd);
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(eof);
  CHECK(h.stats.closed == 1);
}

TEST_CASE("paused reading keeps buffered frames and replays them on resume", "[net]") {
  Harness h;
  std::string reply;
  int rc = h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    send_all(fd, "PAUSabcdefgh");  // one read: the last two frames wait
    reply = recv_n(fd, 8);         // arrives after the 50 ms pause
    ::close(fd);
  });
  CHECK(rc == 0);
  CHECK(reply == "abcdefgh");
  REQUIRE(h.stats.frames.size() == 3);
  CHECK(h.stats.frames[0] == "PAUS");
}

TEST_CASE("max_connections refuses past the limit", "[net]") {
  Harness h({"127.0.0.1", 0, "limited", 1});
  std::string a1, a2;
  bool b_refused = false;
  int rc = h.run([&](std::uint16_t port) {
    int a = connect_to(port);
    send_all(a, "ping");
    a1 = recv_n(a, 4);
    int b = connect_to(port);
    b_refused = b < 0 || peer_closed(b);
    if (b >= 0) ::close(b);
    send_all(a, "pong");
    a2 = recv_n(a, 4);
    ::close(a);
  });
  CHECK(rc == 0);
  CHECK(a1 == "ping");
  CHECK(a2 == "pong");
  CHECK(b_refused);
  CHECK(h.listener.refused() == 1);
  CHECK(h.stats.created == 1);
}

TEST_CASE("limits.max_connections refuses past the limit over all listeners", "[net]") {
  Harness h;
  net::Listener second(h.loop, {"127.0.0.1", 0, "second", 0}, h.factory);
  h.loop.set_admission_limits({1, 0});
  std::uint16_t second_port = second.port();
  std::string a1, a2;
  bool b_refused = false;
  int rc = h.run([&](std::uint16_t port) {
    int a = connect_to(port);
    send_all(a, "ping");
    a1 = recv_n(a, 4);
    int b = connect_to(second_port);  // the other listener: the global limit still holds
    b_refused = b < 0 || peer_closed(b);
    if (b >= 0) ::close(b);
    send_all(a, "pong");
    a2 = recv_n(a, 4);
    ::close(a);
  });
  CHECK(rc == 0);
  CHECK(a1 == "ping");
  CHECK(a2 == "pong");
  CHECK(b_refused);
  CHECK(second.refused() == 1);
  CHECK(h.loop.admission_refusals().max_connections == 1);
  CHECK(h.loop.admission_refusals().connect_rate == 0);
  CHECK(h.stats.created == 1);
}

TEST_CASE("limits.max_connect_rate refuses connections past the rate", "[net]") {
  Harness h;
  h.loop.set_admission_limits({0, 2});  // a burst of 2, then one per 500 ms
  std::vector<std::string> echoed;
  bool third_refused = false;
  std::string later;
  int rc = h.run([&](std::uint16_t port) {
    for (int i = 0; i < 2; ++i) {
      int fd = connect_to(port);
      send_all(fd, "ping");
      echoed.push_back(recv_n(fd, 4));
      ::close(fd);
    }
    int c = connect_to(port);
    third_refused = c < 0 || peer_closed(c);
    if (c >= 0) ::close(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a token again
    int d = connect_to(port);
    send_all(d, "pong");
    later = recv_n(d, 4);
    ::close(d);
  });
  CHECK(rc == 0);
  CHECK(echoed == std::vector<std::string>{"ping", "ping"});
  CHECK(third_refused);
  CHECK(later == "pong");
  CHECK(h.listener.refused() == 1);
  CHECK(h.loop.admission_refusals().connect_rate == 1);
  CHECK(h.stats.created == 3);
}

TEST_CASE("stop() aborts live connections and closes every handle", "[net]") {
  Harness h;
  int ticks_seen = 0;
  int repeats = 0;
  h.loop.every(100, [&] { ++repeats; });
  bool signalled = false;
  h.loop.on_signal(SIGUSR1, [&](int) { signalled = true; });
  int fd = -1;
  int rc = h.run([&](std::uint16_t port) {
    fd = connect_to(port);
    send_all(fd, "ping");
    recv_n(fd, 4);
    ::raise(SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // one tick
    // fd stays open: stop() must abort the connection
  });
  if (fd >= 0) ::close(fd);
  ticks_seen = h.stats.ticks;
  CHECK(rc == 0);
  CHECK(ticks_seen >= 1);
  CHECK(repeats >= 5);
  CHECK(signalled);
  CHECK(h.stats.closed == 1);
  CHECK(h.stats.destroyed == 1);
  CHECK(h.loop.connection_count() == 0);
}

TEST_CASE("bind errors name the address; bad literals are refused", "[net]") {
  Stats stats;
  net::Loop loop;
  EchoFactory factory{stats, loop};
  net::Listener first(loop, {"127.0.0.1", 0, "first", 0}, factory);
  std::string where = "127.0.0.1:" + std::to_string(first.port());
  REQUIRE_THROWS_WITH(net::Listener(loop, {"127.0.0.1", first.port(), "second", 0}, factory),
                      Catch::Contains(where) && Catch::Contains("EADDRINUSE"));
  REQUIRE_THROWS_WITH(net::Listener(loop, {"localhost", 1883, "bad", 0}, factory),
                      Catch::Contains("localhost:1883"));
  CHECK(first.name() == "first");
  CHECK(first.address() == where);
  loop.stop();
  CHECK(loop.run() == 0);
}

TEST_CASE("IPv6 loopback listener", "[net]") {
  Stats stats;
  net::Loop loop;
  EchoFactory factory{stats, loop};
  std::unique_ptr<net::Listener> l;
  try {
    l = std::make_unique<net::Listener>(loop, net::ListenerSpec{"::1", 0, "", 0}, factory);
  } catch (const std::exception&) {
    loop.stop();
    CHECK(loop.run() == 0);
    SUCCEED("no IPv6 on this host");
    return;
  }
  CHECK(l->address() == "[::1]:" + std::to_string(l->port()));
  CHECK(l->name() == "echo/tcp [::1]:" + std::to_string(l->port()));
  l.reset();
  CHECK(loop.run() == 0);
}
