// Retained bodies at rest (issue 18): once committed and held by nothing
// else, a retained message's body stays in the store only; reading it back
// (a subscription) brings it back with the same bytes, replacing or clearing
// a cold one removes its records, a restart loads retained messages cold,
// and a message a session still holds never goes cold.
#include "broker_fixture.h"

#include <map>
#include <set>

#include "records.h"

using namespace junction;
using namespace junction::test;

namespace {

bool has_record(Fixture& f, store::Table t, std::uint64_t id) {
  std::string v;
  return f.store.get(t, store::u64_key(id), v);
}

}  // namespace

TEST_CASE("retained cold: body leaves memory after the commit, a subscriber gets copies", "[core][retained]") {
  Fixture f;
  f.publish("dev/1/state", "on", 1, true);
  f.publish("dev/2/state", "off", 0, true);
  RetainedStore& r = f.broker->retained();
  CHECK(r.cold_count() == 0);
  f.broker->tick();
  CHECK(r.cold_count() == 2);
  CHECK(r.size() == 2);

  FakeSink sink;
  Session* s = f.connect("reader", sink);
  f.broker->subscribe(s, "dev/+/state", f.qos(1));
  f.broker->flush();
  REQUIRE(sink.got.size() == 2);
  std::multiset<std::string> got;
  for (const Got& g : sink.got) {
    CHECK(g.retain);
    got.insert(g.topic + "=" + g.payload);
  }
  CHECK(got == std::multiset<std::string>{"dev/1/state=on", "dev/2/state=off"});
  // Each delivery got a copy read for it: the retained bodies stay at rest,
  // also while the QoS 1 one is in flight.
  CHECK(r.cold_count() == 2);
  f.broker->tick();
  CHECK(r.cold_count() == 2);
  f.broker->acknowledge(s, sink.got[0].qos ? sink.got[0].packet_id : sink.got[1].packet_id, Broker::AckStep::Done);
  f.broker->flush();
  f.broker->tick();
  CHECK(r.cold_count() == 2);
  // find() (a lookup by topic) still reads one back into the store.
  REQUIRE(r.find("dev/1/state"));
  CHECK(r.cold_count() == 1);
}

TEST_CASE("retained cold: replacing or clearing a cold message removes its records", "[core][retained]") {
  Fixture f;
  f.publish("a/b", "one", 1, true);
  f.broker->tick();
  RetainedStore& r = f.broker->retained();
  REQUIRE(r.cold_count() == 1);
  const std::uint64_t first = r.find_id("a/b");
  REQUIRE(has_record(f, store::Table::Messages, first));
  REQUIRE(has_record(f, store::Table::Retained, first));

  f.publish("a/b", "two", 1, true);
  const std::uint64_t second = r.find_id("a/b");
  CHECK(second > first);
  CHECK_FALSE(has_record(f, store::Table::Messages, first));
  CHECK_FALSE(has_record(f, store::Table::Retained, first));
  CHECK(r.cold_count() == 0);
  f.broker->tick();
  CHECK(r.cold_count() == 1);

  f.publish("a/b", "", 1, true);  // clears the topic [MQTT-3.3.1-6]
  CHECK(r.size() == 0);
  CHECK(r.cold_count() == 0);
  CHECK_FALSE(has_record(f, store::Table::Messages, second));
  CHECK_FALSE(has_record(f, store::Table::Retained, second));
}

TEST_CASE("retained cold: a restart loads them cold, subscribers get the same bytes", "[core][retained]") {
  Fixture f;
  for (int i = 0; i < 50; ++i) f.publish("fleet/" + std::to_string(i), "v" + std::to_string(i), 1, true);
  f.restart();
  RetainedStore& r = f.broker->retained();
  CHECK(r.size() == 50);
  CHECK(r.cold_count() == 50);
  FakeSink sink;
  Session* s = f.connect("late", sink);
  f.broker->subscribe(s, "fleet/#", f.qos(0));
  f.broker->flush();
  REQUIRE(sink.got.size() == 50);
  for (const Got& g : sink.got) CHECK(g.payload == "v" + g.topic.substr(6));
  f.broker->tick();
  CHECK(r.cold_count() == 50);
  // And across one more restart nothing was lost or duplicated.
  f.restart();
  CHECK(f.broker->retained().size() == 50);
  CHECK(f.broker->retained().find("fleet/7")->payload == "v7");
}

