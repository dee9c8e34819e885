// Queue semantics on the memory store: ordering, one consumer per message,
// prefetch, ack modes, NACK and redelivery counts, TTL, overflow, DLQ,
// restart recovery, and MQTT-style `$queue/` consumers through the broker.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <cstdlib>
#include <filesystem>

#include "broker.h"
#include "lmdb_store.h"
#include "mem_store.h"

using namespace junction;
using namespace junction::core;

namespace {

struct Delivered {
  std::string payload;
  std::uint64_t tag;
  std::uint32_t deliveries;
};

class FakeConsumer final : public QueueConsumer {
 public:
  void queue_deliver(QueueSubscription&, const MessageRef& m, std::uint64_t tag, std::uint32_t deliveries) override {
    got.push_back({m->payload, tag, deliveries});
  }
  bool queue_can_take() const override { return open; }
  std::vector<Delivered> got;
  bool open = true;
};

// Every case runs on both stores: the memory store (commits inline) and
// LMDB (commits on its writer thread; commit() waits for it).
struct QFixture {
  bool lmdb;
  std::string dir;
  std::unique_ptr<store::Store> store;
  ManualClock clock;
  std::map<std::string, QueuePolicy> policies;
  BrokerConfig config;
  std::unique_ptr<Broker> broker;

