// net::Connector against real loopback sockets, all on one loop: a Listener
// on 127.0.0.1:0 plays the server, the Connector's handlers the client.
// Every case ends with Loop::run() returning 0 (nothing leaked).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connector.h"
#include "echo_testkit.h"
#include "frontend.h"
#include "listener.h"
#include "loop.h"

using namespace junction;

namespace {

// A handler that records what it sees and runs a callback per event.
struct Events {
  int created = 0, closed = 0;
  std::string received;
  std::function<void(core::ConnectionSink&)> on_create;
  std::function<void(core::ConnectionSink&, std::string_view)> on_data;
};

class ScriptHandler final : public core::ProtocolHandler {
 public:
  ScriptHandler(core::ConnectionSink& sink, Events& e) : sink_(sink), e_(e) {
    ++e_.created;
    if (e_.on_create) e_.on_create(sink_);
  }
  std::size_t on_bytes(std::span<const std::uint8_t> data) override {
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    e_.received.append(text);
    if (e_.on_data) e_.on_data(sink_, text);
    return data.size();
  }
  void on_closed() override { ++e_.closed; }
  void on_tick(std::int64_t) override {}

 private:
  core::ConnectionSink& sink_;
  Events& e_;
};

class ScriptFactory final : public core::ProtocolFactory {
 public:
  explicit ScriptFactory(Events& e) : e_(e) {}
  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override {
    return std::make_unique<ScriptHandler>(sink, e_);
  }
  const char* protocol_name() const override { return "script"; }

 private:
  Events& e_;
};

// A loopback port with nothing listening: bound and closed again.
net::ConnectorSpec spec_for(std::vector<net::Endpoint> eps) {
  net::ConnectorSpec s;
  s.endpoints = std::move(eps);
  s.name = "test upstream";
  s.min_backoff_ms = 20;
  s.max_backoff_ms = 80;
  s.connect_timeout_ms = 2000;
  s.healthy_after_ms = 60000;
  return s;
}

}  // namespace

TEST_CASE("Connector connects, exchanges bytes, and reconnects after the server closes") {
  net::Loop loop;
  Events server, client;
  ScriptFactory server_factory(server), client_factory(client);
  net::Listener listener(loop, {"127.0.0.1", 0, "server", 0}, server_factory);
  net::Connector connector(loop, spec_for({{"127.0.0.1", listener.port()}}), client_factory);

  // Client says hello on every connect; the server answers and hangs up the
  // first time; the second time the client stops everything.
  client.on_create = [](core::ConnectionSink& s) { s.write("hello"); };
  server.on_data = [&](core::ConnectionSink& s, std::string_view) {
    s.write("bye");
    s.close_after_flush();
  };
  client.on_data = [&](core::ConnectionSink&, std::string_view) {
    if (client.created == 2) {
      CHECK(connector.connected());
      connector.stop();
      loop.stop();
    }
  };
  connector.start();
  CHECK_FALSE(connector.connected());  // the TCP connect is asynchronous
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 2);
  CHECK(client.closed == 2);
  CHECK(client.received == "byebye");
  CHECK(server.received == "hellohello");
  CHECK(connector.connects() == 2);
  CHECK(connector.attempts() == 2);
  CHECK(client.created == client.closed);
}

