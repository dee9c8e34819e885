// Retained bodies at rest (issue 18): once committed and held by nothing
// else, a retained message's body stays in the store only; reading it back
// (a subscription) brings it back with the same bytes, replacing or clearing
// a cold one removes its records, a restart loads retained messages cold,
// and a message a session still holds never goes cold.
#include "broker_fixture.h"

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

TEST_CASE("retained cold: body leaves memory after the commit, comes back for a subscriber", "[core][retained]") {
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
  CHECK(r.cold_count() == 0);  // read back: resident while delivered
  // Still held by the delivery in flight (QoS 1, not acknowledged): stays.
  f.broker->tick();
  CHECK(r.cold_count() == 1);  // the QoS 0 copy is gone, the QoS 1 one is in flight
  f.broker->acknowledge(s, sink.got[0].qos ? sink.got[0].packet_id : sink.got[1].packet_id, Broker::AckStep::Done);
  f.broker->flush();
  f.broker->tick();
  CHECK(r.cold_count() == 2);
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
