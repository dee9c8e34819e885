// The admin API (gateway/admin) in-process, without sockets: an AdminService
// over a Broker on the memory store with a manual clock, fed hand-made
// HttpRequests. Covers routing and request decoding, the list conventions,
// the queue, retained and publish endpoints, /metrics, and the HTTP Basic
// decisions against a fake AccessControl.
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

using namespace junction;
using namespace junction::core;
using junction::admin::AdminOptions;
using junction::admin::AdminService;
using junction::admin::AdminSources;
using junction::admin::ListenerInfo;
using json = nlohmann::json;

namespace {

constexpr ProtocolId kMqtt{1}, kStomp{2};

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

std::string basic(std::string_view user_colon_password) {
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

json body_of(const http::HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  INFO("body: " << r.body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

const std::string* header_of(const http::HttpResponse& r, std::string_view name) {
  for (const http::HttpHeader& h : r.headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

std::vector<std::string> names_of(const json& items, const char* field = "name") {
  std::vector<std::string> out;
  for (const json& i : items) out.push_back(i.at(field).get<std::string>());
  return out;
}

}  // namespace

// ---------------------------------------------------------------- routing and decoding

TEST_CASE("admin: unknown paths answer 404 with a JSON error", "[admin][routing]") {
  Fixture f;
  for (const char* target : {"/api/v1/nope", "/api/v1/", "/api/v1/broker/extra", "/api/v1/queues/q/nothing",
                             "/no-such-page"}) {
    INFO(target);
    auto r = f.get(target);
    CHECK(r.status == 404);
    CHECK(r.content_type == "application/json");
    CHECK(body_of(r).at("error").is_string());
  }
  // /api/v2 is not the API: it is a dashboard path, which does not exist.
  CHECK(f.get("/api/v2/broker").status == 404);
  auto r = f.get("/api/v1/queues/none");
  CHECK(r.status == 404);
  CHECK(body_of(r)["error"].get<std::string>().find("none") != std::string::npos);
}

TEST_CASE("admin: a wrong method answers 405 with an Allow header", "[admin][routing]") {
  Fixture f;
  struct Case {
    const char* method;
    const char* target;
    const char* allow;
  };
  for (const Case& c : {Case{"DELETE", "/api/v1/broker", "GET"}, Case{"GET", "/api/v1/publish", "POST"},
                        Case{"PUT", "/api/v1/queues/q", "GET, DELETE"},
                        Case{"PATCH", "/api/v1/queues/q/messages", "GET, DELETE"},
                        Case{"GET", "/api/v1/queues/q/move", "POST"}, Case{"DELETE", "/api/v1/queues", "GET"},
                        Case{"POST", "/api/v1/retained/a/b", "GET, DELETE"},
                        Case{"POST", "/api/v1/clients/c1", "GET, DELETE"}}) {
    INFO(c.method << " " << c.target);
    const bool with_body = std::string_view(c.method) == "PUT" || std::string_view(c.method) == "PATCH" ||
                           std::string_view(c.method) == "POST";
    auto r = with_body ? f.call(c.method, c.target, "{}", std::string("application/json")) : f.call(c.method, c.target);
    CHECK(r.status == 405);
    const std::string* allow = header_of(r, "allow");
    REQUIRE(allow != nullptr);
    CHECK(*allow == c.allow);
  }
  CHECK(f.call("DELETE", "/metrics").status == 405);
  CHECK(f.call("DELETE", "/").status == 405);
}

TEST_CASE("admin: request bodies must be JSON with a JSON content type", "[admin][routing]") {
  Fixture f;
  const std::string ok = R"({"topic":"t","payload":"x"})";
  // No content type, or another one: 415, and nothing is published.
  CHECK(f.call("POST", "/api/v1/publish", ok).status == 415);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("text/plain")).status == 415);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/x-www-form-urlencoded")).status == 415);
  CHECK(f.broker->stats().messages_in == 0);
  // Not JSON: 400.
  auto r = f.call("POST", "/api/v1/publish", "{\"topic\": ", std::string("application/json"));
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"].get<std::string>().find("JSON") != std::string::npos);
  CHECK(f.call("POST", "/api/v1/publish", "", std::string("application/json")).status == 400);
  CHECK(f.broker->stats().messages_in == 0);
  // A charset parameter is fine.
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/json; charset=utf-8")).status == 200);
  CHECK(f.broker->stats().messages_in == 1);
}

TEST_CASE("admin: bad percent-encoding in the path or query answers 400", "[admin][routing]") {
  Fixture f;
  f.publish("$queue/a/b", "m");  // queue "a/b": reachable only as a%2Fb
  CHECK(f.get("/api/v1/queues/a%zz").status == 400);
  CHECK(f.get("/api/v1/queues/a%2").status == 400);
  CHECK(f.get("/api/v1/retained/x/%G1").status == 400);
  CHECK(f.get("/api/v1/queues?limit=%zz").status == 400);
  CHECK(f.get("/api/v1/queues?%").status == 400);
  // Well-formed escapes decode: the queue's name has an encoded '/'.
  auto r = f.get("/api/v1/queues/a%2Fb");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["name"] == "a/b");
  CHECK(body_of(r)["messages"] == 1);
}

// ---------------------------------------------------------------- list conventions

TEST_CASE("admin: lists are {items,total} with limit, offset and sort", "[admin][list]") {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.publish("$queue/qa", "a" + std::to_string(i));
  f.publish("$queue/qb", "b0");
  for (int i = 0; i < 2; ++i) f.publish("$queue/qc", "c" + std::to_string(i));

  auto r = f.get("/api/v1/queues");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  REQUIRE(j.is_object());
  CHECK(j.size() == 2);
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qa", "qb", "qc"});

  j = body_of(f.get("/api/v1/queues?sort=messages"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qb", "qc", "qa"});
  j = body_of(f.get("/api/v1/queues?sort=-messages"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qa", "qc", "qb"});
  j = body_of(f.get("/api/v1/queues?sort=-name"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qc", "qb", "qa"});

  // Paging happens after sorting; total counts everything.
  j = body_of(f.get("/api/v1/queues?sort=-messages&offset=1&limit=1"));
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qc"});
  j = body_of(f.get("/api/v1/queues?limit=2"));
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qa", "qb"});
  j = body_of(f.get("/api/v1/queues?offset=2"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"qc"});
  j = body_of(f.get("/api/v1/queues?offset=10"));
  CHECK(j["total"] == 3);
  CHECK(j["items"].empty());
  j = body_of(f.get("/api/v1/queues?limit=0"));
  CHECK(j["total"] == 3);
  CHECK(j["items"].empty());
  // Filter (MQTT filter syntax over the names).
  f.publish("$queue/other", "o");
  CHECK(f.get("/api/v1/queues?filter=q%2B").status == 400);  // "q+" is not a filter
  j = body_of(f.get("/api/v1/queues?filter=other"));
  CHECK(names_of(j["items"]) == std::vector<std::string>{"other"});

  // Bad parameters: 400.
  r = f.get("/api/v1/queues?sort=nosuchfield");
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"].get<std::string>().find("nosuchfield") != std::string::npos);
  CHECK(f.get("/api/v1/queues?sort=-nosuchfield").status == 400);
  CHECK(f.get("/api/v1/queues?limit=x").status == 400);
  CHECK(f.get("/api/v1/queues?limit=-1").status == 400);
  CHECK(f.get("/api/v1/queues?offset=1x").status == 400);
  CHECK(f.get("/api/v1/queues?offset=").status == 400);
}

TEST_CASE("admin: empty lists are still {items: [], total: 0}", "[admin][list]") {
  Fixture f;
  for (const char* target : {"/api/v1/queues", "/api/v1/retained", "/api/v1/clients", "/api/v1/subscriptions",
                             "/api/v1/bridges", "/api/v1/queues?sort=anything"}) {
    INFO(target);
    auto r = f.get(target);
    REQUIRE(r.status == 200);
    json j = body_of(r);
    CHECK(j["items"] == json::array());
    CHECK(j["total"] == 0);
  }
}

// ---------------------------------------------------------------- queues

TEST_CASE("admin: queue fields", "[admin][queues]") {
  Fixture f;
  f.publish("$queue/q", "12345");
  f.clock.advance(2500);
  f.publish("$queue/q", "abc");
  f.clock.advance(500);

  auto r = f.get("/api/v1/queues");
  REQUIRE(r.status == 200);
  json items = body_of(r)["items"];
  REQUIRE(items.size() == 1);
  const json& q = items[0];
  CHECK(q["name"] == "q");
  CHECK(q["messages"] == 2);
  CHECK(q["bytes"] == 8);
  CHECK(q["consumers"] == 0);
  CHECK(q["unacked"] == 0);
  CHECK(q["oldest_age_ms"] == 3000);
  CHECK(q["dead_letter"] == "DLQ.q");
  CHECK(q["in_memory"].is_number());
  CHECK(q["on_disk"].is_number());
  CHECK(body_of(f.get("/api/v1/queues/q")) == q);

  // A consumer with one message unacknowledged.
  Consumer c;
  QueueSubscription* sub = f.broker->queues().subscribe("q", &c, AckMode::Individual, 1);
  f.commit();
  REQUIRE(c.got == std::vector<std::string>{"12345"});
  json one = body_of(f.get("/api/v1/queues/q"));
  CHECK(one["messages"] == 1);
  CHECK(one["unacked"] == 1);
  CHECK(one["consumers"] == 1);
  CHECK(one["oldest_age_ms"] == 500);  // "abc" is the oldest ready one now
  // A dead-letter queue has no dead-letter queue of its own.
  f.publish("$queue/DLQ.q", "dead");
  CHECK(body_of(f.get("/api/v1/queues/DLQ.q"))["dead_letter"].is_null());
  f.broker->queues().unsubscribe(sub);
}

TEST_CASE("admin: peek shows ready messages without consuming them", "[admin][queues]") {
  Fixture f;
  f.publish("$queue/q", "m0");
  f.publish("$queue/q", std::string("\xff\x00\x01", 3));
  f.publish("$queue/q", "m2");

  auto r = f.get("/api/v1/queues/q/messages?limit=2");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  CHECK(j["total"] == 3);
  REQUIRE(j["items"].size() == 2);
  CHECK(j["items"][0]["payload"] == "m0");
  CHECK_FALSE(j["items"][0].contains("payload_base64"));
  CHECK(j["items"][0]["payload_size"] == 2);
  CHECK(j["items"][0]["delivery_count"] == 0);
  CHECK(j["items"][0]["created_at"] == "2023-11-14T22:13:20.000Z");
  CHECK(j["items"][1]["payload_base64"] == "/wAB");
  CHECK_FALSE(j["items"][1].contains("payload"));
  CHECK(j["items"][1]["payload_size"] == 3);
  // Default limit: everything here; twice in a row gives the same answer.
  CHECK(body_of(f.get("/api/v1/queues/q/messages"))["items"].size() == 3);
  CHECK(body_of(f.get("/api/v1/queues/q/messages"))["items"].size() == 3);
  CHECK(f.get("/api/v1/queues/q/messages?limit=abc").status == 400);
  CHECK(f.get("/api/v1/queues/none/messages").status == 404);

  // Nothing was consumed: the queue still holds 3, a consumer gets all of them in order.
  CHECK(body_of(f.get("/api/v1/queues/q"))["messages"] == 3);
  Consumer c;
  QueueSubscription* sub = f.broker->queues().subscribe("q", &c, AckMode::Auto, 10);
  f.commit();
  CHECK(c.got == std::vector<std::string>{"m0", std::string("\xff\x00\x01", 3), "m2"});
  f.broker->queues().unsubscribe(sub);
}

TEST_CASE("admin: purge empties a queue durably and says how many", "[admin][queues]") {
  Fixture f;
  for (int i = 0; i < 40; ++i) f.publish("$queue/q", "m" + std::to_string(i));  // past the idle window: some on disk
  f.publish("$queue/keep", "k");
  REQUIRE(f.stored_queue_entries() == 41);

  auto r = f.del("/api/v1/queues/q/messages");
  REQUIRE(r.status == 200);
  CHECK(body_of(r) == json{{"purged", 40}});
  CHECK(r.commit_ticket > 0);
  CHECK_FALSE(f.broker->persistence().committed(r.commit_ticket));  // waits for this batch
  f.commit();
  CHECK(f.broker->persistence().committed(r.commit_ticket));
  CHECK(f.stored_queue_entries() == 1);  // only "keep"'s

  json q = body_of(f.get("/api/v1/queues/q"));
  CHECK(q["messages"] == 0);
  CHECK(q["bytes"] == 0);
  CHECK(body_of(f.get("/api/v1/queues/q/messages"))["items"].empty());
  CHECK(body_of(f.get("/api/v1/queues/keep"))["messages"] == 1);
  // Again: nothing left.
  CHECK(body_of(f.del("/api/v1/queues/q/messages")) == json{{"purged", 0}});
  CHECK(f.del("/api/v1/queues/none/messages").status == 404);
}

TEST_CASE("admin: move replays ready messages into another queue, oldest first", "[admin][queues]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.publish("$queue/DLQ.orders", "m" + std::to_string(i));

  auto r = f.post("/api/v1/queues/DLQ.orders/move", json{{"to", "orders"}, {"limit", 2}});
  REQUIRE(r.status == 200);
  json j = body_of(r);
  CHECK(j["moved"] == 2);
  CHECK(j["to"] == "orders");
  CHECK(r.commit_ticket > 0);
  f.commit();
  CHECK(body_of(f.get("/api/v1/queues/DLQ.orders"))["messages"] == 3);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 2);
  json moved = body_of(f.get("/api/v1/queues/orders/messages"))["items"];
  REQUIRE(moved.size() == 2);
  CHECK(moved[0]["payload"] == "m0");
  CHECK(moved[1]["payload"] == "m1");

  // "$queue/" in front of the target is accepted; no limit: all the rest.
  r = f.post("/api/v1/queues/DLQ.orders/move", json{{"to", "$queue/orders"}});
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["moved"] == 3);
  CHECK(body_of(r)["to"] == "orders");
  f.commit();
  CHECK(body_of(f.get("/api/v1/queues/DLQ.orders"))["messages"] == 0);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 5);
  CHECK(f.stored_queue_entries() == 5);

  // limit 0 moves nothing.
  r = f.post("/api/v1/queues/orders/move", json{{"to", "elsewhere"}, {"limit", 0}});
  CHECK(r.status == 200);
  CHECK(body_of(r)["moved"] == 0);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 5);

  // Refusals.
  CHECK(f.post("/api/v1/queues/orders/move", json::object()).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", 5}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "orders"}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "x"}, {"limit", -1}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "x"}, {"limit", "2"}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "a+b"}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", ""}}).status == 400);
  CHECK(f.post("/api/v1/queues/none/move", json{{"to", "x"}}).status == 404);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 5);
}