  explicit QFixture(bool use_lmdb = false) : lmdb(use_lmdb) {
    if (lmdb) {
      char tmpl[] = "/tmp/junction-queue-test-XXXXXX";
      dir = ::mkdtemp(tmpl);
    }
    config.queue_policies = [this](std::string_view name) {
      auto it = policies.find(std::string(name));
      return it == policies.end() ? QueuePolicy{} : it->second;
    };
    restart();
  }
  ~QFixture() {
    broker.reset();
    store.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  void restart() {
    if (broker) commit();
    broker.reset();
    if (lmdb) {
      store.reset();  // close, then reopen the same files: a real restart
      store::LmdbOptions o;
      o.path = dir;
      o.durability = store::Durability::Batch;
      store = std::make_unique<store::LmdbStore>(o);
    } else if (!store) {
      store = std::make_unique<store::MemStore>();
    }
    broker = std::make_unique<Broker>(config, *store, clock);
    broker->restore();
    commit();
  }
  // Ends the "loop iteration": submit the batch and wait for its commit.
  void commit() {
    broker->flush();
    store->flush();
    broker->on_store_completed();
  }
  QueueManager& q() { return broker->queues(); }
  QueueResult send(const std::string& queue, const std::string& payload, std::int64_t expiry_ms = 0) {
    MessageRef m = broker->make_message();
    m->topic = "$queue/" + queue;
    m->payload = payload;
    m->qos = 1;
    if (expiry_ms) m->expiry_ms = m->created_ms + expiry_ms;
    QueueResult r = q().publish(queue, m);
    commit();
    return r;
  }
  // A message of group `group` (x-group-id), as a front-end would make it.
  QueueResult send_grouped(const std::string& queue, const std::string& payload, const std::string& group) {
    MessageRef m = broker->make_message();
    m->topic = "$queue/" + queue;
    m->payload = payload;
    m->qos = 1;
    m->mutable_props().user_properties.push_back({std::string(kGroupProperty), group});
    QueueResult r = q().publish(queue, m);
    commit();
    return r;
  }
  std::size_t stored_entries() {
    std::size_t n = 0;
    store->scan(store::Table::QueueEntries, [&](auto, auto) { ++n; });
    return n;
  }
};

std::vector<std::string> payloads(const FakeConsumer& c) {
  std::vector<std::string> out;
  for (const auto& d : c.got) out.push_back(d.payload);
  return out;
}

}  // namespace

TEST_CASE("messages wait without consumers and arrive in order", "[core][queue]") {
  QFixture f(GENERATE(false, true));
  for (int i = 0; i < 5; ++i) CHECK(f.send("orders", std::to_string(i)) == QueueResult::Ok);
  CHECK(f.q().find("orders")->ready_count() == 5);
  CHECK(f.stored_entries() == 5);
  FakeConsumer c;
  f.q().subscribe("orders", &c, AckMode::Individual, 0);
  CHECK(payloads(c) == std::vector<std::string>{"0", "1", "2", "3", "4"});
}

TEST_CASE("competing consumers: each message exactly once, round robin", "[core][queue]") {
  QFixture f(GENERATE(false, true));
  FakeConsumer a, b;
  f.q().subscribe("jobs", &a, AckMode::Auto, 0);
  f.q().subscribe("jobs", &b, AckMode::Auto, 0);
  for (int i = 0; i < 10; ++i) f.send("jobs", std::to_string(i));
  CHECK(a.got.size() == 5);
  CHECK(b.got.size() == 5);
  std::vector<std::string> all = payloads(a);
  for (auto& p : payloads(b)) all.push_back(p);
  std::sort(all.begin(), all.end());
  CHECK(std::unique(all.begin(), all.end()) == all.end());
  CHECK(f.stored_entries() == 0);  // auto ack: gone once sent
}

TEST_CASE("prefetch bounds unacknowledged deliveries; ack releases more", "[core][queue]") {
  QFixture f(GENERATE(false, true));
  for (int i = 0; i < 5; ++i) f.send("p", std::to_string(i));
  FakeConsumer c;
  QueueSubscription* sub = f.q().subscribe("p", &c, AckMode::Individual, 2);
  REQUIRE(c.got.size() == 2);
  CHECK(f.q().ack(sub, c.got[0].tag));
  CHECK(c.got.size() == 3);
  CHECK_FALSE(f.q().ack(sub, 12345));
  f.commit();
  CHECK(f.stored_entries() == 4);
}

TEST_CASE("cumulative ack covers earlier deliveries, individual ack only one", "[core][queue]") {
  QFixture f(GENERATE(false, true));
  for (int i = 0; i < 4; ++i) f.send("c", std::to_string(i));
  FakeConsumer cum;
  QueueSubscription* s1 = f.q().subscribe("c", &cum, AckMode::Cumulative, 0);
  REQUIRE(cum.got.size() == 4);
  CHECK(f.q().ack(s1, cum.got[2].tag));
  CHECK(s1->unacked_count() == 1);

  for (int i = 0; i < 3; ++i) f.send("i", std::to_string(i));
  FakeConsumer ind;
  QueueSubscription* s2 = f.q().subscribe("i", &ind, AckMode::Individual, 0);
  CHECK(f.q().ack(s2, ind.got[2].tag));
  CHECK(s2->unacked_count() == 2);
}

TEST_CASE("NACK requeues at the head with a delivery count", "[core][queue]") {
  QFixture f(GENERATE(false, true));
  f.send("n", "first");
  f.send("n", "second");
  FakeConsumer c;
  QueueSubscription* sub = f.q().subscribe("n", &c, AckMode::Individual, 1);
  REQUIRE(c.got.size() == 1);
  CHECK(f.q().nack(sub, c.got[0].tag, true));
  REQUIRE(c.got.size() == 2);
  CHECK(c.got[1].payload == "first");
  CHECK(c.got[1].deliveries == 2);
}

TEST_CASE("a consumer that goes away: its unacked messages go to another, in order", "[core][queue]") {
  QFixture f(GENERATE(false, true));
  FakeConsumer a, b;
  QueueSubscription* sa = f.q().subscribe("w", &a, AckMode::Individual, 0);
  for (int i = 0; i < 3; ++i) f.send("w", std::to_string(i));
  REQUIRE(a.got.size() == 3);
  b.open = true;
  f.q().subscribe("w", &b, AckMode::Individual, 0);
  f.q().unsubscribe(sa);
  CHECK(payloads(b) == std::vector<std::string>{"0", "1", "2"});
  CHECK(b.got[0].deliveries == 2);
}

TEST_CASE("expired messages move to the dead-letter queue", "[core][queue][dlq]") {
  QFixture f(GENERATE(false, true));
  f.send("t", "short", 1000);
  f.send("t", "long");
  f.clock.advance(2000);
  FakeConsumer c, dlq;
  f.q().subscribe("t", &c, AckMode::Auto, 0);
  CHECK(payloads(c) == std::vector<std::string>{"long"});
  f.q().subscribe("DLQ.t", &dlq, AckMode::Auto, 0);
  CHECK(payloads(dlq) == std::vector<std::string>{"short"});
  CHECK(f.q().stats().expired == 1);
}

TEST_CASE("delivery limit dead-letters a message that keeps failing", "[core][queue][dlq]") {
  QFixture f(GENERATE(false, true));
  QueuePolicy p;
  p.max_deliveries = 2;
  f.policies["poison"] = p;
  f.restart();
  f.send("poison", "bad");
  FakeConsumer c;
  QueueSubscription* sub = f.q().subscribe("poison", &c, AckMode::Individual, 1);
  CHECK(f.q().nack(sub, c.got.back().tag, true));
  REQUIRE(c.got.size() == 2);
  CHECK(f.q().nack(sub, c.got.back().tag, true));
  CHECK(c.got.size() == 2);
  CHECK(f.q().find("DLQ.poison")->ready_count() == 1);
}

TEST_CASE("overflow: reject-publish refuses, drop-head dead-letters the oldest", "[core][queue][limits]") {
  QFixture f(GENERATE(false, true));
  QueuePolicy reject;
  reject.max_length = 2;
  QueuePolicy drop = reject;
  drop.overflow = Overflow::DropHead;
  f.policies["r"] = reject;
  f.policies["d"] = drop;
  f.restart();
  CHECK(f.send("r", "1") == QueueResult::Ok);
  CHECK(f.send("r", "2") == QueueResult::Ok);
  CHECK(f.send("r", "3") == QueueResult::Rejected);
  f.send("d", "1");
  f.send("d", "2");
  CHECK(f.send("d", "3") == QueueResult::Ok);
  FakeConsumer c, dl;
  f.q().subscribe("d", &c, AckMode::Auto, 0);
  CHECK(payloads(c) == std::vector<std::string>{"2", "3"});
  f.q().subscribe("DLQ.d", &dl, AckMode::Auto, 0);
  CHECK(payloads(dl) == std::vector<std::string>{"1"});
}

TEST_CASE("queued and unacknowledged messages survive a restart", "[core][queue][restore]") {
  QFixture f(GENERATE(false, true));
  for (int i = 0; i < 3; ++i) f.send("durable", std::to_string(i));
  FakeConsumer c;
  QueueSubscription* sub = f.q().subscribe("durable", &c, AckMode::Individual, 0);
  CHECK(f.q().ack(sub, c.got[0].tag));
  f.commit();
  f.restart();  // "1" and "2" were delivered but not acknowledged
  FakeConsumer after;
  f.q().subscribe("durable", &after, AckMode::Individual, 0);
  CHECK(payloads(after) == std::vector<std::string>{"1", "2"});
}

namespace {
class QSink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    got.emplace_back(d.msg.payload, d.packet_id);
    return DeliverResult::Sent;
  }
  bool can_deliver() const override { return true; }
  void session_taken_over() override {}
  std::vector<std::pair<std::string, std::uint16_t>> got;
};
}  // namespace

