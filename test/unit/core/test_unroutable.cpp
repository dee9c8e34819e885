// No black holes: unroutable messages counted and diverted; drops traced.
#include "broker_fixture.h"

using namespace junction;
using namespace junction::core;
using junction::test::FakeSink;
using junction::test::Fixture;

namespace {

class PropsSink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    topics.push_back(d.msg.topic);
    std::string original;
    for (const auto& p : d.msg.props().user_properties)
      if (p.name == "x-original-topic") original = p.value;
    originals.push_back(original);
    return DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<std::string> topics, originals;
};

Session* attach(Fixture& f, const char* id, SessionSink& sink) {
  ConnectRequest req;
  req.client_id = id;
  req.clean_start = true;
  req.sink = &sink;
  req.protocol = junction::test::kTestMqtt;
  Session* s = f.broker->attach(req).session;
  f.broker->start_delivery(s);
  return s;
}

}  // namespace

TEST_CASE("a message that matches nothing is counted; with a destination it goes there", "[core][unroutable]") {
  Fixture f;
  SECTION("no destination: counted, matched 0 (MQTT 5 answers 0x10)") {
    CHECK(f.publish("nobody/home", "x", 1).matched == 0);
    CHECK(f.broker->stats().unroutable == 1);
    CHECK(f.broker->stats().unroutable_diverted == 0);
  }
  SECTION("to a queue: the message as it is") {
    f.config.unroutable_to = [](std::string_view) { return std::string("$queue/unrouted"); };
    f.restart();
    CHECK(f.publish("nobody/home", "x", 1).matched == 1);
    const Queue* q = f.broker->queues().find("unrouted");
    REQUIRE(q != nullptr);
    CHECK(q->ready_count() == 1);
    CHECK(f.broker->stats().unroutable_diverted == 1);
    FakeSink sink;
    Session* s = f.connect("c", sink);
    REQUIRE(f.broker->subscribe(s, "$queue/unrouted", f.qos(1)) == SubscribeStatus::Granted);
    REQUIRE(sink.got.size() == 1);
    CHECK(sink.got[0].topic == "nobody/home");
  }
  SECTION("rules by topic, first match wins; a topic destination gets a copy with the original topic") {
    f.config.unroutable_to = [](std::string_view topic) {
      return topic.substr(0, 2) == "a/" ? std::string("lost/found") : std::string();
    };
    f.restart();
    PropsSink sink;
    Session* s = attach(f, "finder", sink);
    REQUIRE(f.broker->subscribe(s, "lost/found", f.qos(1)) == SubscribeStatus::Granted);
    CHECK(f.publish("a/b", "x", 1).matched == 1);
    CHECK(f.publish("b/c", "y", 1).matched == 0);
    REQUIRE(sink.topics.size() == 1);
    CHECK(sink.topics[0] == "lost/found");
    CHECK(sink.originals[0] == "a/b");
    CHECK(f.broker->stats().unroutable == 2);
    CHECK(f.broker->stats().unroutable_diverted == 1);
  }
  SECTION("a retained message is held by the retained store: not diverted") {
    f.config.unroutable_to = [](std::string_view) { return std::string("$queue/unrouted"); };
    f.restart();
    f.publish("state/x", "on", 1, /*retain=*/true);
    CHECK(f.broker->queues().find("unrouted") == nullptr);
    CHECK(f.broker->stats().unroutable == 0);
  }
}

TEST_CASE("trace_drops: an expired message is published to $SYS/broker/dropped/expired", "[core][unroutable]") {
  Fixture f;
  f.config.trace_drops = true;
  f.restart();
  FakeSink sub;
  Session* s = f.connect("sub", sub, false, 3600);
  REQUIRE(f.broker->subscribe(s, "t", f.qos(1)) == SubscribeStatus::Granted);
  f.broker->detach(s, DetachKind::Normal, 3600);
  PropsSink watcher;
  Session* w = attach(f, "watcher", watcher);
  REQUIRE(f.broker->subscribe(w, "$SYS/broker/dropped/#", f.qos(0)) == SubscribeStatus::Granted);
  MessageRef m = f.broker->make_message();
  m->topic = "t";
  m->payload = "short-lived";
  m->qos = 1;
  m->expiry_ms = f.clock.wall_ms() + 1000;
  f.broker->publish(m, nullptr);
  f.clock.advance(2000);
  s = f.connect("sub", sub, false, 3600);  // the waiting copy has expired
  CHECK(sub.got.empty());
  REQUIRE(watcher.topics.size() == 1);
  CHECK(watcher.topics[0] == "$SYS/broker/dropped/expired");
  CHECK(watcher.originals[0] == "t");
}