TEST_CASE("admin: deleting a queue", "[admin][queues]") {
  Fixture f;
  f.publish("$queue/full", "m0");
  f.publish("$queue/full", "m1");

  auto r = f.del("/api/v1/queues/full");
  CHECK(r.status == 409);
  CHECK(body_of(r)["error"].get<std::string>().find("force") != std::string::npos);
  CHECK(body_of(f.get("/api/v1/queues/full"))["messages"] == 2);
  CHECK(f.del("/api/v1/queues/full?force=false").status == 409);

  r = f.del("/api/v1/queues/full?force=true");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["deleted"] == true);
  CHECK(body_of(r)["name"] == "full");
  CHECK(r.commit_ticket > 0);
  f.commit();
  CHECK(f.get("/api/v1/queues/full").status == 404);
  CHECK(f.stored_queue_entries() == 0);
  CHECK(f.del("/api/v1/queues/full").status == 404);

  // An empty one goes without force.
  f.publish("$queue/empty", "x");
  f.del("/api/v1/queues/empty/messages");
  f.commit();
  CHECK(f.del("/api/v1/queues/empty").status == 200);
  CHECK(f.get("/api/v1/queues/empty").status == 404);

  // One with a consumer never, not even with force.
  Consumer c;
  QueueSubscription* sub = f.broker->queues().subscribe("busy", &c, AckMode::Auto, 10);
  r = f.del("/api/v1/queues/busy?force=1");
  CHECK(r.status == 409);
  CHECK(body_of(r)["error"].get<std::string>().find("consumers") != std::string::npos);
  CHECK(f.get("/api/v1/queues/busy").status == 200);
  f.broker->queues().unsubscribe(sub);
  CHECK(f.del("/api/v1/queues/busy").status == 200);
}