TEST_CASE("MQTT $queue/ subscriptions consume a queue; PUBACK acknowledges; disconnect requeues",
          "[core][queue][broker]") {
  QFixture f(GENERATE(false, true));
  auto connect = [&](const char* id, QSink& sink) {
    ConnectRequest r;
    r.client_id = id;
    r.sink = &sink;
    r.receive_maximum = 10;
    Session* s = f.broker->attach(r).session;
    f.broker->start_delivery(s);
    return s;
  };
  QSink a, b;
  Session* sa = connect("a", a);
  Session* sb = connect("b", b);
  SubscriptionOptions o;
  o.qos = 1;
  CHECK(f.broker->subscribe(sa, "$queue/tasks", o) == SubscribeStatus::Granted);
  CHECK(f.broker->subscribe(sb, "$queue/tasks", o) == SubscribeStatus::Granted);
  for (int i = 0; i < 4; ++i) {
    MessageRef m = f.broker->make_message();
    m->topic = "$queue/tasks";
    m->payload = std::to_string(i);
    m->qos = 1;
    CHECK(f.broker->publish(m, nullptr).matched == 1);
  }
  CHECK(a.got.size() == 2);
  CHECK(b.got.size() == 2);
  CHECK(f.broker->acknowledge(sa, a.got[0].second, Broker::AckStep::Done) == Broker::AckResult::Done);
  f.broker->detach(sb, DetachKind::Normal, 0);  // b never acked: its two go back
  CHECK(a.got.size() == 4);
  f.commit();
  CHECK(f.stored_entries() == 3);
}

