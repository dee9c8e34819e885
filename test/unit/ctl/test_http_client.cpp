// perform() against a one-shot loopback server thread: the request on the
// wire, the answer parsed, and each failure in its stage (refused connect,
// a server that never answers, one that hangs up).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "http_client.h"

using namespace junction::ctl;

namespace {

// A listening socket on 127.0.0.1:<kernel's choice>. serve() accepts one
// connection, reads the request head (and a body as long as its
// Content-Length), then answers `reply` (unless empty: hang up, or with
// `stall`, keep the connection open without answering until stopped).
class OneShotServer {
 public:
  explicit OneShotServer(bool listen_too = true) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    if (listen_too) REQUIRE(::listen(fd_, 4) == 0);
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }

  void serve(std::string reply, int stall_ms = 0) {
    thread_ = std::thread([this, reply = std::move(reply), stall_ms] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::size_t want = std::string::npos;
      for (;;) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request_.append(buf, static_cast<std::size_t>(n));
        const std::size_t head = request_.find("\r\n\r\n");
        if (head == std::string::npos) continue;
        if (want == std::string::npos) {
          want = head + 4;
          const std::size_t cl = request_.find("Content-Length: ");
          if (cl != std::string::npos && cl < head) want += std::stoul(request_.substr(cl + 16));
        }
        if (request_.size() >= want) break;
      }
      if (stall_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
      if (!reply.empty()) (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }

  unsigned port() const { return port_; }
  // The bytes the client sent; read after the client call returned.
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  int fd_ = -1;
  unsigned port_ = 0;
  std::thread thread_;
  std::string request_;
};

ClientOptions options_for(unsigned port, const char* base = "") {
  ClientOptions o;
  o.url.host = "127.0.0.1";
  o.url.port = static_cast<std::uint16_t>(port);
  o.url.base_path = base;
  o.timeout_ms = 2000;
  return o;
}

}  // namespace

TEST_CASE("perform: request on the wire, answer parsed", "[ctl][client]") {
  OneShotServer server;
  server.serve("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{\"published\":true}");
  HttpRequest req{"POST", "/api/v1/publish", R"({"topic":"a","payload":"x"})", basic_authorization("admin", "pw")};
  const HttpResult r = perform(options_for(server.port(), "/prefix"), req);
  REQUIRE(std::holds_alternative<HttpResponse>(r));
  const auto& response = std::get<HttpResponse>(r);
  CHECK(response.status == 200);
  CHECK(response.body == "{\"published\":true}");
  const std::string& wire = server.request();
  CHECK(wire.rfind("POST /prefix/api/v1/publish HTTP/1.1\r\n", 0) == 0);
  CHECK_THAT(wire, Catch::Contains("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"));
  CHECK_THAT(wire, Catch::Contains("Authorization: Basic YWRtaW46cHc=\r\n"));
  CHECK_THAT(wire, Catch::Contains("Connection: close\r\n"));
  CHECK_THAT(wire, Catch::EndsWith("\r\n\r\n{\"topic\":\"a\",\"payload\":\"x\"}"));
}

TEST_CASE("perform: a body that runs until the server closes", "[ctl][client]") {
  OneShotServer server;
  server.serve("HTTP/1.0 404 Not Found\r\n\r\n{\"error\":\"no such queue\"}");
  const HttpResult r = perform(options_for(server.port()), {"GET", "/api/v1/queues/x", "", ""});
  REQUIRE(std::holds_alternative<HttpResponse>(r));
  CHECK(std::get<HttpResponse>(r).status == 404);
  CHECK(std::get<HttpResponse>(r).body == "{\"error\":\"no such queue\"}");
}

TEST_CASE("perform: refused connection is a Connect failure", "[ctl][client]") {
  OneShotServer bound_not_listening(false);  // the port is ours, nobody accepts: RST
  const HttpResult r = perform(options_for(bound_not_listening.port()), {"GET", "/api/v1/broker", "", ""});
  REQUIRE(std::holds_alternative<TransportError>(r));
  const auto& e = std::get<TransportError>(r);
  CHECK(e.stage == TransportError::Stage::Connect);
  CHECK_THAT(e.message, Catch::StartsWith("cannot connect to 127.0.0.1:" + std::to_string(bound_not_listening.port())));
}

TEST_CASE("perform: unknown host is a Connect failure", "[ctl][client]") {
  ClientOptions o = options_for(1);
  o.url.host = "no-such-host.invalid";
  const HttpResult r = perform(o, {"GET", "/", "", ""});
  REQUIRE(std::holds_alternative<TransportError>(r));
  CHECK(std::get<TransportError>(r).stage == TransportError::Stage::Connect);
}

TEST_CASE("perform: a server that never answers times out", "[ctl][client]") {
  OneShotServer server;
  server.serve("", 1500);
  ClientOptions o = options_for(server.port());
  o.timeout_ms = 200;
  const HttpResult r = perform(o, {"GET", "/api/v1/broker", "", ""});
  REQUIRE(std::holds_alternative<TransportError>(r));
  CHECK(std::get<TransportError>(r).stage == TransportError::Stage::Exchange);
  CHECK_THAT(std::get<TransportError>(r).message, Catch::Contains("timed out"));
}

TEST_CASE("perform: hang-up without an answer, and an answer that is not HTTP", "[ctl][client]") {
  {
    OneShotServer server;
    server.serve("");
    const HttpResult r = perform(options_for(server.port()), {"GET", "/", "", ""});
    REQUIRE(std::holds_alternative<TransportError>(r));
    CHECK(std::get<TransportError>(r).stage == TransportError::Stage::Exchange);
    CHECK_THAT(std::get<TransportError>(r).message, Catch::Contains("closed the connection"));
  }
  {
    OneShotServer server;
    server.serve(std::string("\x20\x02\x00\x00", 4));  // an MQTT CONNACK: wrong port
    const HttpResult r = perform(options_for(server.port()), {"GET", "/", "", ""});
    REQUIRE(std::holds_alternative<TransportError>(r));
    CHECK_THAT(std::get<TransportError>(r).message, Catch::Contains("malformed HTTP answer"));
  }
}
