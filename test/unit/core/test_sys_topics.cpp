// SysTopics over the memory store with a manual clock: when values appear,
// that only changed values are published again, interval 0, the $-rule for
// wildcard subscribers, the ACL on $SYS readers, refusal of $SYS publishes
// from anyone but the broker, and that nothing of $SYS reaches the store or
// survives a restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "access_control.h"
#include "broker_fixture.h"
#include "store.h"
#include "sys_topics.h"
#include "topic.h"

using namespace junction;
using namespace junction::core;
using junction::test::FakeSink;
using junction::test::Fixture;

namespace {

constexpr const char* kVersion = "junction 9.8.7";

// Latest payload per topic, and how often each topic arrived.
struct Seen {
  std::map<std::string, std::string> value;
  std::map<std::string, int> count;
};

Seen seen(const FakeSink& sink) {
  Seen s;
  for (const auto& g : sink.got) {
    s.value[g.topic] = g.payload;
    ++s.count[g.topic];
  }
  return s;
}

// Ticks once a second for `seconds`, as main's 1 s timer does.
void run(Fixture& f, SysTopics& sys, int seconds) {
  for (int i = 0; i < seconds; ++i) {
    f.clock.advance(1000);
    f.broker->tick();
    sys.tick();
  }
}

class ScriptedAcl final : public AccessControl {
 public:
  AuthResult check_password(std::string_view, std::span<const std::uint8_t>, std::string_view,
                            const ConnectionInfo&) override {
    return {};
  }
  bool still_valid(const ClientIdentity&) const override { return true; }
  bool has_acl() const override { return true; }
  // Nothing under $SYS is readable; everything else is.
  bool allowed(const Principal&, std::string_view topic, Access) const override { return !is_sys_topic(topic); }
  FilterAccess subscribe_access(const Principal&, std::string_view) const override { return FilterAccess::Partial; }
  std::uint64_t generation() const override { return 1; }
};

}  // namespace

TEST_CASE("$SYS: version at start, the rest after the first interval", "[core][sys]") {
  Fixture f;
  FakeSink mon;
  f.broker->subscribe(f.connect("mon", mon), "$SYS/#", f.qos(0));
  SysTopics sys(*f.broker, 10, kVersion);
  sys.start();
  REQUIRE(mon.got.size() == 1);
  CHECK(mon.got[0].topic == "$SYS/broker/version");
  CHECK(mon.got[0].payload == kVersion);

  run(f, sys, 9);
  CHECK(mon.got.size() == 1);  // not yet
  run(f, sys, 1);
  Seen s = seen(mon);
  CHECK(s.value["$SYS/broker/uptime"] == "10 seconds");
  CHECK(s.value["$SYS/broker/clients/connected"] == "1");
  CHECK(s.value["$SYS/broker/clients/total"] == "1");
  CHECK(s.value["$SYS/broker/clients/maximum"] == "1");
  CHECK(s.value["$SYS/broker/clients/disconnected"] == "0");
  CHECK(s.value["$SYS/broker/subscriptions/count"] == "1");
  CHECK(s.value["$SYS/broker/messages/received"] == "0");
  CHECK(s.value["$SYS/broker/connections/mqtt"] == "1");
  CHECK(s.value["$SYS/broker/connections/stomp"] == "0");
  CHECK(s.count["$SYS/broker/version"] == 1);  // once, at start
  for (const auto& g : mon.got) CHECK(g.qos == 0);
  // Retained: a later subscriber gets every value at once.
  FakeSink late;
  f.broker->subscribe(f.connect("late", late), "$SYS/broker/clients/+", f.qos(1));
  Seen l = seen(late);
  CHECK(l.value["$SYS/broker/clients/connected"] == "1");  // the value of the last update
  CHECK(std::all_of(late.got.begin(), late.got.end(), [](const auto& g) { return g.retain; }));
}