TEST_CASE("Connector backs off with jitter while the server is down, then fails over") {
  net::Loop loop;
  Events server, client;
  ScriptFactory server_factory(server), client_factory(client);
  net::Listener listener(loop, {"127.0.0.1", 0, "server", 0}, server_factory);
  std::uint16_t dead = echo_testkit::closed_port();
  net::Connector connector(loop, spec_for({{"127.0.0.1", dead}, {"127.0.0.1", dead}, {"127.0.0.1", listener.port()}}),
                           client_factory);
  std::vector<std::uint64_t> delays;
  // The delay chosen after each failed attempt, read at the end of the loop
  // iteration that failed it (a timer sampling every few ms missed one on a
  // busy machine). Keyed by attempt, so two equal delays both count.
  std::uint64_t sampled_attempt = 0;
  loop.on_iteration_end([&] {
    const std::uint64_t d = connector.pending_backoff_ms();
    if (d != 0 && connector.attempts() != sampled_attempt) {
      sampled_attempt = connector.attempts();
      delays.push_back(d);
    }
  });
  client.on_create = [&](core::ConnectionSink&) {
    connector.stop();
    loop.stop();
  };
  connector.start();
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 1);
  CHECK(connector.attempts() == 3);  // dead, dead, then the live one
  CHECK(connector.last_error().empty());
  REQUIRE(delays.size() >= 2);
  CHECK(delays[0] >= 10);  // [min/2, min]
  CHECK(delays[0] <= 20);
  CHECK(delays[1] >= 20);  // [min, 2 min]
  CHECK(delays[1] <= 40);
}

TEST_CASE("A healthy connection that ends resets the back-off and is reported as ended, not as a failed handshake") {
  net::Loop loop;
  Events server, client;
  ScriptFactory server_factory(server), client_factory(client);
  net::Listener listener(loop, {"127.0.0.1", 0, "server", 0}, server_factory);
  const std::uint16_t dead = echo_testkit::closed_port();
  // Three failures first (the back-off grows), then a connection that stays
  // up past healthy_after_ms before the server ends it.
  net::ConnectorSpec spec = spec_for({{"127.0.0.1", dead}, {"127.0.0.1", dead}, {"127.0.0.1", dead},
                                      {"127.0.0.1", listener.port()}});
  spec.min_backoff_ms = 20;
  spec.max_backoff_ms = 5000;
  spec.healthy_after_ms = 50;
  net::Connector connector(loop, spec, client_factory);
  server.on_create = [&](core::ConnectionSink& s) {
    loop.after(150, [&s] { s.close_after_flush(); });
  };
  std::uint64_t delay_after_end = 0;
  std::string error_after_end;
  loop.on_iteration_end([&] {
    if (client.closed == 1 && delay_after_end == 0 && connector.pending_backoff_ms() != 0) {
      delay_after_end = connector.pending_backoff_ms();
      error_after_end = connector.last_error();
      connector.stop();
      loop.stop();
    }
  });
  connector.start();
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 1);
  CHECK(connector.attempts() == 4);
  CHECK(delay_after_end >= 10);  // [min/2, min]: the healthy connection reset the count
  CHECK(delay_after_end <= 20);
  CHECK(error_after_end.find("connection ended") != std::string::npos);
  CHECK(error_after_end.find("TLS") == std::string::npos);
}

TEST_CASE("Connector reports why it cannot connect and keeps trying until stopped") {
  net::Loop loop;
  Events client;
  ScriptFactory client_factory(client);
  net::Connector connector(loop, spec_for({{"127.0.0.1", echo_testkit::closed_port()}}), client_factory);
  std::string error;
  loop.after(300, [&] {
    error = connector.last_error();
    connector.stop();
    loop.after(100, [&] { loop.stop(); });
  });
  connector.start();
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 0);
  CHECK(connector.attempts() >= 3);
  CHECK_FALSE(connector.running());
  CHECK(error.find("refused") != std::string::npos);
}

TEST_CASE("Loop::stop closes a connected Connector and its connection cleanly") {
  net::Loop loop;
  Events server, client;
  ScriptFactory server_factory(server), client_factory(client);
  net::Listener listener(loop, {"127.0.0.1", 0, "server", 0}, server_factory);
  auto connector = std::make_unique<net::Connector>(loop, spec_for({{"127.0.0.1", listener.port()}}),
                                                    client_factory);
  server.on_create = [&](core::ConnectionSink&) {
    // Destroy the Connector while its connection is open: the connection
    // must close without reporting back to it.
    loop.after(20, [&] {
      connector.reset();
      loop.after(20, [&] { loop.stop(); });
    });
  };
  connector->start();
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 1);
  CHECK(client.closed == 1);
}