// ---------------------------------------------------------------- retained

TEST_CASE("admin: retained messages: list, read, delete", "[admin][retained]") {
  Fixture f;
  f.publish("r/b/c", std::string("\x80\x81", 2), 1, true);
  f.publish("r/a", "hello", 0, true);
  f.publish("other/x", "o", 1, true);
  f.publish("r/not-retained", "n", 1, false);
  REQUIRE(f.broker->retained().size() == 3);

  auto r = f.get("/api/v1/retained");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"other/x", "r/a", "r/b/c"});
  j = body_of(f.get("/api/v1/retained?filter=r/%23"));
  CHECK(j["total"] == 2);
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"r/a", "r/b/c"});
  CHECK(j["items"][0]["qos"] == 0);
  CHECK(j["items"][0]["payload_size"] == 5);
  CHECK_FALSE(j["items"][0].contains("payload"));  // the list has no bodies
  j = body_of(f.get("/api/v1/retained?filter=r/%2B"));
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"r/a"});
  j = body_of(f.get("/api/v1/retained?filter=r/%23&sort=-topic"));
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"r/b/c", "r/a"});
  CHECK(f.get("/api/v1/retained?filter=a/%23/b").status == 400);

  // One: text as "payload", other bytes as "payload_base64".
  r = f.get("/api/v1/retained/r/a");
  REQUIRE(r.status == 200);
  j = body_of(r);
  CHECK(j["topic"] == "r/a");
  CHECK(j["payload"] == "hello");
  CHECK_FALSE(j.contains("payload_base64"));
  CHECK(j["properties"].is_object());
  r = f.get("/api/v1/retained/r/b/c");
  REQUIRE(r.status == 200);
  j = body_of(r);
  CHECK(j["topic"] == "r/b/c");
  CHECK(j["payload_base64"] == "gIE=");
  CHECK_FALSE(j.contains("payload"));
  CHECK(j["qos"] == 1);
  // The topic may come percent-encoded.
  CHECK(body_of(f.get("/api/v1/retained/r%2Fa"))["payload"] == "hello");
  CHECK(f.get("/api/v1/retained/r/none").status == 404);
  CHECK(f.get("/api/v1/retained/r/not-retained").status == 404);
  CHECK(f.get("/api/v1/retained/r/%23").status == 400);  // a filter is not a topic

  // Delete, then it is gone (and durably: the answer waits for the commit).
  r = f.del("/api/v1/retained/r/a");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["deleted"] == true);
  CHECK(body_of(r)["topic"] == "r/a");
  CHECK(r.commit_ticket > 0);
  f.commit();
  CHECK(f.get("/api/v1/retained/r/a").status == 404);
  CHECK(!f.broker->retained().find("r/a"));
  CHECK(f.del("/api/v1/retained/r/a").status == 404);
  CHECK(body_of(f.get("/api/v1/retained"))["total"] == 2);
  // A subscriber arriving now gets no retained copy of it.
  Sink s;
  Session* sess = f.connect("late", s);
  f.broker->subscribe(sess, "r/#", SubscriptionOptions{});
  f.commit();
  CHECK(s.got == std::vector<std::string>{std::string("\x80\x81", 2)});
}