namespace {
// A `$queue/` consumer over the broker, acknowledging as an MQTT client would
// (PUBACK for QoS 1, PUBREC then PUBCOMP for QoS 2).
struct QueueClient {
  QFixture& f;
  QSink sink;
  Session* s = nullptr;
  std::uint8_t qos = 1;
  std::size_t acked = 0;  // sink.got[0 .. acked) are acknowledged

  QueueClient(QFixture& fx, const char* id, std::uint8_t q, std::uint16_t receive_max) : f(fx), qos(q) {
    ConnectRequest r;
    r.client_id = id;
    r.sink = &sink;
    r.receive_maximum = receive_max;
    s = f.broker->attach(r).session;
    f.broker->start_delivery(s);
  }
  SubscribeStatus subscribe(const char* queue) {
    SubscriptionOptions o;
    o.qos = qos;
    return f.broker->subscribe(s, std::string("$queue/") + queue, o);
  }
  // Acknowledges what was received before the call (not what the acks
  // bring); false if the broker did not know one of the packet ids.
  bool ack_all() {
    bool ok = true;
    const std::size_t received = sink.got.size();
    while (acked < received) {
      const std::uint16_t id = sink.got[acked++].second;
      if (qos == 2) {
        ok &= f.broker->acknowledge(s, id, Broker::AckStep::Received) == Broker::AckResult::Done;
        ok &= f.broker->acknowledge(s, id, Broker::AckStep::Completed) == Broker::AckResult::Done;
      } else {
        ok &= f.broker->acknowledge(s, id, Broker::AckStep::Done) == Broker::AckResult::Done;
      }
      f.commit();
    }
    return ok;
  }
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (const auto& g : sink.got) out.push_back(g.first);
    return out;
  }
};

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(std::to_string(i));
  return out;
}
}  // namespace

TEST_CASE("an MQTT $queue/ consumer joining a queue with a backlog drains all of it, each once, in order",
          "[core][queue][broker]") {
  QFixture f(GENERATE(false, true));
  const std::uint8_t qos = GENERATE(1, 2);
  const int n = GENERATE(5, 35);  // below and above the consumer's window of 10
  for (int i = 0; i < n; ++i) REQUIRE(f.send("work", std::to_string(i)) == QueueResult::Ok);

  QueueClient c(f, "c", qos, 10);
  REQUIRE(c.subscribe("work") == SubscribeStatus::Granted);
  CHECK(c.sink.got.size() == std::size_t(std::min(n, 10)));
  for (int round = 0; round < n && c.acked < c.sink.got.size(); ++round) CHECK(c.ack_all());
  CHECK(c.payloads() == numbered(0, n));
  CHECK(f.q().find("work")->ready_count() == 0);
  CHECK(f.q().find("work")->unacked_count() == 0);
  CHECK(f.stored_entries() == 0);

  // Leaving after acknowledging everything puts nothing back.
  f.broker->detach(c.s, DetachKind::Normal, 0);
  f.commit();
  CHECK(f.q().find("work")->ready_count() == 0);
  CHECK(f.stored_entries() == 0);
}

