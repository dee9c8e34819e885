// The core's side of access control with a scripted AccessControl: deliveries
// (live, retained, queued while offline) are withheld when the ACL says so;
// a session whose filters are all wholly readable costs no per-message check;
// a generation change (reload) re-evaluates; queue consumers lose access.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "access_control.h"
#include "broker.h"
#include "mem_store.h"

using namespace junction;
using namespace junction::core;

namespace {

class ScriptedAcl final : public AccessControl {
 public:
  std::function<bool(std::string_view topic)> readable = [](std::string_view) { return true; };
  std::function<FilterAccess(std::string_view filter)> filter = [](std::string_view) { return FilterAccess::Whole; };
  mutable int read_checks = 0;
  std::uint64_t gen = 1;
  bool valid = true;

  AuthResult check_password(std::string_view, std::span<const std::uint8_t>, std::string_view,
                            const ConnectionInfo&) override {
    return {};
  }
  bool still_valid(const ClientIdentity&) const override { return valid; }
  bool has_acl() const override { return true; }
  bool allowed(const Principal& who, std::string_view topic, Access a) const override {
    CHECK(who.user == "u1");
    if (a == Access::Read) ++read_checks;
    return readable(topic);
  }
  FilterAccess subscribe_access(const Principal&, std::string_view f) const override { return filter(f); }
  std::uint64_t generation() const override { return gen; }
};

class Sink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    got.push_back(d.msg.topic);
    return DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  void access_changed() override { ++access_changes; }
  std::vector<std::string> got;
  int access_changes = 0;
};

struct Fixture {
  store::MemStore store;
  ManualClock clock;
  Broker broker{BrokerConfig{}, store, clock};
  ScriptedAcl acl;
  Fixture() {
    broker.restore();
    broker.set_access_control(&acl);
  }
  Session* connect(const std::string& id, Sink& sink, bool clean = true, std::uint32_t expiry = 0) {
    ConnectRequest r;
    r.client_id = id;
    r.clean_start = clean;
    r.session_expiry_s = expiry;
    r.sink = &sink;
    r.identity.user = "u1";
    r.identity.anonymous = false;
    Session* s = broker.attach(r).session;
    broker.start_delivery(s);
    return s;
  }
  void publish(const std::string& topic, std::uint8_t qos = 0, bool retain = false) {
    MessageRef m = broker.make_message();
    m->topic = topic;
    m->payload = "x";
    m->qos = qos;
    m->retain = retain;
    broker.publish(m, nullptr);
    broker.flush();
  }
  SubscriptionOptions q(std::uint8_t qos) {
    SubscriptionOptions o;
    o.qos = qos;
    return o;
  }
};

}  // namespace

TEST_CASE("no ACL: no checks at all", "[core][acl]") {
  Fixture f;
  f.broker.set_access_control(nullptr);
  CHECK(f.broker.acl() == nullptr);
  Sink sink;
  Session* s = f.connect("c", sink);
  f.broker.subscribe(s, "a/#", f.q(0));
  f.publish("a/1");
  CHECK(sink.got.size() == 1);
  CHECK(f.acl.read_checks == 0);
}

TEST_CASE("wholly readable filters skip per-message checks", "[core][acl]") {
  Fixture f;
  Sink sink;
  Session* s = f.connect("c", sink);
  f.broker.subscribe(s, "a/#", f.q(1));
  for (int i = 0; i < 10; ++i) f.publish("a/" + std::to_string(i), i % 2);
  CHECK(sink.got.size() == 10);
  CHECK(f.acl.read_checks == 0);
}

TEST_CASE("partially readable filters are checked per message, retained too", "[core][acl]") {
  Fixture f;
  f.acl.filter = [](std::string_view) { return FilterAccess::Partial; };
  f.acl.readable = [](std::string_view t) { return t.find("secret") == std::string_view::npos; };
  f.publish("a/secret", 0, true);
  f.publish("a/open", 0, true);
  Sink sink;
  Session* s = f.connect("c", sink);
  f.broker.subscribe(s, "a/#", f.q(1));
  REQUIRE(sink.got == std::vector<std::string>{"a/open"});  // the retained secret is not sent
  f.publish("a/secret", 1);
  f.publish("a/fine", 1);
  f.publish("a/secret/2", 0);
  CHECK(sink.got == std::vector<std::string>{"a/open", "a/fine"});
  CHECK(f.acl.read_checks == 5);
}

TEST_CASE("a reload (new generation) re-evaluates the cache", "[core][acl]") {
  Fixture f;
  Sink sink;
  Session* s = f.connect("c", sink);
  f.broker.subscribe(s, "a/#", f.q(0));
  f.publish("a/1");
  CHECK(sink.got.size() == 1);
  f.acl.filter = [](std::string_view) { return FilterAccess::Denied; };
  f.acl.readable = [](std::string_view) { return false; };
  f.publish("a/2");  // same generation: the cache still says "whole"
  CHECK(sink.got.size() == 2);
  ++f.acl.gen;
  f.broker.access_changed();
  CHECK(sink.access_changes == 1);
  f.publish("a/3");
  CHECK(sink.got.size() == 2);
}

TEST_CASE("what waited while offline is checked when it goes out", "[core][acl]") {
  Fixture f;
  Sink sink;
  Session* s = f.connect("p", sink, false, 3600);
  f.broker.subscribe(s, "a/#", f.q(1));
  f.broker.detach(s, DetachKind::Normal, 3600);
  f.publish("a/keep", 1);
  f.publish("a/secret", 1);
  f.acl.filter = [](std::string_view) { return FilterAccess::Partial; };
  f.acl.readable = [](std::string_view t) { return t != "a/secret"; };
  ++f.acl.gen;
  Sink again;
  f.connect("p", again, false, 3600);
  CHECK(again.got == std::vector<std::string>{"a/keep"});
}

TEST_CASE("queue consumers that lose read access stop", "[core][acl]") {
  Fixture f;
  Sink sink;
  Session* s = f.connect("c", sink);
  REQUIRE(f.broker.subscribe(s, "$queue/jobs", f.q(0)) == SubscribeStatus::Granted);
  f.publish("$queue/jobs");
  CHECK(sink.got.size() == 1);
  f.acl.readable = [](std::string_view t) { return t != "$queue/jobs"; };
  ++f.acl.gen;
  f.broker.access_changed();
  CHECK(s->subscriptions().find("$queue/jobs") == s->subscriptions().end());
  f.publish("$queue/jobs");
  CHECK(sink.got.size() == 1);
  CHECK(f.broker.queues().find("jobs") != nullptr);
}
