// Delayed delivery: $delayed/<seconds>/<topic> and x-delay, durable, never
// early, in due order, with a bounded window over the store.
#include <algorithm>
#include <map>
#include <random>

#include "broker_fixture.h"
#include "delayed.h"
#include "records.h"

using namespace junction;
using namespace junction::core;
using junction::test::FakeSink;
using junction::test::Fixture;

namespace {

std::size_t delayed_records(store::MemStore& st) {
  std::size_t n = 0;
  st.scan(store::Table::Delayed, [&](std::string_view, std::string_view) { ++n; });
  return n;
}

PublishResult publish_with_delay(Fixture& f, const std::string& topic, const std::string& payload,
                                 const std::string& delay, std::uint8_t qos = 1) {
  MessageRef m = f.broker->make_message();
  m->topic = topic;
  m->payload = payload;
  m->qos = qos;
  m->mutable_props().user_properties.push_back({"other", "kept"});
  m->mutable_props().user_properties.push_back({std::string(kDelayProperty), delay});
  PublishResult r = f.broker->publish(m, nullptr);
  f.broker->flush();
  return r;
}

// Records user properties too: x-delay must not reach subscribers.
class PropsSink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    topics.push_back(d.msg.topic);
    std::vector<std::string> names;
    for (const auto& p : d.msg.props().user_properties) names.push_back(p.name);
    props.push_back(names);
    return DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<std::string> topics;
  std::vector<std::vector<std::string>> props;
};

}  // namespace

TEST_CASE("$delayed/<seconds>/<topic> is delivered to <topic> when due, never before", "[core][delayed]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("sub", sink);
  REQUIRE(f.broker->subscribe(s, "t/x", f.qos(1)) == SubscribeStatus::Granted);
  const PublishResult r = f.publish("$delayed/10/t/x", "later", 1);
  CHECK(r.matched == 1);
  CHECK_FALSE(r.invalid);
  CHECK(delayed_records(f.store) == 1);
  CHECK(f.broker->delayed().pending() == 1);
  f.clock.advance(9999);
  f.broker->run_delayed();
  CHECK(sink.got.empty());
  f.clock.advance(1);
  f.broker->run_delayed();
  f.broker->flush();
  REQUIRE(sink.got.size() == 1);
  CHECK(sink.got[0].topic == "t/x");
  CHECK(sink.got[0].payload == "later");
  CHECK(sink.got[0].qos == 1);
  CHECK(delayed_records(f.store) == 0);
  CHECK(f.broker->delayed().pending() == 0);
  CHECK(f.broker->stats().delayed_scheduled == 1);
  CHECK(f.broker->stats().delayed_delivered == 1);
}

TEST_CASE("x-delay (milliseconds) delays any publish and is consumed", "[core][delayed]") {
  Fixture f;
  PropsSink sink;
  ConnectRequest req;
  req.client_id = "sub";
  req.clean_start = true;
  req.sink = &sink;
  req.protocol = junction::test::kTestMqtt;
  Session* s = f.broker->attach(req).session;
  f.broker->start_delivery(s);
  REQUIRE(f.broker->subscribe(s, "t", f.qos(1)) == SubscribeStatus::Granted);
  CHECK(publish_with_delay(f, "t", "p", "250").matched == 1);
  f.clock.advance(249);
  f.broker->run_delayed();
  CHECK(sink.topics.empty());
  f.clock.advance(1);
  f.broker->run_delayed();
  REQUIRE(sink.topics.size() == 1);
  CHECK(sink.props[0] == std::vector<std::string>{"other"});

  SECTION("x-delay 0 is delivered at once, without it") {
    CHECK(publish_with_delay(f, "t", "now", "0").matched == 1);
    REQUIRE(sink.topics.size() == 2);
    CHECK(sink.props[1] == std::vector<std::string>{"other"});
    CHECK(delayed_records(f.store) == 0);
  }
}

TEST_CASE("delays that cannot be honoured are refused with a reason", "[core][delayed]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("sub", sink);
  REQUIRE(f.broker->subscribe(s, "#", f.qos(1)) == SubscribeStatus::Granted);
  for (const char* topic : {"$delayed/", "$delayed/x/t", "$delayed/10", "$delayed/10/", "$delayed/-1/t",
                            "$delayed/99999999999/t", "$delayed/5/$delayed/5/t", "$delayed/1/$SYS/x"}) {
    INFO(topic);
    const PublishResult r = f.publish(topic, "p", 1);
    CHECK((r.invalid || r.refused));
    CHECK(r.matched == 0);
  }
  CHECK(publish_with_delay(f, "t", "p", "soon").invalid);
  CHECK(publish_with_delay(f, "t", "p", "-5").invalid);
  const PublishResult too_long = f.publish("$delayed/2592001/t", "p", 1);  // 30 days + 1 s
  CHECK(too_long.invalid);
  REQUIRE(too_long.why != nullptr);
  CHECK(std::string(too_long.why).find("max_delay_s") != std::string::npos);
  CHECK_FALSE(f.publish("$delayed/2592000/t", "p", 1).invalid);
  f.config.delays_enabled = false;
  f.restart();
  const PublishResult off = f.publish("$delayed/1/t", "p", 1);
  CHECK(off.invalid);
  CHECK(std::string(off.why).find("disabled") != std::string::npos);
  CHECK(sink.got.empty());
}