TEST_CASE("a $queue/ consumer that leaves requeues only what it had not acknowledged; several share a backlog",
          "[core][queue][broker]") {
  QFixture f(GENERATE(false, true));
  const std::uint8_t qos = GENERATE(1, 2);
  for (int i = 0; i < 30; ++i) REQUIRE(f.send("jobs", std::to_string(i)) == QueueResult::Ok);

  QueueClient a(f, "a", qos, 4);
  REQUIRE(a.subscribe("jobs") == SubscribeStatus::Granted);
  CHECK(a.payloads() == numbered(0, 4));
  CHECK(a.ack_all());  // 0..3 done, 4..7 arrive
  CHECK(a.payloads() == numbered(0, 8));
  f.broker->detach(a.s, DetachKind::Normal, 0);  // 4..7 go back
  f.commit();
  CHECK(f.stored_entries() == 26);

  QueueClient b(f, "b", qos, 5);
  QueueClient c(f, "c", qos, 5);
  REQUIRE(b.subscribe("jobs") == SubscribeStatus::Granted);
  REQUIRE(c.subscribe("jobs") == SubscribeStatus::Granted);
  for (int round = 0; round < 30; ++round) {
    if (b.acked == b.sink.got.size() && c.acked == c.sink.got.size()) break;
    CHECK(b.ack_all());
    CHECK(c.ack_all());
  }
  std::vector<int> seen;
  for (const auto& p : b.payloads()) seen.push_back(std::stoi(p));
  for (const auto& p : c.payloads()) seen.push_back(std::stoi(p));
  std::sort(seen.begin(), seen.end());
  std::vector<int> want;
  for (int i = 4; i < 30; ++i) want.push_back(i);
  CHECK(seen == want);  // 0..3 were acknowledged by a and never come back
  CHECK(!b.sink.got.empty());
  CHECK(!c.sink.got.empty());
  CHECK(f.stored_entries() == 0);
}

TEST_CASE("single active consumer: one consumer gets everything; the next takes over in order", "[core][queue][sac]") {
  QFixture f(GENERATE(false, true));
  QueuePolicy p;
  p.single_active_consumer = true;
  f.policies["sac"] = p;
  f.restart();
  FakeConsumer a, b, c;
  QueueSubscription* sa = f.q().subscribe("sac", &a, AckMode::Individual, 3);
  f.q().subscribe("sac", &b, AckMode::Individual, 0);
  f.q().subscribe("sac", &c, AckMode::Individual, 0);
  for (int i = 0; i < 6; ++i) f.send("sac", std::to_string(i));
  // Only the active one, and only within its prefetch: the others wait.
  CHECK(payloads(a) == std::vector<std::string>{"0", "1", "2"});
  CHECK(b.got.empty());
  CHECK(c.got.empty());
  CHECK(f.q().ack(sa, a.got[0].tag));
  CHECK(payloads(a) == std::vector<std::string>{"0", "1", "2", "3"});
  CHECK(b.got.empty());
  // It goes: the next in line gets what it left unacknowledged first, in order.
  f.q().unsubscribe(sa);
  CHECK(payloads(b) == std::vector<std::string>{"1", "2", "3", "4", "5"});
  CHECK(b.got[0].deliveries == 2);
  CHECK(c.got.empty());
}

