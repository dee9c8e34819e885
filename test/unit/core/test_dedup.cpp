// Duplicate detection: x-dedup-id taken once per destination within the
// window, remembered across restarts with the message it admitted.
#include <deque>
#include <map>
#include <random>

#include "broker_fixture.h"
#include "dedup.h"

using namespace junction;
using namespace junction::core;
using junction::test::FakeSink;
using junction::test::Fixture;

namespace {

PublishResult publish_id(Fixture& f, const std::string& topic, const std::string& payload, const std::string& id,
                         std::uint8_t qos = 1) {
  MessageRef m = f.broker->make_message();
  m->topic = topic;
  m->payload = payload;
  m->qos = qos;
  m->mutable_props().user_properties.push_back({std::string(kDedupProperty), id});
  PublishResult r = f.broker->publish(m, nullptr);
  f.broker->flush();
  return r;
}

std::size_t dedup_records(store::MemStore& st) {
  std::size_t n = 0;
  st.scan(store::Table::DedupIds, [&](std::string_view, std::string_view) { ++n; });
  return n;
}

}  // namespace

TEST_CASE("x-dedup-id: the first copy per destination is taken, repeats are acknowledged and dropped",
          "[core][dedup]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("sub", sink);
  REQUIRE(f.broker->subscribe(s, "#", f.qos(1)) == SubscribeStatus::Granted);
  const PublishResult first = publish_id(f, "orders", "first", "order-1");
  CHECK(first.matched == 1);
  CHECK_FALSE(first.duplicate);
  const PublishResult again = publish_id(f, "orders", "second", "order-1");
  CHECK(again.duplicate);
  CHECK(again.matched == 1);  // acknowledged as taken: not "no matching subscribers"
  CHECK_FALSE(again.invalid);
  CHECK_FALSE(publish_id(f, "other", "elsewhere", "order-1").duplicate);  // per destination
  CHECK_FALSE(publish_id(f, "orders", "new id", "order-2").duplicate);
  REQUIRE(sink.got.size() == 3);
  CHECK(sink.got[0].payload == "first");
  CHECK(sink.got[1].payload == "elsewhere");
  CHECK(sink.got[2].payload == "new id");
  CHECK(f.broker->stats().dedup_dropped == 1);
  // Nothing of these messages is stored: their ids wait for a commit to ride with.
  CHECK(dedup_records(f.store) == 0);
  f.broker->shutdown();
  CHECK(dedup_records(f.store) == 1);  // one record for all three
  CHECK(publish_id(f, "orders", "x", "").invalid);
}

