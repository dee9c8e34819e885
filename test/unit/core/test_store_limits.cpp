// The store's admission limits in the core: which publishes are refused
// while max_disk_bytes or min_free_disk_bytes is reached, the 5% band before
// a limit clears, and the check that many written bytes bring forward.
#include <catch2/catch.hpp>

#include <string>

#include "broker.h"
#include "forwarding_store.h"

using namespace junction;
using namespace junction::core;

namespace {

// A memory store that reports whatever space the test sets.
class SpaceStore final : public test::ForwardingStore {
 public:
  store::StoreSpace reported;
  int checks = 0;

  store::StoreSpace space() override {
    ++checks;
    return reported;
  }
};

class Sink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    got.push_back(d.msg.payload);
    return DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<std::string> got;
};

struct Limits {
  SpaceStore store;
  ManualClock clock;
  BrokerConfig config;
  std::unique_ptr<Broker> broker;

  explicit Limits(std::uint64_t max_disk, std::uint64_t min_free) {
    config.max_disk_bytes = max_disk;
    config.min_free_disk_bytes = min_free;
    store.reported.known = true;
    store.reported.free_disk_bytes = 1ull << 40;
    broker = std::make_unique<Broker>(config, store, clock);
    broker->restore();
  }
  PublishResult publish(const std::string& topic, std::uint8_t qos, bool retain = false,
                        std::string payload = "x") {
    MessageRef m = broker->make_message();
    m->topic = topic;
    m->payload = std::move(payload);
    m->qos = qos;
    m->retain = retain;
    return broker->publish(m, nullptr);
  }
};

}  // namespace

TEST_CASE("store limits: max_disk_bytes refuses publishes that would write, and clears 5% below",
          "[core][store-limits]") {
  Limits l(1000000, 0);
  Sink sink;
  ConnectRequest r;
  r.client_id = "sub";
  r.sink = &sink;
  Session* s = l.broker->attach(r).session;
  l.broker->start_delivery(s);
  SubscriptionOptions o;
  o.qos = 1;
  REQUIRE(l.broker->subscribe(s, "t", o) == SubscribeStatus::Granted);

  l.store.reported.used_bytes = 999999;
  l.broker->tick();
  CHECK(l.broker->store_limit() == Broker::StoreLimit::None);
  l.store.reported.used_bytes = 1000000;
  l.broker->tick();
  REQUIRE(l.broker->store_limit() == Broker::StoreLimit::MaxDiskBytes);

  PublishResult q1 = l.publish("t", 1);
  CHECK(q1.quota_exceeded);
  REQUIRE(q1.why != nullptr);
  CHECK(std::string(q1.why).find("max_disk_bytes") != std::string::npos);
  CHECK(l.publish("$queue/jobs", 0).quota_exceeded);    // a queue entry is a write
  CHECK(l.publish("r", 0, true).quota_exceeded);        // so is a retained message
  CHECK_FALSE(l.publish("r", 0, true, "").quota_exceeded);  // clearing one only frees space
  PublishResult q0 = l.publish("t", 0);                  // plain QoS 0 goes on
  CHECK_FALSE(q0.quota_exceeded);
  CHECK(q0.matched == 1);
  CHECK(l.broker->stats().refused_disk == 3);
  CHECK(sink.got == std::vector<std::string>{"x"});

  l.store.reported.used_bytes = 960000;  // under the limit, not 5% under
  l.broker->tick();
  CHECK(l.broker->store_limit() == Broker::StoreLimit::MaxDiskBytes);
  l.store.reported.used_bytes = 949999;
  l.broker->tick();
  CHECK(l.broker->store_limit() == Broker::StoreLimit::None);
  CHECK_FALSE(l.publish("t", 1).quota_exceeded);
}

TEST_CASE("store limits: min_free_disk_bytes counts the store's reusable pages as room",
          "[core][store-limits]") {
  Limits l(0, 50000000);
  l.store.reported.free_disk_bytes = 30000000;
  l.store.reported.reusable_bytes = 30000000;  // 60 MB of room in all
  l.broker->tick();
  CHECK(l.broker->store_limit() == Broker::StoreLimit::None);
  l.store.reported.reusable_bytes = 10000000;
  l.broker->tick();
  REQUIRE(l.broker->store_limit() == Broker::StoreLimit::MinFreeDisk);
  PublishResult r = l.publish("$queue/q", 1);
  CHECK(r.quota_exceeded);
  CHECK(std::string(r.why).find("min_free_disk_bytes") != std::string::npos);
  l.store.reported.reusable_bytes = 21000000;  // 51 MB: not yet 5% above
  l.broker->tick();
  CHECK(l.broker->store_limit() == Broker::StoreLimit::MinFreeDisk);
  l.store.reported.reusable_bytes = 23000000;  // a drain freed pages inside the store
  l.broker->tick();
  CHECK(l.broker->store_limit() == Broker::StoreLimit::None);
}

TEST_CASE("store limits: many bytes written bring the next check forward", "[core][store-limits]") {
  Limits l(16u << 20, 0);  // checked after every MiB written
  const int before = l.store.checks;
  const std::string big(256u << 10, 'b');
  for (int i = 0; i < 3; ++i) REQUIRE_FALSE(l.publish("$queue/q", 1, false, big).quota_exceeded);
  l.broker->flush();
  CHECK(l.store.checks == before);  // 768 KiB: not yet
  l.store.reported.used_bytes = 16u << 20;
  REQUIRE_FALSE(l.publish("$queue/q", 1, false, big).quota_exceeded);
  l.broker->flush();  // past 1 MiB: checked without waiting for the tick
  CHECK(l.store.checks == before + 1);
  CHECK(l.publish("$queue/q", 1, false, big).quota_exceeded);
}

TEST_CASE("store limits: none configured, no checks", "[core][store-limits]") {
  Limits l(0, 0);
  l.store.reported.free_disk_bytes = 0;
  l.broker->tick();
  CHECK(l.store.checks == 0);
  CHECK_FALSE(l.publish("t", 1).quota_exceeded);
}
