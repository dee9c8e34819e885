// A persistent session's record (its subscriptions) is written once per
// group commit, however many SUBSCRIBEs changed it: writing it on every
// subscribe made a session with N filters cost N^2 record bytes (issue 18,
// "cost flat as state grows": 100,000 filters on one client took minutes).
#include <catch2/catch.hpp>

#include <string>

#include "broker.h"
#include "forwarding_store.h"

using namespace junction;
using namespace junction::core;

namespace {

// A memory store that counts what is written to the Sessions table.
class CountingStore final : public test::ForwardingStore {
 public:
  std::size_t session_puts = 0;
  std::size_t session_bytes = 0;

  void submit(store::Batch&& b, std::uint64_t seq) override {
    for (const store::Op& op : b.ops()) {
      if (op.table == store::Table::Sessions && !op.erase) {
        ++session_puts;
        session_bytes += op.value.size();
      }
    }
    ForwardingStore::submit(std::move(b), seq);
  }
};

class Sink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery&) override { return DeliverResult::Sent; }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
};

Session* connect(Broker& b, Sink& sink, const std::string& id) {
  ConnectRequest r;
  r.client_id = id;
  r.clean_start = false;
  r.session_expiry_s = 3600;
  r.sink = &sink;
  r.protocol = ProtocolId{1};
  Session* s = b.attach(r).session;
  b.start_delivery(s);
  return s;
}

}  // namespace

TEST_CASE("session record: written once per commit, not once per subscribe", "[session][store]") {
  CountingStore store;
  ManualClock clock;
  BrokerConfig config;
  Sink sink;
  constexpr int kFilters = 2000;
  {
    Broker b(config, store, clock);
    b.register_protocol(ProtocolId{1}, "mqtt");
    b.restore();
    Session* s = connect(b, sink, "many");
    b.flush();
    store.session_puts = store.session_bytes = 0;
    SubscriptionOptions o;
    o.qos = 1;
    // One SUBSCRIBE packet's worth of filters per flush, as a front-end does.
    for (int i = 0; i < kFilters; ++i) {
      REQUIRE(b.subscribe(s, "fleet/+/dev" + std::to_string(i), o) == SubscribeStatus::Granted);
      if (i % 500 == 499) b.flush();
    }
    b.flush();
    CHECK(store.session_puts == kFilters / 500);
    // Four records of at most kFilters filters: linear, not kFilters^2 / 2.
    CHECK(store.session_bytes < 4u * kFilters * 40u);
    for (int i = 0; i < 10; ++i) REQUIRE(b.unsubscribe(s, "fleet/+/dev" + std::to_string(i)));
    b.flush();
    CHECK(store.session_puts == kFilters / 500 + 1);
  }
  // What was written is what a restart reads.
  Broker b(config, store, clock);
  b.register_protocol(ProtocolId{1}, "mqtt");
  b.restore();
  Session* s = b.find_session("many");
  REQUIRE(s != nullptr);
  CHECK(s->subscriptions().size() == kFilters - 10);
  CHECK(s->subscription("fleet/+/dev1999") != nullptr);
  CHECK(s->subscription("fleet/+/dev5") == nullptr);
}

TEST_CASE("session record: a session ended before the commit writes nothing back", "[session][store]") {
  CountingStore store;
  ManualClock clock;
  BrokerConfig config;
  Sink sink;
  Broker b(config, store, clock);
  b.register_protocol(ProtocolId{1}, "mqtt");
  b.restore();
  Session* s = connect(b, sink, "gone");
  SubscriptionOptions o;
  REQUIRE(b.subscribe(s, "a/b", o) == SubscribeStatus::Granted);
  // Clean start takes the session over and ends the stored one, same batch.
  ConnectRequest r;
  r.client_id = "gone";
  r.clean_start = true;
  r.sink = &sink;
  r.protocol = ProtocolId{1};
  b.attach(r);
  b.flush();
  std::string v;
  CHECK_FALSE(store.get(store::Table::Sessions, "gone", v));
}