TEST_CASE("redelivery back-off: a NACKed message waits min(delay x multiplier^(n-1), max), others go on",
          "[core][queue][backoff]") {
  QFixture f(GENERATE(false, true));
  QueuePolicy p;
  p.redelivery_delay_ms = 1000;
  p.redelivery_multiplier = 2.0;
  p.max_redelivery_delay_ms = 3000;
  f.policies["b"] = p;
  f.restart();
  FakeConsumer c;
  QueueSubscription* sub = f.q().subscribe("b", &c, AckMode::Individual, 0);
  f.send("b", "m0");
  f.send("b", "m1");
  REQUIRE(c.got.size() == 2);
  CHECK(f.q().nack(sub, c.got[0].tag, true));
  f.commit();
  CHECK(f.q().find("b")->backing_off() == 1);
  CHECK(f.q().find("b")->ready_count() == 1);
  f.send("b", "m2");  // not held up by m0
  REQUIRE(c.got.size() == 3);
  CHECK(c.got[2].payload == "m2");
  auto wait_and_run = [&](std::int64_t ms) {
    f.clock.advance(ms);
    f.broker->run_delayed();
    f.commit();
  };
  const std::vector<std::int64_t> delays = {1000, 2000, 3000, 3000};  // x2 each time, capped at 3000
  for (std::size_t round = 0; round < delays.size(); ++round) {
    INFO("redelivery " << round + 1);
    const std::size_t before = c.got.size();
    wait_and_run(delays[round] - 1);
    CHECK(c.got.size() == before);  // never early
    wait_and_run(1);
    REQUIRE(c.got.size() == before + 1);
    CHECK(c.got.back().payload == "m0");
    CHECK(c.got.back().deliveries == round + 2);
    if (round + 1 < delays.size()) CHECK(f.q().nack(sub, c.got.back().tag, true));
    f.commit();
  }
  SECTION("the wait survives a restart") {
    CHECK(f.q().nack(sub, c.got.back().tag, true));  // 5th delivery failed: 3000 ms
    f.commit();
    f.clock.advance(1000);
    f.restart();
    FakeConsumer d;
    f.q().subscribe("b", &d, AckMode::Individual, 0);
    for (const auto& g : d.got) CHECK(g.payload != "m0");  // still backing off
    f.clock.advance(1999);
    f.broker->run_delayed();
    for (const auto& g : d.got) CHECK(g.payload != "m0");
    f.clock.advance(1);
    f.broker->run_delayed();
    REQUIRE_FALSE(d.got.empty());
    CHECK(d.got.back().payload == "m0");
    CHECK(d.got.back().deliveries == 6);
  }
}

TEST_CASE("message groups: each group sticks to the consumer first offered it, in order", "[core][queue][groups]") {
  QFixture f(GENERATE(false, true));
  FakeConsumer a, b;
  f.q().subscribe("g", &a, AckMode::Auto, 0);
  f.q().subscribe("g", &b, AckMode::Auto, 0);
  // Round robin would alternate; groups keep each key with one consumer.
  const char* groups[] = {"red", "blue", "red", "red", "blue", "green", "red", "green"};
  for (int i = 0; i < 8; ++i) f.send_grouped("g", std::string(groups[i]) + std::to_string(i), groups[i]);
  f.send("g", "plain");
  auto of = [](const FakeConsumer& c, const std::string& g) {
    std::vector<std::string> out;
    for (const auto& d : c.got)
      if (d.payload.rfind(g, 0) == 0) out.push_back(d.payload);
    return out;
  };
  for (const char* g : {"red", "blue", "green"}) {
    INFO(g);
    const auto in_a = of(a, g), in_b = of(b, g);
    CHECK((in_a.empty() || in_b.empty()));  // one owner per group
    CHECK(in_a.size() + in_b.size() == std::size_t(std::count(std::begin(groups), std::end(groups), std::string(g))));
  }
  CHECK(of(a, "red") == std::vector<std::string>{"red0", "red2", "red3", "red6"});
  CHECK(of(b, "blue") == std::vector<std::string>{"blue1", "blue4"});
  CHECK(f.q().find("g")->group_count() == 3);
}

TEST_CASE("message groups: a group whose consumer is full waits; the rest of the queue flows past it",
          "[core][queue][groups]") {
  QFixture f(GENERATE(false, true));
  FakeConsumer a, b;
  QueueSubscription* sa = f.q().subscribe("g", &a, AckMode::Individual, 1);
  f.q().subscribe("g", &b, AckMode::Individual, 0);
  f.send_grouped("g", "k0", "k");  // a owns k
  f.send_grouped("g", "k1", "k");  // waits: a is full
  f.send_grouped("g", "k2", "k");
  f.send("g", "x3");               // not held up
  f.send_grouped("g", "j4", "j");  // a new group goes to whoever has room
  CHECK(payloads(a) == std::vector<std::string>{"k0"});
  CHECK(payloads(b) == std::vector<std::string>{"x3", "j4"});
  CHECK(f.q().find("g")->ready_count() == 2);
  CHECK(f.q().ack(sa, a.got[0].tag));
  CHECK(payloads(a) == std::vector<std::string>{"k0", "k1"});
  CHECK(f.q().ack(sa, a.got[1].tag));
  CHECK(payloads(a) == std::vector<std::string>{"k0", "k1", "k2"});
  CHECK(payloads(b) == std::vector<std::string>{"x3", "j4"});
}