TEST_CASE("admin: $SYS retained messages cannot be deleted", "[admin][retained]") {
  Fixture f;
  MessageRef m = f.broker->make_message();
  m->topic = "$SYS/broker/version";
  m->payload = "junction";
  m->retain = true;
  f.broker->publish_volatile(m);
  f.commit();
  REQUIRE(f.broker->retained().find("$SYS/broker/version"));

  auto r = f.del("/api/v1/retained/$SYS/broker/version");
  CHECK(r.status == 403);
  CHECK(r.commit_ticket == 0);
  CHECK(f.broker->retained().find("$SYS/broker/version"));
  CHECK(f.del("/api/v1/retained/%24SYS/broker/version").status == 403);
  CHECK(f.del("/api/v1/retained/$SYS/broker/none").status == 403);
  // Reading one is fine.
  auto g = f.get("/api/v1/retained/$SYS/broker/version");
  REQUIRE(g.status == 200);
  CHECK(body_of(g)["payload"] == "junction");
}

// ---------------------------------------------------------------- publish

TEST_CASE("admin: publish", "[admin][publish]") {
  Fixture f;
  Sink s;
  Session* sess = f.connect("sub", s);
  SubscriptionOptions o;
  o.qos = 1;
  REQUIRE(f.broker->subscribe(sess, "t/#", o) == SubscribeStatus::Granted);
  f.commit();

  SECTION("QoS 1: answered once committed") {
    auto r = f.post("/api/v1/publish", json{{"topic", "t/1"}, {"payload", "one"}, {"qos", 1}});
    REQUIRE(r.status == 200);
    json j = body_of(r);
    CHECK(j["published"] == true);
    CHECK(j["matched"] == 1);
    CHECK(j["duplicate"] == false);
    CHECK(r.commit_ticket > 0);
    CHECK(r.commit_ticket == f.broker->persistence().ticket());
    CHECK_FALSE(f.broker->persistence().committed(r.commit_ticket));
    f.commit();
    CHECK(f.broker->persistence().committed(r.commit_ticket));
    CHECK(s.got == std::vector<std::string>{"one"});
    CHECK(f.broker->stats().messages_in == 1);
  }
  SECTION("QoS 0: answered at once") {
    auto r = f.post("/api/v1/publish", json{{"topic", "t/0"}, {"payload", "zero"}});
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["matched"] == 1);
    CHECK(r.commit_ticket == 0);
    f.commit();
    CHECK(s.got == std::vector<std::string>{"zero"});
    r = f.post("/api/v1/publish", json{{"topic", "nobody/listens"}, {"payload", "z"}, {"qos", 0}});
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["matched"] == 0);
    CHECK(r.commit_ticket == 0);
  }
  SECTION("retained QoS 0 waits for the commit and is kept") {
    auto r = f.post("/api/v1/publish", json{{"topic", "t/r"}, {"payload", "kept"}, {"retain", true}});
    REQUIRE(r.status == 200);
    CHECK(r.commit_ticket > 0);
    f.commit();
    MessageRef m = f.broker->retained().find("t/r");
    REQUIRE(m);
    CHECK(m->payload == "kept");
  }
  SECTION("payload_base64 and properties") {
    auto r = f.post("/api/v1/publish",
                    json{{"topic", "$queue/pq"},
                         {"payload_base64", "/wAB"},  // ff 00 01: not UTF-8
                         {"qos", 1},
                         {"properties",
                          {{"content_type", "application/octet-stream"}, {"user_properties", {{"k", "v"}}}}}});
    REQUIRE(r.status == 200);
    f.commit();
    json items = body_of(f.get("/api/v1/queues/pq/messages"))["items"];
    REQUIRE(items.size() == 1);
    CHECK(items[0]["payload_base64"] == "/wAB");
    CHECK(items[0]["payload_size"] == 3);
    CHECK(items[0]["headers"]["content-type"] == "application/octet-stream");
    CHECK(items[0]["headers"]["k"] == "v");
  }
  SECTION("refusals publish nothing") {
    struct Case {
      json body;
      int status;
    };
    for (const Case& c : {Case{json{{"topic", "a/+/b"}, {"payload", "x"}}, 400},
                          Case{json{{"topic", "a/#"}}, 400},
                          Case{json{{"topic", ""}}, 400},
                          Case{json{{"payload", "no topic"}}, 400},
                          Case{json{{"topic", 7}}, 400},
                          Case{json::array({1, 2}), 400},
                          Case{json{{"topic", "t/x"}, {"qos", 3}}, 400},
                          Case{json{{"topic", "t/x"}, {"qos", "1"}}, 400},
                          Case{json{{"topic", "t/x"}, {"retain", "yes"}}, 400},
                          Case{json{{"topic", "t/x"}, {"payload", 5}}, 400},
                          Case{json{{"topic", "t/x"}, {"payload_base64", "!!!"}}, 400},
                          Case{json{{"topic", "t/x"}, {"properties", {{"bogus", 1}}}}, 400},
                          Case{json{{"topic", "$SYS/broker/x"}, {"payload", "x"}}, 403}}) {
      INFO(c.body.dump());
      auto r = f.post("/api/v1/publish", c.body);
      CHECK(r.status == c.status);
      CHECK(r.commit_ticket == 0);
    }
    f.commit();
    CHECK(s.got.empty());
    CHECK(f.broker->stats().messages_in == 0);
  }
}