TEST_CASE("dedup ids survive a restart; they are forgotten after the window", "[core][dedup]") {
  Fixture f;
  publish_id(f, "t", "a", "id-1");
  f.broker->shutdown();
  f.restart();
  CHECK(publish_id(f, "t", "a again", "id-1").duplicate);
  f.clock.advance(599'000);
  CHECK(publish_id(f, "t", "still inside", "id-1").duplicate);
  f.clock.advance(1'000);
  SECTION("past the window: taken again") {
    CHECK_FALSE(publish_id(f, "t", "later", "id-1").duplicate);
    CHECK(publish_id(f, "t", "and again", "id-1").duplicate);
  }
  SECTION("the tick forgets expired ids, in memory and on disk") {
    f.broker->tick();
    f.broker->flush();
    CHECK(f.broker->dedup().size() == 0);
    CHECK(dedup_records(f.store) == 0);
  }
  SECTION("a restart after the window forgets them too") {
    f.restart();
    CHECK(f.broker->dedup().size() == 0);
  }
}

TEST_CASE("dedup.max_ids: the oldest ids are forgotten first", "[core][dedup]") {
  Fixture f;
  f.config.dedup_max_ids = 3;
  f.restart();
  for (const char* id : {"a", "b", "c", "d"}) CHECK_FALSE(publish_id(f, "t", "x", id).duplicate);
  CHECK(f.broker->dedup().size() == 3);
  CHECK(f.broker->dedup().evicted_for_space() == 1);
  CHECK(publish_id(f, "t", "x", "d").duplicate);
  CHECK_FALSE(publish_id(f, "t", "x", "a").duplicate);  // forgotten
  f.broker->shutdown();
  f.restart();
  CHECK(f.broker->dedup().size() == 3);
  CHECK(publish_id(f, "t", "x", "d").duplicate);
  CHECK_FALSE(publish_id(f, "t", "x", "b").duplicate);  // evicted before the restart
}

TEST_CASE("a refused publish does not take its id: the retry is new", "[core][dedup]") {
  Fixture f;
  f.config.queue_policies = [](std::string_view) {
    QueuePolicy p;
    p.max_length = 1;
    return p;
  };
  f.restart();
  CHECK_FALSE(publish_id(f, "$queue/q", "one", "m1").quota_exceeded);
  CHECK(publish_id(f, "$queue/q", "two", "m2").quota_exceeded);
  CHECK(f.broker->dedup().size() == 1);
  // Room again: the retry of m2 is taken, not dropped as a duplicate.
  FakeSink sink;
  Session* s = f.connect("c", sink);
  REQUIRE(f.broker->subscribe(s, "$queue/q", f.qos(1)) == SubscribeStatus::Granted);
  REQUIRE(sink.got.size() == 1);
  REQUIRE(f.broker->acknowledge(s, sink.got[0].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  f.broker->flush();
  const PublishResult retry = publish_id(f, "$queue/q", "two", "m2");
  CHECK_FALSE(retry.duplicate);
  CHECK_FALSE(retry.quota_exceeded);
}

TEST_CASE("a delayed message is de-duplicated at its destination; dedup can be turned off", "[core][dedup]") {
  Fixture f;
  MessageRef m = f.broker->make_message();
  m->topic = "$delayed/5/t";
  m->qos = 1;
  m->mutable_props().user_properties.push_back({std::string(kDedupProperty), "once"});
  CHECK_FALSE(f.broker->publish(m, nullptr).duplicate);
  CHECK(publish_id(f, "t", "direct", "once").duplicate);  // same destination: t
  f.config.dedup_enabled = false;
  f.restart();
  CHECK_FALSE(publish_id(f, "t", "direct", "once").duplicate);
  CHECK_FALSE(publish_id(f, "t", "direct", "once").duplicate);
}

TEST_CASE("dedup hashes keep destination and id apart", "[core][dedup]") {
  CHECK_FALSE(dedup_hash("ab", "c") == dedup_hash("a", "bc"));
  CHECK_FALSE(dedup_hash("t", "1") == dedup_hash("t", "2"));
  CHECK(dedup_hash("orders", "a-very-long-identifier-of-more-than-eight-bytes") ==
        dedup_hash("orders", "a-very-long-identifier-of-more-than-eight-bytes"));
}

TEST_CASE("an id taken again after its window stays remembered for its own window, across a restart",
          "[core][dedup]") {
  Fixture f;
  CHECK_FALSE(publish_id(f, "t", "1", "again").duplicate);
  f.clock.advance(600'000);  // past the window; the tick has not run
  CHECK_FALSE(publish_id(f, "t", "2", "again").duplicate);
  f.clock.advance(1'000);
  CHECK_FALSE(publish_id(f, "t", "3", "other").duplicate);
  f.broker->tick();  // forgets the first slot of "again" (stale), not its second taking
  f.broker->flush();
  CHECK(publish_id(f, "t", "4", "again").duplicate);
  CHECK(dedup_records(f.store) == 2);
  f.restart();
  CHECK(publish_id(f, "t", "5", "again").duplicate);
  CHECK(publish_id(f, "t", "6", "other").duplicate);
  CHECK(f.broker->dedup().size() == 2);
}

TEST_CASE("a dedup id alone does not hold up the answer; a stored message still does", "[core][dedup]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("sub", sink);  // clean: nothing to store
  REQUIRE(f.broker->subscribe(s, "t", f.qos(1)) == SubscribeStatus::Granted);
  auto& p = f.broker->persistence();
  const std::size_t before = p.pending_ops();
  MessageRef m = f.broker->make_message();
  m->topic = "t";
  m->qos = 1;
  m->mutable_props().user_properties.push_back({std::string(kDedupProperty), "fast"});
  f.broker->publish(m, nullptr);
  CHECK(p.pending_ops() == before);  // the PUBACK goes out at once
  MessageRef q = f.broker->make_message();
  q->topic = "$queue/jobs";
  q->qos = 1;
  q->mutable_props().user_properties.push_back({std::string(kDedupProperty), "durable"});
  f.broker->publish(q, nullptr);
  CHECK(p.pending_ops() > before);  // the queued message (and its id) are waited for
  f.broker->flush();
}

TEST_CASE("the dedup table against a model: eviction, ids taken again, probe runs across deletions",
          "[core][dedup]") {
  store::MemStore st;
  Persistence p(st);
  const std::size_t max_ids = 700;
  DedupIndex index(p, 1'000'000, max_ids);
  std::mt19937 rng(11);
  std::deque<std::pair<int, std::uint64_t>> fifo;  // the model
  std::map<int, std::uint64_t> latest;
  std::uint64_t seq = 0;
  const std::int64_t now = 5'000'000;
  for (int step = 0; step < 20000; ++step) {
    const int id = static_cast<int>(rng() % 3000);
    const DedupHash h = dedup_hash("t", std::to_string(id));
    const bool model_seen = latest.count(id) != 0;
    REQUIRE(index.seen(h, now) == model_seen);
    if (model_seen && rng() % 4 != 0) continue;  // a duplicate, dropped
    index.remember(h, now);  // new, or taken again (as after its window)
    ++seq;
    latest[id] = seq;
    fifo.emplace_back(id, seq);
    while (latest.size() > max_ids) {
      auto [old, s] = fifo.front();
      fifo.pop_front();
      if (latest[old] == s) latest.erase(old);
    }
    if (step % 97 == 0) {
      index.write_pending();
      p.flush();
    }
    REQUIRE(index.size() == latest.size());
  }
  for (int id = 0; id < 3000; ++id) CHECK(index.seen(dedup_hash("t", std::to_string(id)), now) == (latest.count(id) != 0));
  index.write_pending();
  p.flush();
  DedupIndex again(p, 1'000'000, max_ids);
  again.restore(now);
  std::size_t restored_seen = 0;
  for (int id = 0; id < 3000; ++id) {
    const bool s = again.seen(dedup_hash("t", std::to_string(id)), now);
    if (latest.count(id)) CHECK(s);  // everything live is remembered after a restart
    restored_seen += s;
  }
  CHECK(restored_seen == latest.size());
}

TEST_CASE("a dedup id commits with its stored message; ids of messages not stored wait for a commit, at most "
          "kIdleCommitMs under traffic", "[core][dedup]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("sub", sink);
  REQUIRE(f.broker->subscribe(s, "live/#", f.qos(1)) == SubscribeStatus::Granted);
  publish_id(f, "live/a", "not stored", "n-1");
  CHECK(dedup_records(f.store) == 0);
  // A queued message is stored: its id, and the one waiting, go in its batch.
  publish_id(f, "$queue/jobs", "stored", "j-1");
  CHECK(dedup_records(f.store) == 1);
  f.restart();  // as after kill -9: that batch was committed, nothing since
  CHECK(publish_id(f, "$queue/jobs", "retry", "j-1").duplicate);
  CHECK(publish_id(f, "live/a", "retry", "n-1").duplicate);
  // Under traffic with nothing stored, a record at least every kIdleCommitMs.
  s = f.connect("sub", sink);
  REQUIRE(f.broker->subscribe(s, "live/#", f.qos(1)) == SubscribeStatus::Granted);
  publish_id(f, "live/a", "x", "n-2");
  CHECK(dedup_records(f.store) == 1);
  f.clock.advance(DedupIndex::kIdleCommitMs);
  publish_id(f, "live/a", "y", "n-3");
  CHECK(dedup_records(f.store) == 2);
  // An idle broker writes them at the tick.
  publish_id(f, "live/a", "z", "n-4");
  CHECK(dedup_records(f.store) == 2);
  f.broker->tick();
  f.broker->flush();
  CHECK(dedup_records(f.store) == 3);
}