TEST_CASE("$SYS: only changed values are published again; uptime always", "[core][sys]") {
  Fixture f;
  SysTopics sys(*f.broker, 5, kVersion);
  sys.start();
  run(f, sys, 5);
  const std::uint64_t first = sys.published();
  CHECK(first > 10);
  run(f, sys, 5);
  CHECK(sys.published() == first + 1);  // nothing changed but the uptime
  CHECK(f.broker->retained().find("$SYS/broker/uptime")->payload == "10 seconds");

  FakeSink a, b;
  Session* sa = f.connect("a", a);
  f.connect("b", b, false, 3600);  // persistent
  f.broker->subscribe(sa, "t/#", f.qos(0));
  f.publish("t/1", "x");
  f.publish("r/1", "kept", 1, true);
  run(f, sys, 5);
  auto value = [&](const char* name) {
    MessageRef m = f.broker->retained().find(std::string("$SYS/broker/") + name);
    return m ? m->payload : std::string("<none>");
  };
  CHECK(value("clients/connected") == "2");
  CHECK(value("clients/maximum") == "2");
  CHECK(value("messages/received") == "2");
  CHECK(value("publish/messages/received") == "2");
  CHECK(value("messages/sent") == "1");
  CHECK(value("subscriptions/count") == "1");
  // Retained messages of clients: the $SYS values are not counted.
  CHECK(value("retained messages/count") == "1");

  f.broker->detach(f.broker->find_session("b"), DetachKind::Normal, 3600);
  const std::uint64_t before = sys.published();
  run(f, sys, 5);
  CHECK(value("clients/connected") == "1");
  CHECK(value("clients/disconnected") == "1");
  CHECK(value("clients/total") == "2");
  CHECK(value("clients/maximum") == "2");  // the peak stays
  CHECK(value("connections/mqtt") == "1");
  // uptime, connected, disconnected, connections/mqtt: total, maximum and the rest are unchanged.
  CHECK(sys.published() == before + 4);
}

TEST_CASE("$SYS: sources add figures the core does not count", "[core][sys]") {
  Fixture f;
  SysTopics sys(*f.broker, 1, kVersion);
  std::uint64_t bytes = 100;
  sys.add_source([&](SysReport& r) { r.add("bytes/received", bytes); });
  sys.start();
  run(f, sys, 1);
  CHECK(f.broker->retained().find("$SYS/broker/bytes/received")->payload == "100");
  const std::uint64_t n = sys.published();
  run(f, sys, 1);
  CHECK(sys.published() == n + 1);  // uptime only
  bytes = 250;
  run(f, sys, 1);
  CHECK(sys.published() == n + 3);
  CHECK(f.broker->retained().find("$SYS/broker/bytes/received")->payload == "250");
}

TEST_CASE("$SYS: interval 0 publishes nothing at all", "[core][sys]") {
  Fixture f;
  FakeSink mon;
  f.broker->subscribe(f.connect("mon", mon), "$SYS/#", f.qos(0));
  SysTopics sys(*f.broker, 0, kVersion);
  CHECK_FALSE(sys.enabled());
  sys.start();
  run(f, sys, 100);
  CHECK(sys.published() == 0);
  CHECK(mon.got.empty());
  CHECK(f.broker->retained().size() == 0);
}

TEST_CASE("$SYS: '#' and '+/...' subscribers get none of it, live or retained", "[core][sys]") {
  Fixture f;
  FakeSink all, plus, mon;
  f.broker->subscribe(f.connect("all", all), "#", f.qos(1));
  f.broker->subscribe(f.connect("plus", plus), "+/broker/#", f.qos(1));
  f.broker->subscribe(f.connect("mon", mon), "$SYS/broker/#", f.qos(0));
  SysTopics sys(*f.broker, 1, kVersion);
  sys.start();
  run(f, sys, 3);
  CHECK_FALSE(mon.got.empty());
  CHECK(all.got.empty());
  CHECK(plus.got.empty());
  FakeSink later;
  f.broker->subscribe(f.connect("later", later), "#", f.qos(0));
  CHECK(later.got.empty());  // the retained $SYS values are not offered to '#'
}

TEST_CASE("$SYS: readers need ACL read access like any subscriber", "[core][sys][acl]") {
  Fixture f;
  ScriptedAcl acl;
  f.broker->set_access_control(&acl);
  FakeSink mon;
  ConnectRequest r;
  r.client_id = "mon";
  r.sink = &mon;
  r.identity.user = "u";
  r.identity.anonymous = false;
  Session* s = f.broker->attach(r).session;
  f.broker->start_delivery(s);
  f.broker->subscribe(s, "$SYS/#", f.qos(0));
  f.broker->subscribe(s, "a/#", f.qos(0));
  SysTopics sys(*f.broker, 1, kVersion);
  sys.start();
  run(f, sys, 2);
  f.publish("a/1", "visible");
  REQUIRE(mon.got.size() == 1);  // the ordinary message only
  CHECK(mon.got[0].topic == "a/1");
  FakeSink later;
  r.client_id = "later";
  r.sink = &later;
  Session* s2 = f.broker->attach(r).session;
  f.broker->start_delivery(s2);
  f.broker->subscribe(s2, "$SYS/#", f.qos(0));
  CHECK(later.got.empty());  // nor retained
  f.broker->set_access_control(nullptr);
}