// ---------------------------------------------------------------- broker, clients, metrics

TEST_CASE("admin: broker and clients reflect the core", "[admin][broker]") {
  Fixture f;
  Sink a, b;
  Session* sa = f.connect("dev-1", a, kMqtt);
  f.connect("web-1", b, kStomp);
  f.broker->subscribe(sa, "x/#", SubscriptionOptions{});
  f.publish("x/1", "p", 0, false, sa);
  f.publish("x/2", "p", 0, false, sa);

  json j = body_of(f.get("/api/v1/broker"));
  CHECK(j["version"] == "9.8.7");
  CHECK(j["node_id"] == "node-under-test");
  CHECK(j["counters"]["messages_received"] == 2);
  CHECK(j["counters"]["messages_delivered"] == 2);
  CHECK(j["counters"]["connections"] == 2);
  CHECK(j["counters"]["subscriptions"] == 1);
  REQUIRE(j["listeners"].size() == 1);
  CHECK(j["listeners"][0]["connections"] == 2);

  j = body_of(f.get("/api/v1/clients?sort=client_id"));
  CHECK(j["total"] == 2);
  CHECK(names_of(j["items"], "client_id") == std::vector<std::string>{"dev-1", "web-1"});
  CHECK(j["items"][0]["protocol"] == "mqtt");
  CHECK(j["items"][1]["protocol"] == "stomp");
  j = body_of(f.get("/api/v1/clients/dev-1"));
  CHECK(j["subscription_list"] == json::array({json{{"filter", "x/#"}, {"qos", 0}}}));
  CHECK(f.get("/api/v1/clients/nobody").status == 404);
}