TEST_CASE("retained cold: a message an offline session still holds stays resident until it is acknowledged",
          "[core][retained]") {
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("keeper", sink, false, 3600);
  f.broker->subscribe(s, "k/#", f.qos(1));
  f.broker->flush();
  f.broker->detach(s, DetachKind::Normal, 3600);
  f.broker->flush();
  f.publish("k/x", "kept", 1, true);  // retained + in the offline session's queue
  f.broker->tick();
  RetainedStore& r = f.broker->retained();
  CHECK(r.cold_count() == 0);
  const std::uint64_t id = r.find_id("k/x");
  // Back online: delivered, acknowledged; then nothing else holds it.
  FakeSink again;
  s = f.connect("keeper", again, false, 3600);
  REQUIRE(again.got.size() == 1);
  CHECK(again.got[0].payload == "kept");
  f.broker->acknowledge(s, again.got[0].packet_id, Broker::AckStep::Done);
  f.broker->flush();
  f.broker->tick();
  CHECK(r.cold_count() == 1);
  CHECK(has_record(f, store::Table::Messages, id));
  CHECK(r.find("k/x")->payload == "kept");
}

TEST_CASE("retained cold: a wildcard subscriber reads cold messages back at the pace of its window",
          "[core][retained]") {
  // A '#' subscriber on millions of retained messages must not bring every
  // body back into memory at once: only what its window lets it send.
  Fixture f;
  constexpr int kCount = 300;
  for (int i = 0; i < kCount; ++i) f.publish("fleet/" + std::to_string(i), "v" + std::to_string(i), 1, true);
  f.broker->tick();
  RetainedStore& r = f.broker->retained();
  REQUIRE(r.cold_count() == kCount);

  FakeSink sink;
  Session* s = f.connect("reader", sink, true, 0, /*receive_max=*/10);
  f.broker->subscribe(s, "fleet/#", f.qos(1));
  f.broker->flush();
  CHECK(sink.got.size() == 10);
  CHECK(r.cold_count() >= kCount - 10);  // only the window was read back

  // Replaced before its turn: the subscriber gets the new one live and never the old one.
  std::set<std::string> sent_early;
  for (const Got& g : sink.got) sent_early.insert(g.topic);
  std::string late;
  for (int i = 0; i < kCount && late.empty(); ++i) {
    const std::string t = "fleet/" + std::to_string(i);
    if (!sent_early.count(t)) late = t;
  }
  REQUIRE_FALSE(late.empty());
  f.publish(late, "new", 1, true);

  std::map<std::string, std::vector<std::string>> got;
  std::size_t done = 0;
  std::size_t most_resident = 0;
  while (done < sink.got.size()) {
    const Got g = sink.got[done++];
    got[g.topic].push_back(g.payload);
    REQUIRE(f.broker->acknowledge(s, g.packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
    f.broker->flush();
    if (done % 10 == 0) f.broker->tick();  // acknowledged ones go cold again
    most_resident = std::max(most_resident, r.size() - r.cold_count());
  }
  CHECK(most_resident <= 30);
  CHECK(got.size() == kCount);
  for (int i = 0; i < kCount; ++i) {
    const std::string t = "fleet/" + std::to_string(i);
    INFO(t);
    if (t == late) {
      CHECK(got[t] == std::vector<std::string>{"new"});
    } else {
      CHECK(got[t] == std::vector<std::string>{"v" + std::to_string(i)});
    }
  }
}

TEST_CASE("retained cold: a persistent session's copy survives a restart; the retained message stays",
          "[core][retained][restore]") {
  Fixture f;
  f.publish("dev/1/state", "on", 1, true);
  f.broker->tick();
  REQUIRE(f.broker->retained().cold_count() == 1);
  FakeSink sink;
  Session* s = f.connect("keeper", sink, false, 3600);
  f.broker->subscribe(s, "dev/#", f.qos(1));
  f.broker->flush();
  REQUIRE(sink.got.size() == 1);
  f.broker->detach(s, DetachKind::Normal, 3600);
  f.broker->flush();
  f.restart();
  FakeSink again;
  s = f.connect("keeper", again, false, 3600);
  REQUIRE(again.got.size() == 1);  // unacknowledged: resent, with its body
  CHECK(again.got[0].payload == "on");
  CHECK(again.got[0].dup);
  REQUIRE(f.broker->acknowledge(s, again.got[0].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  f.broker->flush();
  f.restart();
  FakeSink other;
  Session* o = f.connect("other", other);
  f.broker->subscribe(o, "dev/1/state", f.qos(0));
  REQUIRE(other.got.size() == 1);
  CHECK(other.got[0].payload == "on");
}