// ---------------------------------------------------------------- TLS ----
// Client TLS (amqps://) against a Listener with server TLS, certificates
// from test/data/tls: server.crt is for DNS:localhost, signed by ca.crt.

namespace {

std::string tls_data(const std::string& name) { return std::string(JUNCTION_TLS_TEST_DATA) + "/" + name; }

std::shared_ptr<const net::TransportSpec> server_tls() {
  net::TlsSettings s;
  s.cert_file = tls_data("server.crt");
  s.key_file = tls_data("server.key");
  auto t = std::make_shared<net::TransportSpec>();
  t->kind = net::TransportKind::Tls;
  t->tls = std::make_shared<const net::TlsContext>(net::TlsContext::Role::Server, s);
  return t;
}

std::shared_ptr<const net::TransportSpec> client_tls(const std::string& ca) {
  net::TlsSettings s;
  s.ca_file = tls_data(ca);
  auto t = std::make_shared<net::TransportSpec>();
  t->kind = net::TransportKind::Tls;
  t->tls = std::make_shared<const net::TlsContext>(net::TlsContext::Role::Client, s);
  return t;
}

}  // namespace

TEST_CASE("Connector with client TLS exchanges bytes with a TLS Listener") {
  net::Loop loop;
  Events server, client;
  ScriptFactory server_factory(server), client_factory(client);
  net::Listener listener(loop, {"127.0.0.1", 0, "server", 0}, server_factory, server_tls());
  auto spec = spec_for({{"127.0.0.1", listener.port()}});
  spec.transport = client_tls("ca.crt");
  spec.server_name = "localhost";  // mbedTLS 2.28 does not match IP SANs
  net::Connector connector(loop, spec, client_factory);
  std::string transport;
  client.on_create = [&](core::ConnectionSink& s) {
    transport = std::string(s.info().transport);
    s.write("hello over tls");
  };
  server.on_data = [&](core::ConnectionSink& s, std::string_view) { s.write("welcome"); };
  client.on_data = [&](core::ConnectionSink&, std::string_view) {
    if (client.received == "welcome") {
      connector.stop();
      loop.stop();
    }
  };
  connector.start();
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 1);
  CHECK(server.created == 1);
  CHECK(server.received == "hello over tls");
  CHECK(client.received == "welcome");
  CHECK(transport == "tls");
  CHECK(connector.last_error().empty());
}

TEST_CASE("Connector with client TLS fails the handshake on an untrusted or misnamed server and retries") {
  net::Loop loop;
  Events server, client;
  ScriptFactory server_factory(server), client_factory(client);
  net::Listener listener(loop, {"127.0.0.1", 0, "server", 0}, server_factory, server_tls());
  auto spec = spec_for({{"127.0.0.1", listener.port()}});
  std::string expect;
  SECTION("a CA that did not sign the server certificate") {
    spec.transport = client_tls("other-ca.crt");
    spec.server_name = "localhost";
  }
  SECTION("a server name the certificate is not for") {
    spec.transport = client_tls("ca.crt");
    spec.server_name = "broker.example.com";
  }
  net::Connector connector(loop, spec, client_factory);
  std::string error;
  std::uint64_t attempts = 0;
  loop.after(400, [&] {
    error = connector.last_error();
    attempts = connector.attempts();
    connector.stop();
    loop.after(100, [&] { loop.stop(); });
  });
  connector.start();
  REQUIRE(loop.run() == 0);
  CHECK(client.created == 0);  // no handler without a verified server
  CHECK(server.created == 0);
  CHECK(attempts >= 2);        // backed off and tried again
  INFO(error);
  CHECK(error.find("TLS handshake") != std::string::npos);
  CHECK(error.find("verif") != std::string::npos);  // mbedTLS's text
}