TEST_CASE("admin: /metrics is Prometheus text of the core's counters", "[admin][metrics]") {
  Fixture f;
  Sink a, b;
  Session* sa = f.connect("m-1", a, kMqtt);
  Session* sb = f.connect("s-1", b, kStomp);
  for (int i = 0; i < 3; ++i) f.publish("t/m", "x", 0, false, sa);
  f.publish("t/s", "x", 0, false, sb);
  f.publish("$queue/work", "1", 1, false, sb);
  f.publish("$queue/work", "2", 1, false, sb);
  f.post("/api/v1/publish", json{{"topic", "t/admin"}});

  auto r = f.get("/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& t = r.body;
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(t.find("\n" + line + "\n") != std::string::npos);
  };
  has("junction_messages_received_total{protocol=\"mqtt\"} 3");
  has("junction_messages_received_total{protocol=\"stomp\"} 3");
  has("junction_messages_received_total{protocol=\"internal\"} 1");
  has("junction_connections{protocol=\"http\",listener=\"http/tcp 127.0.0.1:8081\"} 2");
  has("junction_sessions_connected{protocol=\"mqtt\"} 1");
  has("junction_queue_messages{queue=\"work\"} 2");
  has("junction_queues 1");
  has("# TYPE junction_messages_received_total counter");
  CHECK(t.rfind("# HELP junction_build_info", 0) == 0);
  has("junction_build_info{version=\"9.8.7\",node_id=\"node-under-test\"} 1");
  CHECK(t.back() == '\n');
  CHECK(f.admin->metrics_text().find("junction_queue_messages{queue=\"work\"} 2") != std::string::npos);
}

