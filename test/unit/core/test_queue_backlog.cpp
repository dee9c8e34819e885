// Queue backlogs on disk: memory holds a window, the rest is read back from
// the store in key order. Refill order, acks and NACKs across the window
// edge, consumers leaving, restart in the middle of a drain (only counters
// are read at start-up), overflow and TTL reaching into the disk part, and
// the one-time rewrite of version-1 queue entries.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "broker.h"
#include "lmdb_store.h"
#include "mem_store.h"
#include "records.h"

using namespace junction;
using namespace junction::core;

namespace {

constexpr std::size_t kWindow = QueueManager::kWindow;
constexpr std::size_t kIdle = QueueManager::kIdleWindow;

class Consumer final : public QueueConsumer {
 public:
  void queue_deliver(QueueSubscription&, const MessageRef& m, std::uint64_t tag, std::uint32_t deliveries) override {
    got.push_back(m->payload);
    tags.push_back(tag);
    counts.push_back(deliveries);
  }
  std::vector<std::string> got;
  std::vector<std::uint64_t> tags;
  std::vector<std::uint32_t> counts;
};

struct Backlog {
  bool lmdb;
  std::string dir;
  std::unique_ptr<store::Store> store;
  ManualClock clock;
  QueuePolicy policy;
  BrokerConfig config;
  std::unique_ptr<Broker> broker;