TEST_CASE("message groups: when the owner goes, its unacknowledged messages move first, in order, to one new owner",
          "[core][queue][groups]") {
  QFixture f(GENERATE(false, true));
  FakeConsumer a, b, c;
  QueueSubscription* sa = f.q().subscribe("g", &a, AckMode::Individual, 0);
  for (int i = 0; i < 4; ++i) f.send_grouped("g", "k" + std::to_string(i), "k");
  REQUIRE(payloads(a) == std::vector<std::string>{"k0", "k1", "k2", "k3"});
  CHECK(f.q().ack(sa, a.got[0].tag));
  f.q().subscribe("g", &b, AckMode::Individual, 0);
  f.q().subscribe("g", &c, AckMode::Individual, 0);
  f.send_grouped("g", "k4", "k");  // still a's group: b and c get nothing of it
  CHECK(payloads(a).back() == "k4");
  CHECK(b.got.empty());
  CHECK(c.got.empty());
  f.q().unsubscribe(sa);
  f.send_grouped("g", "k5", "k");
  // One of b and c now owns k, starting with what a left, in order.
  const FakeConsumer& owner = b.got.empty() ? c : b;
  const FakeConsumer& other = b.got.empty() ? b : c;
  CHECK(other.got.empty());
  CHECK(payloads(owner) == std::vector<std::string>{"k1", "k2", "k3", "k4", "k5"});
  CHECK(owner.got[0].deliveries == 2);
  CHECK(owner.got[4].deliveries == 1);
}

TEST_CASE("message groups: a message backing off holds its group's later messages, not other groups",
          "[core][queue][groups][backoff]") {
  QFixture f(GENERATE(false, true));
  QueuePolicy p;
  p.redelivery_delay_ms = 1000;
  f.policies["g"] = p;
  f.restart();
  FakeConsumer a;
  QueueSubscription* sa = f.q().subscribe("g", &a, AckMode::Individual, 1);
  f.send_grouped("g", "k0", "k");
  f.send_grouped("g", "k1", "k");
  f.send_grouped("g", "j2", "j");
  REQUIRE(payloads(a) == std::vector<std::string>{"k0"});
  CHECK(f.q().nack(sa, a.got[0].tag, true));  // k0 backs off for 1 s
  f.commit();
  // k1 must not overtake k0; j2 may go.
  CHECK(payloads(a) == std::vector<std::string>{"k0", "j2"});
  CHECK(f.q().ack(sa, a.got[1].tag));
  CHECK(payloads(a) == std::vector<std::string>{"k0", "j2"});
  f.clock.advance(1000);
  f.broker->run_delayed();
  f.commit();
  CHECK(payloads(a) == std::vector<std::string>{"k0", "j2", "k0"});
  CHECK(a.got.back().deliveries == 2);
  CHECK(f.q().ack(sa, a.got.back().tag));
  CHECK(payloads(a) == std::vector<std::string>{"k0", "j2", "k0", "k1"});
}

TEST_CASE("message groups: order within a group holds across a restart", "[core][queue][groups][restore]") {
  QFixture f(true);
  FakeConsumer a;
  QueueSubscription* sa = f.q().subscribe("g", &a, AckMode::Individual, 2);
  for (int i = 0; i < 6; ++i) f.send_grouped("g", (i % 2 ? "j" : "k") + std::to_string(i), i % 2 ? "j" : "k");
  REQUIRE(payloads(a) == std::vector<std::string>{"k0", "j1"});
  CHECK(f.q().ack(sa, a.got[1].tag));  // j1 done, k0 still in flight
  f.restart();
  FakeConsumer b;
  f.q().subscribe("g", &b, AckMode::Auto, 0);
  CHECK(payloads(b) == std::vector<std::string>{"k0", "k2", "j3", "k4", "j5"});
}
