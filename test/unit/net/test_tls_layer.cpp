// TlsLayer in memory: a client-role layer and a server-role layer pump
// records into each other until both are open; application bytes both
// ways; client certificates (identity, required, untrusted); server name
// checks; start-up errors that name the file; wss = [TLS, WebSocket] stack.
// Certificates: test/data/tls (make.sh regenerates them).
#include <mbedtls/x509_crt.h>

#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>

#include "layer_stack.h"
#include "tls_context.h"
#include "tls_layer.h"
#include "ws_layer.h"
#include "ws_testkit.h"

using namespace junction::net;

namespace {

std::string data(const std::string& name) { return std::string(JUNCTION_TLS_TEST_DATA) + "/" + name; }

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::shared_ptr<const TlsContext> server_ctx(const std::string& ca = "", bool require = false) {
  TlsSettings s;
  s.cert_file = data("server.crt");
  s.key_file = data("server.key");
  s.ca_file = ca.empty() ? "" : data(ca);
  s.require_certificate = require;
  return std::make_shared<const TlsContext>(TlsContext::Role::Server, s);
}

std::shared_ptr<const TlsContext> client_ctx(const std::string& cert = "", bool verify = true) {
  TlsSettings s;
  s.ca_file = data("ca.crt");
  s.verify_peer = verify;
  if (!cert.empty()) {
    s.cert_file = data(cert + ".crt");
    s.key_file = data(cert + ".key");
  }
  return std::make_shared<const TlsContext>(TlsContext::Role::Client, s);
}

struct Pair {
  TlsLayer client;
  TlsLayer server;
  std::string client_app, server_app;
  LayerStatus client_status = LayerStatus::Ok, server_status = LayerStatus::Ok;

  Pair(std::shared_ptr<const TlsContext> c, std::shared_ptr<const TlsContext> s, const std::string& name = "localhost")
      : client(std::move(c), name), server(std::move(s)) {}