TEST_CASE("$SYS: publishes from clients, wills and bridges are refused and counted", "[core][sys]") {
  Fixture f;
  FakeSink mon;
  f.broker->subscribe(f.connect("mon", mon), "$SYS/#", f.qos(0));
  SysTopics sys(*f.broker, 1, kVersion);
  sys.start();
  run(f, sys, 1);
  const std::size_t got = mon.got.size();
  PublishResult r = f.publish("$SYS/broker/uptime", "forged", 1, true);
  CHECK(r.refused);
  CHECK(r.matched == 0);
  CHECK(f.publish("$SYS", "forged").refused);
  CHECK_FALSE(f.publish("$SYSTEM/x", "fine").refused);  // only the $SYS level itself
  CHECK(mon.got.size() == got);
  CHECK(f.broker->retained().find("$SYS/broker/uptime")->payload == "1 seconds");
  CHECK(f.broker->stats().sys_publish_refused == 2);
  CHECK(f.broker->stats().messages_in == 1);  // $SYSTEM/x only

  // A will aimed at $SYS is refused the same way when it fires.
  FakeSink w;
  ConnectRequest req;
  req.client_id = "w";
  req.sink = &w;
  WillMessage will;
  will.msg = f.broker->make_message();
  will.msg->topic = "$SYS/broker/clients/connected";
  will.msg->payload = "999";
  will.msg->retain = true;
  req.will = will;
  f.broker->start_delivery(f.broker->attach(req).session);
  f.broker->detach(f.broker->find_session("w"), DetachKind::WithWill, 0);
  CHECK(f.broker->stats().sys_publish_refused == 3);
  CHECK(f.broker->retained().find("$SYS/broker/clients/connected")->payload == "1");
  run(f, sys, 1);
  CHECK(f.broker->retained().find("$SYS/broker/publish/sys/refused")->payload == "3");
}

TEST_CASE("$SYS: nothing is written to the store; a restart starts empty", "[core][sys][restart]") {
  Fixture f;
  FakeSink mon;
  f.broker->subscribe(f.connect("mon", mon, false, 3600), "$SYS/#", f.qos(1));  // persistent, QoS 1
  f.broker->flush();
  SysTopics sys(*f.broker, 1, kVersion);
  sys.start();
  for (int i = 0; i < 3; ++i) {
    run(f, sys, 1);
    CHECK(f.broker->persistence().pending_ops() == 0);  // no store write per interval
  }
  CHECK(f.broker->retained().find("$SYS/broker/uptime"));
  f.publish("keep/me", "1", 0, true);
  f.restart();
  CHECK(f.broker->retained().find("keep/me"));
  CHECK_FALSE(f.broker->retained().find("$SYS/broker/uptime"));
  CHECK_FALSE(f.broker->retained().find("$SYS/broker/version"));
  CHECK(f.broker->retained().size() == 1);
}

TEST_CASE("$SYS: a retained $SYS message in an older store is dropped at restore", "[core][sys][restart]") {
  Fixture f;
  // What a version that let clients publish to $SYS would have written.
  MessageRef m = f.broker->make_message();
  m->topic = "$SYS/broker/uptime";
  m->payload = "12345 seconds";
  m->retain = true;
  f.broker->persistence().persist_ref(*m);
  f.broker->persistence().put(store::Table::Retained, store::u64_key(m->id), {});
  f.broker->flush();
  f.publish("keep/me", "1", 0, true);
  f.restart();
  CHECK(f.broker->retained().find("keep/me"));
  CHECK_FALSE(f.broker->retained().find("$SYS/broker/uptime"));
  f.broker->flush();
  f.restart();  // and its records are gone, not only skipped
  CHECK(f.broker->retained().size() == 1);
  std::size_t bodies = 0, retained = 0;
  f.store.scan(store::Table::Messages, [&](std::string_view, std::string_view) { ++bodies; });
  f.store.scan(store::Table::Retained, [&](std::string_view, std::string_view) { ++retained; });
  CHECK(bodies == 1);
  CHECK(retained == 1);
}
