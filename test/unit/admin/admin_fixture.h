// The admin API's unit-test fixture: an AdminService over a Broker on the
// memory store with a manual clock, fed hand-made HttpRequests, and a fake
// AccessControl for the HTTP Basic decisions. Shared by test_admin_*.cpp.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin_service.h"
#include "base64.h"
#include "broker.h"
#include "mem_store.h"

namespace admin_test {

using namespace junction;
using namespace junction::core;
using junction::admin::AdminOptions;
using junction::admin::AdminService;
using junction::admin::AdminSources;
using junction::admin::ListenerInfo;
using json = nlohmann::json;


inline constexpr ProtocolId kMqtt{1}, kStomp{2};

class Sink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    got.push_back(std::string(d.msg.payload));
    return DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<std::string> got;
};

class Consumer final : public QueueConsumer {
 public:
  void queue_deliver(QueueSubscription&, const MessageRef& m, std::uint64_t tag, std::uint32_t) override {
    got.push_back(m->payload);
    tags.push_back(tag);
  }
  bool queue_can_take() const override { return true; }
  std::vector<std::string> got;
  std::vector<std::uint64_t> tags;
};

// check_password: Ok for admin/secret and bob/pw, BadCredentials otherwise.
class FakeAccess final : public AccessControl {
 public:
  AuthResult check_password(std::string_view user, std::span<const std::uint8_t> password, std::string_view,
                            const ConnectionInfo&) override {
    ++calls;
    last_user = std::string(user);
    last_password.assign(reinterpret_cast<const char*>(password.data()), password.size());
    AuthResult r;
    if ((last_user == "admin" && last_password == "secret") || (last_user == "bob" && last_password == "pw")) {
      r.status = AuthStatus::Ok;
      r.identity.user = last_user;
      r.identity.anonymous = false;
    } else {
      r.status = AuthStatus::BadCredentials;
      r.reason = "wrong password";
    }
    return r;
  }
  bool still_valid(const ClientIdentity&) const override { return true; }
  bool has_acl() const override { return false; }
  bool allowed(const Principal&, std::string_view, Access) const override { return true; }
  FilterAccess subscribe_access(const Principal&, std::string_view) const override { return FilterAccess::Whole; }
  std::uint64_t generation() const override { return 1; }

  int calls = 0;
  std::string last_user, last_password;
};

inline std::string basic(std::string_view user_colon_password) {
  std::string b64;
  base64_encode(user_colon_password, b64);
  return "Basic " + b64;
}

struct Fixture {
  store::MemStore store;
  ManualClock clock;
  BrokerConfig config;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<AdminService> admin;
  ConnectionInfo conn;
  std::size_t http_connections = 2;

  explicit Fixture(AdminOptions options = {}) {
    broker = std::make_unique<Broker>(config, store, clock);
    broker->register_protocol(kMqtt, "mqtt");
    broker->register_protocol(kStomp, "stomp");
    broker->restore();
    commit();
    AdminSources sources;
    sources.version = "9.8.7";
    sources.node_id = "node-under-test";
    sources.listeners = [this] {
      ListenerInfo l;
      l.name = "http/tcp 127.0.0.1:8081";
      l.protocol = "http";
      l.transport = "tcp";
      l.bind = "127.0.0.1";
      l.port = 8081;
      l.connections = http_connections;
      return std::vector<ListenerInfo>{l};
    };
    admin = std::make_unique<AdminService>(*broker, std::move(sources), std::move(options));
    conn.peer_address = "127.0.0.1";
    conn.peer_port = 40000;
    conn.loopback = true;
    conn.listener = "http/tcp 127.0.0.1:8081";
  }

  // Ends a loop iteration: the batch is submitted and (memory store) committed.
  void commit() {
    broker->flush();
    store.flush();
    broker->on_store_completed();
  }

  http::HttpRequest request(std::string method, std::string target, std::string body = {},
                            std::optional<std::string> content_type = std::nullopt,
                            std::vector<http::HttpHeader> headers = {}) {
    http::HttpRequest r;
    r.method = std::move(method);
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
    r.headers = std::move(headers);
    if (content_type) r.headers.push_back({"content-type", *content_type});
    if (!body.empty()) r.headers.push_back({"content-length", std::to_string(body.size())});
    r.body = std::move(body);
    return r;
  }
  http::HttpResponse call(std::string method, std::string target, std::string body = {},
                          std::optional<std::string> content_type = std::nullopt,
                          std::vector<http::HttpHeader> headers = {}) {
    return admin->handle(request(std::move(method), std::move(target), std::move(body), std::move(content_type),
                                 std::move(headers)),
                         conn);
  }
  http::HttpResponse get(std::string target, std::vector<http::HttpHeader> headers = {}) {
    return call("GET", std::move(target), {}, std::nullopt, std::move(headers));
  }
  http::HttpResponse del(std::string target) { return call("DELETE", std::move(target)); }
  http::HttpResponse post(std::string target, const json& body) {
    return call("POST", std::move(target), body.dump(), std::string("application/json"));
  }

  PublishResult publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 1,
                        bool retain = false, Session* from = nullptr) {
    MessageRef m = broker->make_message();
    m->topic = topic;
    m->payload = payload;
    m->qos = qos;
    m->retain = retain;
    if (from) m->origin_protocol = from->protocol;  // as the front-ends do
    PublishResult r = broker->publish(m, from);
    commit();
    return r;
  }
  Session* connect(const std::string& id, Sink& sink, ProtocolId protocol = kMqtt) {
    ConnectRequest r;
    r.client_id = id;
    r.sink = &sink;
    r.protocol = protocol;
    r.protocol_version = 4;
    ConnectResult res = broker->attach(r);
    broker->start_delivery(res.session);
    return res.session;
  }
  std::size_t stored_queue_entries() {
    std::size_t n = 0;
    store.scan(store::Table::QueueEntries, [&](auto, auto) { ++n; });
    return n;
  }
};

inline json body_of(const http::HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  INFO("body: " << r.body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

inline const std::string* header_of(const http::HttpResponse& r, std::string_view name) {
  for (const http::HttpHeader& h : r.headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

inline std::vector<std::string> names_of(const json& items, const char* field = "name") {
  std::vector<std::string> out;
  for (const json& i : items) out.push_back(i.at(field).get<std::string>());
  return out;
}


}  // namespace admin_test