// ---------------------------------------------------------------- authentication

TEST_CASE("admin: HTTP Basic against the access control and http.admin_users", "[admin][auth]") {
  FakeAccess access;
  AdminOptions o;
  o.require_auth = true;
  o.admin_users = {"admin"};
  Fixture f(o);
  f.broker->set_access_control(&access);

  SECTION("no credentials: 401 with a Basic challenge") {
    auto r = f.get("/api/v1/broker");
    CHECK(r.status == 401);
    const std::string* w = header_of(r, "www-authenticate");
    REQUIRE(w != nullptr);
    CHECK(w->rfind("Basic ", 0) == 0);
    CHECK(w->find("realm=") != std::string::npos);
    CHECK(access.calls == 0);
    CHECK(f.get("/metrics").status == 401);
    CHECK(f.get("/").status == 401);
    CHECK(f.post("/api/v1/publish", json{{"topic", "t"}}).status == 401);
    CHECK(f.broker->stats().messages_in == 0);
  }
  SECTION("wrong password or unknown user: 401") {
    auto r = f.get("/api/v1/broker", {{"authorization", basic("admin:wrong")}});
    CHECK(r.status == 401);
    CHECK(header_of(r, "www-authenticate") != nullptr);
    CHECK(access.last_user == "admin");
    CHECK(access.last_password == "wrong");
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("eve:secret")}}).status == 401);
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("admin:")}}).status == 401);
  }
  SECTION("malformed credentials: 401 without asking the password file") {
    for (const char* h : {"Bearer abc", "Basic", "Basic !!!notbase64", "Digest username=admin"}) {
      INFO(h);
      CHECK(f.get("/api/v1/broker", {{"authorization", h}}).status == 401);
    }
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("nocolon")}}).status == 401);
    CHECK(f.get("/api/v1/broker", {{"authorization", basic(":secret")}}).status == 401);
    CHECK(access.calls == 0);
  }
  SECTION("a valid user who is not an administrator: 403") {
    auto r = f.get("/api/v1/broker", {{"authorization", basic("bob:pw")}});
    CHECK(r.status == 403);
    CHECK(header_of(r, "www-authenticate") == nullptr);
    CHECK(body_of(r)["error"].get<std::string>().find("bob") != std::string::npos);
    CHECK(f.get("/metrics", {{"authorization", basic("bob:pw")}}).status == 403);
    f.publish("$queue/q", "m");
    CHECK(f.call("DELETE", "/api/v1/queues/q/messages", {}, std::nullopt, {{"authorization", basic("bob:pw")}}).status ==
          403);
    CHECK(f.broker->queues().find("q")->ready_count() == 1);
  }
  SECTION("an administrator: 200") {
    auto r = f.get("/api/v1/broker", {{"authorization", basic("admin:secret")}});
    CHECK(r.status == 200);
    CHECK(body_of(r)["version"] == "9.8.7");
    CHECK(access.last_user == "admin");
    CHECK(access.last_password == "secret");
    // The scheme name is case-insensitive; the password may hold ':'.
    CHECK(f.get("/api/v1/broker", {{"authorization", "bAsIc " + basic("admin:secret").substr(6)}}).status == 200);
    CHECK(f.get("/metrics", {{"authorization", basic("admin:secret")}}).status == 200);
    f.get("/api/v1/broker", {{"authorization", basic("admin:sec:ret")}});
    CHECK(access.last_password == "sec:ret");
  }
  SECTION("without an access control nobody gets in") {
    f.broker->set_access_control(nullptr);
    CHECK(f.get("/api/v1/broker", {{"authorization", basic("admin:secret")}}).status == 401);
  }
}