  explicit Backlog(bool use_lmdb) : lmdb(use_lmdb) {
    char tmpl[] = "/tmp/junction-backlog-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    config.queue_policies = [this](std::string_view name) {
      return name.substr(0, 4) == "DLQ." ? QueuePolicy{} : policy;
    };
    restart();
  }
  ~Backlog() {
    broker.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  void open_store() {
    if (lmdb) {
      store::LmdbOptions o;
      o.path = dir;
      o.durability = store::Durability::Batch;
      store = std::make_unique<store::LmdbStore>(o);
    } else if (!store) {
      store = std::make_unique<store::MemStore>();
    }
  }
  void restart() {
    if (broker) commit();
    broker.reset();
    if (lmdb) store.reset();
    open_store();
    broker = std::make_unique<Broker>(config, *store, clock);
    broker->restore();
    commit();
  }
  void commit() {
    broker->flush();
    store->flush();
    broker->on_store_completed();
  }
  QueueManager& q() { return broker->queues(); }
  Queue& queue(const char* name) { return *q().find(name); }
  void send(const std::string& name, int from, int to) {
    for (int i = from; i < to; ++i) {
      MessageRef m = broker->make_message();
      m->topic = "$queue/" + name;
      m->payload = std::to_string(i);
      m->qos = 1;
      REQUIRE(q().publish(name, m) == QueueResult::Ok);
      if (i % 100 == 99) commit();  // several group commits, as a live broker makes
    }
    commit();
  }
  std::size_t stored(store::Table t) {
    std::size_t n = 0;
    store->scan(t, [&](auto, auto) { ++n; });
    return n;
  }
};

std::vector<std::string> range(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

// Acknowledges everything delivered so far, repeatedly, as a consumer that
// keeps up would; returns when nothing more arrives.
void drain(Backlog& b, Consumer& c, QueueSubscription* sub, std::size_t acked = 0) {
  while (acked < c.tags.size()) {
    while (acked < c.tags.size()) REQUIRE(b.q().ack(sub, c.tags[acked++]));
    b.commit();
  }
}

}  // namespace

TEST_CASE("backlog: a queue larger than its window keeps only the window in memory", "[core][queue][backlog]") {
  Backlog b(GENERATE(false, true));
  const int n = int(kWindow) * 5;
  b.send("big", 0, n);
  b.broker->tick();  // settles what the last commit made readable
  Queue& q = b.queue("big");
  CHECK(q.ready_count() == std::size_t(n));
  CHECK(q.in_memory() <= kIdle);
  CHECK(q.on_disk() >= std::size_t(n) - kIdle);
  CHECK(b.stored(store::Table::QueueEntries) == std::size_t(n));
  CHECK(b.stored(store::Table::Messages) == 0);  // bodies are in the entries

  Consumer c;
  QueueSubscription* sub = b.q().subscribe("big", &c, AckMode::Individual, 100);
  CHECK(c.got.size() == 100);
  CHECK(q.in_memory() <= kWindow);
  drain(b, c, sub);
  CHECK(c.got == range(0, n));  // all, once each, in order
  CHECK(q.ready_count() == 0);
  CHECK(q.unacked_count() == 0);
  CHECK(b.stored(store::Table::QueueEntries) == 0);
  CHECK(b.q().stats().read_back >= std::size_t(n) - kIdle);
}

TEST_CASE("backlog: messages published while a backlog drains come after it", "[core][queue][backlog]") {
  Backlog b(GENERATE(false, true));
  b.send("mix", 0, 3000);
  Consumer c;
  QueueSubscription* sub = b.q().subscribe("mix", &c, AckMode::Individual, 50);
  std::size_t acked = 0;
  for (int round = 0; round < 20; ++round) {
    b.send("mix", 3000 + round * 50, 3000 + (round + 1) * 50);  // new ones arrive past the window
    for (const std::size_t end = acked + 50; acked < end;) REQUIRE(b.q().ack(sub, c.tags[acked++]));
    b.commit();
  }
  drain(b, c, sub, acked);
  CHECK(c.got == range(0, 4000));
}

TEST_CASE("backlog: NACK and a consumer leaving requeue at the head across the window edge",
          "[core][queue][backlog]") {
  Backlog b(GENERATE(false, true));
  b.send("edge", 0, 3000);
  Consumer first;
  QueueSubscription* s1 = b.q().subscribe("edge", &first, AckMode::Individual, 10);
  REQUIRE(first.got == range(0, 10));
  REQUIRE(b.q().ack(s1, first.tags[0]));
  REQUIRE(b.q().nack(s1, first.tags[1], true));  // "1" goes back to the head
  CHECK(first.got.back() == "1");                 // and is the next one this consumer gets
  CHECK(first.counts.back() == 2);
  b.commit();
  b.q().unsubscribe(s1);  // "1".."9" were not acknowledged: back at the head
  b.commit();
  b.broker->tick();  // no consumer: the window goes back to disk
  CHECK(b.queue("edge").in_memory() == 0);
  CHECK(b.queue("edge").ready_count() == 2999);

  Consumer second;
  QueueSubscription* s2 = b.q().subscribe("edge", &second, AckMode::Individual, 200);
  drain(b, second, s2);
  CHECK(second.got == range(1, 3000));
  CHECK(second.counts[0] == 3);  // "1": delivered twice before (the count is written when requeued)
}

TEST_CASE("backlog: restart in the middle of a drain reads only counters, then resumes in order",
          "[core][queue][backlog]") {
  Backlog b(true);
  b.send("resume", 0, 5000);
  Consumer c;
  QueueSubscription* sub = b.q().subscribe("resume", &c, AckMode::Individual, 100);
  for (std::size_t acked = 0; acked < 1200;) {  // 1200 acknowledged, 100 in flight
    for (const std::size_t end = acked + 100; acked < end;) REQUIRE(b.q().ack(sub, c.tags[acked++]));
    b.commit();
  }
  REQUIRE(c.got.size() == 1300);
  b.restart();
  Queue& q = b.queue("resume");
  CHECK(q.ready_count() == 3800);  // the 100 in flight are ready again
  CHECK(q.in_memory() == 0);      // nothing read until a consumer wants it
  CHECK(b.q().stats().read_back == 0);

  Consumer after;
  QueueSubscription* s2 = b.q().subscribe("resume", &after, AckMode::Individual, 100);
  drain(b, after, s2);
  CHECK(after.got == range(1200, 5000));
  CHECK(after.counts[0] == 1);  // written at requeue only: a crash may show one delivery less
  b.restart();
  CHECK(b.q().find("resume") == nullptr);  // an emptied queue leaves no record behind
  CHECK(b.stored(store::Table::QueueMeta) == 0);
}

TEST_CASE("backlog: message ids stay unique across a restart", "[core][queue][backlog]") {
  Backlog b(true);
  b.send("ids", 0, 100);
  const std::uint64_t before = b.broker->make_message()->id;
  b.restart();
  CHECK(b.broker->make_message()->id > before - 1);
}

TEST_CASE("backlog: drop-head overflow and TTL reach into the part on disk", "[core][queue][backlog]") {
  Backlog b(GENERATE(false, true));
  SECTION("drop-head keeps the newest max_length, the rest go to the dead-letter queue in order") {
    b.policy.max_length = 100;
    b.policy.overflow = Overflow::DropHead;
    b.send("capped", 0, 2000);
    CHECK(b.queue("capped").ready_count() == 100);
    Consumer c, dlq;
    QueueSubscription* sub = b.q().subscribe("capped", &c, AckMode::Individual, 0);
    drain(b, c, sub);
    CHECK(c.got == range(1900, 2000));
    QueueSubscription* dsub = b.q().subscribe("DLQ.capped", &dlq, AckMode::Individual, 64);
    drain(b, dlq, dsub);
    CHECK(dlq.got == range(0, 1900));
  }
  SECTION("expired messages found on disk go to the dead-letter queue") {
    b.policy.ttl_ms = 1000;
    b.send("ttl", 0, 500);
    b.clock.advance(2000);
    b.send("ttl", 500, 600);
    Consumer c, dlq;
    QueueSubscription* sub = b.q().subscribe("ttl", &c, AckMode::Individual, 0);
    drain(b, c, sub);
    CHECK(c.got == range(500, 600));
    QueueSubscription* dsub = b.q().subscribe("DLQ.ttl", &dlq, AckMode::Individual, 0);
    drain(b, dlq, dsub);
    CHECK(dlq.got == range(0, 500));
  }
}

TEST_CASE("backlog: version-1 queue entries are rewritten with their message inline at start-up",
          "[core][queue][backlog][restore]") {
  Backlog b(true);
  b.broker.reset();
  {
    // What a build before this format left: bodies in Messages, entries naming them, no counters.
    store::Batch batch;
    for (std::uint64_t i = 1; i <= 300; ++i) {
      store::StoredMessage m;
      m.id = 1000 + i;
      m.topic = "$queue/old";
      m.payload = std::to_string(i - 1);
      m.qos = 1;
      batch.put(store::Table::Messages, store::u64_key(m.id), store::encode(m));
      std::string v1 = std::string(1, '\x01') + store::u64_key(0);  // version, msg id (LE), deliveries
      for (int k = 0; k < 8; ++k) v1[1 + k] = char((m.id >> (8 * k)) & 0xFF);
      v1 += std::string(4, '\0');
      batch.put(store::Table::QueueEntries, store::queue_entry_key("old", i), v1);
    }
    b.store->submit(std::move(batch), 1);
    b.store->flush();
    std::vector<store::CommitResult> done;
    b.store->take_completed(done);
  }
  b.restart();
  CHECK(b.stored(store::Table::QueueMeta) == 1);
  CHECK(b.queue("old").ready_count() == 300);
  CHECK(b.broker->make_message()->id > 1300);
  Consumer c;
  QueueSubscription* sub = b.q().subscribe("old", &c, AckMode::Individual, 50);
  drain(b, c, sub);
  CHECK(c.got == range(0, 300));
  // The retained loader removes the Messages records nothing references any more.
  while (b.broker->restore_step(1000)) {
  }
  b.commit();
  CHECK(b.stored(store::Table::Messages) == 0);
}