TEST_CASE("delayed messages survive a restart; overdue ones go out at once, in due order", "[core][delayed]") {
  Fixture f;
  f.publish("$delayed/30/t", "c", 1);
  f.publish("$delayed/10/t", "a", 1);
  f.publish("$delayed/20/t", "b", 0);
  f.publish("$delayed/100/t", "d", 1);
  f.broker->flush();
  f.restart();
  CHECK(f.broker->delayed().pending() == 4);
  // A message made after the restart never takes a delayed one's id.
  CHECK(f.broker->make_message()->id > 4);
  FakeSink sink;
  Session* s = f.connect("sub", sink);
  REQUIRE(f.broker->subscribe(s, "t", f.qos(1)) == SubscribeStatus::Granted);
  f.clock.advance(50'000);
  f.broker->run_delayed();
  f.broker->flush();
  REQUIRE(sink.got.size() == 3);
  CHECK(sink.got[0].payload == "a");
  CHECK(sink.got[1].payload == "b");
  CHECK(sink.got[1].qos == 0);
  CHECK(sink.got[2].payload == "c");
  f.restart();
  CHECK(f.broker->delayed().pending() == 1);
  CHECK(delayed_records(f.store) == 1);
}

TEST_CASE("a delayed retained message becomes retained when delivered; a queue target works", "[core][delayed]") {
  Fixture f;
  f.publish("$delayed/5/r", "kept", 1, /*retain=*/true);
  CHECK(f.broker->retained().size() == 0);
  f.clock.advance(5000);
  f.broker->run_delayed();
  f.broker->flush();
  CHECK(f.broker->retained().size() == 1);
  FakeSink late;
  Session* s = f.connect("late", late);
  REQUIRE(f.broker->subscribe(s, "r", f.qos(1)) == SubscribeStatus::Granted);
  REQUIRE(late.got.size() == 1);
  CHECK(late.got[0].payload == "kept");
  CHECK(late.got[0].retain);

  f.publish("$delayed/1/$queue/jobs", "job", 1);
  CHECK(f.broker->queues().find("jobs") == nullptr);
  f.clock.advance(1000);
  f.broker->run_delayed();
  REQUIRE(f.broker->queues().find("jobs") != nullptr);
  CHECK(f.broker->queues().find("jobs")->ready_count() == 1);
}

TEST_CASE("message expiry of a delayed message counts from its delivery", "[core][delayed]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("sub", sink, false, 3600);
  REQUIRE(f.broker->subscribe(s, "t", f.qos(1)) == SubscribeStatus::Granted);
  f.broker->detach(s, DetachKind::Normal, 3600);
  MessageRef m = f.broker->make_message();
  m->topic = "$delayed/10/t";
  m->payload = "p";
  m->qos = 1;
  m->expiry_ms = f.clock.wall_ms() + 5000;  // 5 s, shorter than the delay
  f.broker->publish(m, nullptr);
  f.clock.advance(10'000);
  f.broker->run_delayed();
  f.clock.advance(4000);  // 4 s after delivery: not expired
  s = f.connect("sub", sink, false, 3600);
  REQUIRE(sink.got.size() == 1);
}

TEST_CASE("the delayed window: in due order across disk, memory and uncommitted writes, once each",
          "[core][delayed]") {
  store::MemStore st;
  std::vector<std::uint64_t> delivered;
  std::map<std::uint64_t, std::int64_t> due_of;
  std::int64_t now = 1'000'000;
  std::size_t early = 0;
  auto make = [&](Persistence& p) {
    return std::make_unique<DelayedMessages>(
        p,
        [&](const MessageRef& m) {
          delivered.push_back(m->id);
          if (due_of[m->id] > now) ++early;
        },
        4);
  };
  auto persistence = std::make_unique<Persistence>(st);
  auto d = make(*persistence);
  d->restore();
  std::mt19937 rng(7);
  std::vector<std::pair<std::int64_t, std::uint64_t>> expected;
  std::uint64_t id = 1;
  const bool restart_halfway = GENERATE(false, true);
  int rounds_with_disk_only = 0;
  // Scheduling and delivery interleave; some batches wait a round for their
  // flush, so refills meet uncommitted records.
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 7; ++i) {
      MessageRef m = MessageRef::make();
      m->id = id++;
      m->topic = "t";
      const std::int64_t due = now + std::int64_t(rng() % 400);
      d->schedule(m, due);
      due_of[m->id] = due;
      expected.emplace_back(due, m->id);
    }
    CHECK(d->in_memory() <= 8 + 7 * 2);  // the window (at most twice its size) and what awaits its commit
    if (d->pending() > d->in_memory()) ++rounds_with_disk_only;
    d->run(now, 3);
    if (round % 3 != 2) persistence->flush();
    now += 20;
    if (restart_halfway && round == 20) {
      persistence->flush();
      d.reset();
      persistence = std::make_unique<Persistence>(st);
      d = make(*persistence);
      d->restore();
      CHECK(d->pending() == expected.size() - delivered.size());
    }
  }
  persistence->flush();
  while (delivered.size() < expected.size() && now < 10'000'000) {
    d->run(now, 5);
    persistence->flush();
    now += 7;
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::uint64_t> want;
  for (auto& e : expected) want.push_back(e.second);
  CHECK(delivered == want);
  CHECK(early == 0);
  CHECK(rounds_with_disk_only > 10);  // the window really was a window
  CHECK(d->pending() == 0);
  CHECK(delayed_records(st) == 0);
}

TEST_CASE("delayed keys sort by due time, then id", "[core][delayed][store]") {
  CHECK(store::delayed_key(5, 9) < store::delayed_key(6, 1));
  CHECK(store::delayed_key(5, 1) < store::delayed_key(5, 2));
  CHECK(store::delayed_key(256, 1) > store::delayed_key(255, 99));
  std::int64_t due = 0;
  std::uint64_t id = 0;
  REQUIRE(store::split_delayed_key(store::delayed_key(1'700'000'000'123, 42), due, id));
  CHECK(due == 1'700'000'000'123);
  CHECK(id == 42);
  CHECK_FALSE(store::split_delayed_key("short", due, id));
}