  // Runs the handshake; `chunk` splits every flight into pieces of that size.
  void handshake(std::size_t chunk = 0) {
    std::string to_server, to_client;
    client_status = client.start(to_server);
    for (int round = 0; round < 20 && client_status == LayerStatus::Ok && server_status == LayerStatus::Ok; ++round) {
      if (to_server.empty() && to_client.empty()) break;
      std::string flight;
      flight.swap(to_server);
      for (std::size_t at = 0; at < flight.size() && server_status == LayerStatus::Ok;) {
        std::size_t n = chunk == 0 ? flight.size() : std::min(chunk, flight.size() - at);
        server_status = server.on_input(bytes(std::string_view(flight).substr(at, n)), server_app, to_client);
        at += n;
      }
      flight.swap(to_client);
      to_client.clear();
      for (std::size_t at = 0; at < flight.size() && client_status == LayerStatus::Ok;) {
        std::size_t n = chunk == 0 ? flight.size() : std::min(chunk, flight.size() - at);
        client_status = client.on_input(bytes(std::string_view(flight).substr(at, n)), client_app, to_server);
        at += n;
      }
    }
    // The client's last flight may be a fatal alert after the server failed.
    if (!to_client.empty() && client_status == LayerStatus::Ok)
      client_status = client.on_input(bytes(to_client), client_app, to_server);
  }
};

std::string error_of(const TlsSettings& s, TlsContext::Role role = TlsContext::Role::Server) {
  try {
    TlsContext c(role, s);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("tls: client and server handshake in memory and exchange bytes", "[tls]") {
  std::size_t chunk = GENERATE(0, 1, 7, 100);
  Pair p(client_ctx(), server_ctx());
  p.handshake(chunk);
  REQUIRE(p.client_status == LayerStatus::Ok);
  REQUIRE(p.server_status == LayerStatus::Ok);
  REQUIRE(p.client.open());
  REQUIRE(p.server.open());
  CHECK(p.server.peer_identity().empty());  // no client certificate
  CHECK(p.server.describe().rfind("TLSv1.2 TLS-ECDHE-ECDSA-", 0) == 0);

  std::string wire, app;
  REQUIRE(p.client.on_output("\x10\x0c\x00\x04MQTT", wire) == LayerStatus::Ok);
  CHECK(wire.find("MQTT") == std::string::npos);  // encrypted
  std::string back;
  REQUIRE(p.server.on_input(bytes(wire), app, back) == LayerStatus::Ok);
  CHECK(app == "\x10\x0c\x00\x04MQTT");
  wire.clear();
  std::string big(100000, 'b');
  REQUIRE(p.server.on_output(big, wire) == LayerStatus::Ok);
  std::string got;
  REQUIRE(p.client.on_input(bytes(wire), got, back) == LayerStatus::Ok);
  CHECK(got == big);

  // close_notify ends the peer's stream gracefully.
  wire.clear();
  p.client.shutdown(wire);
  app.clear();
  CHECK(p.server.on_input(bytes(wire), app, back) == LayerStatus::Close);
}

TEST_CASE("tls: a verified client certificate gives its identity", "[tls]") {
  SECTION("subject CN") {
    Pair p(client_ctx("client"), server_ctx("ca.crt", true));
    p.handshake();
    REQUIRE(p.server.open());
    CHECK(p.server.peer_identity() == "device-1");
  }
  SECTION("first SAN when there is no CN") {
    Pair p(client_ctx("client-san"), server_ctx("ca.crt", true));
    p.handshake();
    REQUIRE(p.server.open());
    CHECK(p.server.peer_identity() == "sensor.example.com");
  }
  SECTION("optional: a client without a certificate gets in, without identity") {
    Pair p(client_ctx(), server_ctx("ca.crt", false));
    p.handshake();
    REQUIRE(p.server.open());
    CHECK(p.server.peer_identity().empty());
  }
}

TEST_CASE("tls: refused client certificates", "[tls]") {
  SECTION("required but absent") {
    Pair p(client_ctx(), server_ctx("ca.crt", true));
    p.handshake();
    CHECK(p.server_status == LayerStatus::Error);
    CHECK_FALSE(p.server.open());
    CHECK(p.server.error().find("handshake failed") != std::string::npos);
  }
  SECTION("signed by another CA, required") {
    Pair p(client_ctx("stranger"), server_ctx("ca.crt", true));
    p.handshake();
    CHECK(p.server_status == LayerStatus::Error);
    CHECK(p.server.error().find("not correctly signed") != std::string::npos);
  }
  SECTION("signed by another CA, optional: still refused") {
    Pair p(client_ctx("stranger"), server_ctx("ca.crt", false));
    p.handshake();
    CHECK(p.server_status == LayerStatus::Error);
    CHECK_FALSE(p.server.open());
  }
}

TEST_CASE("tls: client role checks the server's name and CA", "[tls]") {
  SECTION("wrong name") {
    Pair p(client_ctx(), server_ctx(), "broker.example.com");
    p.handshake();
    CHECK(p.client_status == LayerStatus::Error);
    INFO(p.client.error());
    CHECK(p.client.error().find("Common Name (CN) does not match") != std::string::npos);
  }
  SECTION("IP address in the SAN") {
    Pair p(client_ctx(), server_ctx(), "127.0.0.1");
    p.handshake();
    // mbedTLS 2.28 compares names with DNS SANs only; an IP SAN does not
    // match (bridges must use a DNS name, or verify_peer: false in tests).
    CHECK(p.client_status == LayerStatus::Error);
  }
  SECTION("no verification") {
    Pair p(client_ctx("", false), server_ctx(), "whatever");
    p.handshake();
    CHECK(p.client.open());
  }
}

TEST_CASE("tls: configuration errors name the file", "[tls]") {
  TlsSettings s;
  s.cert_file = data("server.crt");
  s.key_file = data("server.key");
  SECTION("missing certificate") {
    s.cert_file = "/nonexistent/server.crt";
    CHECK(error_of(s) == "cannot read certificate file /nonexistent/server.crt: No such file or directory");
  }
  SECTION("key that is not a key") {
    s.key_file = data("ca.crt");
    CHECK_THAT(error_of(s), Catch::StartsWith("cannot load key file " + data("ca.crt") + ": "));
  }
  SECTION("key of another certificate") {
    s.key_file = data("client.key");
    CHECK_THAT(error_of(s), Catch::StartsWith("key file " + data("client.key") + " does not match"));
  }
  SECTION("certificate that is not one") {
    s.cert_file = data("make.sh");
    CHECK_THAT(error_of(s), Catch::StartsWith("cannot load certificate file " + data("make.sh")));
  }
  SECTION("unknown cipher suite") {
    s.ciphers = "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256:TLS-RSA-WITH-NOTHING";
    CHECK_THAT(error_of(s), Catch::Contains("unknown cipher suite 'TLS-RSA-WITH-NOTHING'"));
  }
  SECTION("require_certificate without CA") {
    s.require_certificate = true;
    CHECK_THAT(error_of(s), Catch::Contains("needs a ca_file"));
  }
  SECTION("an explicit cipher list is used") {
    s.ciphers = "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384";
    Pair p(client_ctx(), std::make_shared<const TlsContext>(TlsContext::Role::Server, s));
    p.handshake();
    REQUIRE(p.server.open());
    CHECK(p.server.describe() == "TLSv1.2 TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
  }
}

TEST_CASE("tls: certificate_identity", "[tls]") {
  auto identity = [](const std::string& file) {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    REQUIRE(mbedtls_x509_crt_parse_file(&crt, data(file).c_str()) == 0);
    std::string id = certificate_identity(crt);
    mbedtls_x509_crt_free(&crt);
    return id;
  };
  CHECK(identity("client.crt") == "device-1");
  CHECK(identity("client-san.crt") == "sensor.example.com");
  CHECK(identity("server.crt") == "localhost");
}

TEST_CASE("wss: a [TLS, WebSocket] stack upgrades and carries payloads", "[tls][ws]") {
  WsOptions ws;
  ws.endpoints = {WsEndpoint{"/mqtt", {"mqtt"}, true}};
  LayerStack stack;
  stack.push(std::make_unique<TlsLayer>(server_ctx()));
  stack.push(std::make_unique<WsLayer>(ws));
  TlsLayer client(client_ctx(), "localhost");

  std::string to_server, to_client, app;
  REQUIRE(client.start(to_server) == LayerStatus::Ok);
  for (int i = 0; i < 10 && !client.open(); ++i) {
    REQUIRE(stack.on_wire(bytes(to_server), app, to_client) == LayerStatus::Ok);
    to_server.clear();
    std::string ignored;
    REQUIRE(client.on_input(bytes(to_client), ignored, to_server) == LayerStatus::Ok);
    to_client.clear();
  }
  REQUIRE(client.open());
  if (!to_server.empty()) REQUIRE(stack.on_wire(bytes(to_server), app, to_client) == LayerStatus::Ok);
  to_server.clear();
  CHECK_FALSE(stack.open());  // TLS yes, WebSocket not yet

  REQUIRE(client.on_output(std::string(ws_testkit::kUpgrade) + ws_testkit::frame(WSLAY_BINARY_FRAME, std::string("\xc0\x00", 2)),
                           to_server) == LayerStatus::Ok);
  REQUIRE(stack.on_wire(bytes(to_server), app, to_client) == LayerStatus::Ok);
  CHECK(stack.open());
  CHECK(app == std::string("\xc0\x00", 2));
  std::string plain;
  REQUIRE(client.on_input(bytes(to_client), plain, to_server) == LayerStatus::Ok);
  CHECK(plain.rfind("HTTP/1.1 101 ", 0) == 0);

  // Outbound: a WebSocket frame inside TLS records; shutdown: close frame, then close_notify.
  to_client.clear();
  REQUIRE(stack.on_app(std::string("\xd0\x00", 2), to_client) == LayerStatus::Ok);
  stack.shutdown(to_client);
  plain.clear();
  CHECK(client.on_input(bytes(to_client), plain, to_server) == LayerStatus::Close);
  auto f = ws_testkit::take_frame(plain);
  REQUIRE(f);
  CHECK(f->payload == std::string("\xd0\x00", 2));
  f = ws_testkit::take_frame(plain);
  REQUIRE(f);
  CHECK(ws_testkit::close_code(*f) == 1000);
}