TEST_CASE("admin: public_metrics opens /metrics alone", "[admin][auth]") {
  FakeAccess access;
  AdminOptions o;
  o.require_auth = true;
  o.admin_users = {"admin"};
  o.public_metrics = true;
  Fixture f(o);
  f.broker->set_access_control(&access);

  auto r = f.get("/metrics");
  CHECK(r.status == 200);
  CHECK(r.body.find("junction_messages_received_total") != std::string::npos);
  CHECK(f.get("/api/v1/broker").status == 401);
  CHECK(f.get("/api/v1/queues").status == 401);
  CHECK(f.get("/").status == 401);
  CHECK(f.get("/metrics/").status == 401);  // only the exact path
  CHECK(f.get("/api/v1/broker", {{"authorization", basic("bob:pw")}}).status == 403);
  CHECK(f.get("/api/v1/broker", {{"authorization", basic("admin:secret")}}).status == 200);
  CHECK(access.calls == 2);
}

TEST_CASE("admin: without require_auth no credentials are asked", "[admin][auth]") {
  FakeAccess access;
  Fixture f;  // require_auth false (no password file)
  f.broker->set_access_control(&access);
  CHECK(f.get("/api/v1/broker").status == 200);
  CHECK(f.get("/metrics").status == 200);
  CHECK(f.get("/api/v1/broker", {{"authorization", basic("eve:nope")}}).status == 200);
  CHECK(access.calls == 0);
}

// Found by review of the first version: each of these failed before its fix.
TEST_CASE("admin: media types compare without case; a longer type is not JSON", "[admin][routing]") {
  Fixture f;
  const std::string ok = R"({"topic":"t","payload":"x"})";
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("Application/JSON")).status == 200);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/jsonx")).status == 415);
  CHECK(f.call("POST", "/api/v1/publish", ok, std::string("application/json-patch+json")).status == 415);
}

TEST_CASE("admin: an empty path segment names no endpoint (the retained topic stays what the segments say)",
          "[admin][routing]") {
  Fixture f;
  f.publish("a/b", "keep", 1, true);
  f.publish("/a/b", "other", 1, true);
  CHECK(f.call("DELETE", "/api/v1//retained/a/b").status == 404);
  CHECK(f.call("GET", "/api/v1//retained/a/b").status == 404);
  CHECK(f.broker->retained().find("a/b"));
  CHECK(f.broker->retained().find("/a/b"));
}

TEST_CASE("admin: 405 outside the API has an Allow header too", "[admin][routing]") {
  Fixture f;
  for (const char* path : {"/metrics", "/"}) {
    auto r = f.call("DELETE", path);
    CHECK(r.status == 405);
    REQUIRE(header_of(r, "allow") != nullptr);
    CHECK(*header_of(r, "allow") == "GET, HEAD");
  }
}
