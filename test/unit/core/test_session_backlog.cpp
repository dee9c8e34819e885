// A stored session's backlog on disk: past its window (16 entries offline,
// 1,024 online) entries are written with their message inline and dropped
// from memory once committed; they come back in order when the client
// returns, across restarts, with drop-oldest outboxes, and when the session
// ends or stops being persistent.
#include "broker_fixture.h"

#include "records.h"

using namespace junction;
using namespace junction::test;

namespace {

constexpr std::uint32_t kHour = 3600;

std::vector<std::string> range(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(std::to_string(i));
  return v;
}

// Acknowledges every QoS 1 delivery as it comes, as a client that keeps up;
// returns the payloads received.
std::vector<std::string> receive_all(Fixture& f, Session* s, FakeSink& sink) {
  std::vector<std::string> out;
  std::size_t done = 0;
  while (done < sink.got.size()) {
    const Got g = sink.got[done++];
    out.push_back(g.payload);
    if (g.qos > 0) REQUIRE(f.broker->acknowledge(s, g.packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
    if (done % 100 == 0) f.broker->flush();
  }
  f.broker->flush();
  return out;
}

std::size_t entries(Fixture& f) {
  std::size_t n = 0;
  f.store.scan(store::Table::SessionEntries, [&](auto, auto) { ++n; });
  return n;
}

// Publishes messages from..to-1 to "t/x" while the subscriber is offline.
void fill_offline(Fixture& f, int from, int to) {
  for (int i = from; i < to; ++i) {
    INFO("message " << i);
    REQUIRE(f.publish("t/x", std::to_string(i), 1).matched == 1);
  }
  f.broker->tick();  // settles the last spilled entries
}

Session* subscribe_offline(Fixture& f, const char* id) {
  FakeSink sink;
  Session* s = f.connect(id, sink, false, kHour);
  REQUIRE(f.broker->subscribe(s, "t/#", f.qos(1)) == SubscribeStatus::Granted);
  f.broker->detach(s, DetachKind::Normal, kHour);
  f.broker->flush();
  return s;
}

}  // namespace

TEST_CASE("session backlog: an offline session keeps a window in memory, the rest on disk, all in order",
          "[core][session][backlog]") {
  Fixture f;
  Session* s = subscribe_offline(f, "dev");
  fill_offline(f, 0, 3000);
  CHECK(s->queued() == 3000);
  CHECK(s->pending().size() <= 16);
  CHECK(s->backlog() >= 3000 - 16);
  CHECK(entries(f) == 3000);

  FakeSink sink;
  s = f.connect("dev", sink, false, kHour, 100);
  CHECK(sink.got.size() == 100);  // its receive maximum
  CHECK(s->pending().size() <= 1024);
  CHECK(receive_all(f, s, sink) == range(0, 3000));
  CHECK(s->queued() == 0);
  CHECK(entries(f) == 0);
}

TEST_CASE("session backlog: messages arriving while it drains come after it", "[core][session][backlog]") {
  Fixture f;
  Session* s = subscribe_offline(f, "dev");
  fill_offline(f, 0, 2500);
  FakeSink sink;
  s = f.connect("dev", sink, false, kHour, 50);
  std::size_t done = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 30; ++i) f.publish("t/x", std::to_string(2500 + round * 30 + i), 1);
    for (const std::size_t end = done + 50; done < end;) {
      REQUIRE(f.broker->acknowledge(s, sink.got[done++].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
    }
    f.broker->flush();
  }
  std::vector<std::string> got;
  for (std::size_t i = 0; i < done; ++i) got.push_back(sink.got[i].payload);
  while (done < sink.got.size()) {
    const Got g = sink.got[done++];
    got.push_back(g.payload);
    REQUIRE(f.broker->acknowledge(s, g.packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
    f.broker->flush();
  }
  CHECK(got == range(0, 2800));
}

TEST_CASE("session backlog: survives a restart; only a window is loaded", "[core][session][backlog][restore]") {
  Fixture f;
  subscribe_offline(f, "dev");
  fill_offline(f, 0, 2000);
  f.restart();
  Session* s = f.broker->find_session("dev");
  REQUIRE(s != nullptr);
  CHECK(s->queued() == 2000);
  CHECK(s->pending().size() <= 16);
  FakeSink sink;
  bool present = false;
  s = f.connect("dev", sink, false, kHour, 64, &present);
  CHECK(present);
  CHECK(receive_all(f, s, sink) == range(0, 2000));
}

TEST_CASE("session backlog: reference entries past the window are rewritten inline at start-up",
          "[core][session][backlog][restore]") {
  Fixture f;
  subscribe_offline(f, "dev");
  {
    // What a build before backlogs left: 300 entries naming Messages records.
    store::Batch b;
    for (std::uint64_t i = 1; i <= 300; ++i) {
      store::StoredMessage m;
      m.id = 5000 + i;
      m.topic = "t/x";
      m.payload = std::to_string(i - 1);
      m.qos = 1;
      b.put(store::Table::Messages, store::u64_key(m.id), store::encode(m));
      store::StoredEntry e;
      e.msg_id = m.id;
      e.qos = 1;
      b.put(store::Table::SessionEntries, store::session_entry_key("dev", 100 + i), store::encode(e));
    }
    f.store.submit(std::move(b), 1000);
    std::vector<store::CommitResult> done;
    f.store.take_completed(done);
  }
  f.restart();
  Session* s = f.broker->find_session("dev");
  CHECK(s->queued() == 300);
  CHECK(s->pending().size() == 16);
  FakeSink sink;
  s = f.connect("dev", sink, false, kHour, 20);
  CHECK(receive_all(f, s, sink) == range(0, 300));
  f.restart();  // the bodies nothing names any more are swept
  std::size_t bodies = 0;
  f.store.scan(store::Table::Messages, [&](auto, auto) { ++bodies; });
  CHECK(bodies == 0);
}

TEST_CASE("session backlog: ending the session erases it; a session no longer persistent keeps it in memory",
          "[core][session][backlog]") {
  Fixture f;
  SECTION("clean start ends the old session and its backlog") {
    subscribe_offline(f, "dev");
    fill_offline(f, 0, 500);
    FakeSink sink;
    f.connect("dev", sink, true, 0);
    CHECK(sink.got.empty());
    f.broker->flush();
    CHECK(entries(f) == 0);
  }
  SECTION("resumed without expiry: the backlog comes into memory and is delivered") {
    subscribe_offline(f, "dev");
    fill_offline(f, 0, 500);
    FakeSink sink;
    Session* s = f.connect("dev", sink, false, 0, 1000);
    CHECK(s->backlog() == 0);
    CHECK(receive_all(f, s, sink) == range(0, 500));
    f.broker->flush();
    CHECK(entries(f) == 0);
  }
}

TEST_CASE("session backlog: a drop-oldest outbox drops from the head on disk", "[core][session][backlog]") {
  Fixture f;
  Session* s = subscribe_offline(f, "bridge");
  s->set_queue_limit(100, true);
  fill_offline(f, 0, 1000);
  CHECK(s->queued() == 100);
  CHECK(s->dropped_oldest() == 900);
  s->set_queue_limit(100, true);
  FakeSink sink;
  s = f.connect("bridge", sink, false, kHour, 10);
  CHECK(receive_all(f, s, sink) == range(900, 1000));
}

TEST_CASE("session backlog: a spilled entry delivered before its commit leaves other holders' references alone",
          "[core][session][backlog][retained]") {
  // The entry past the window holds the message inline (no reference of its
  // own); acknowledging it must not drop the retained store's reference,
  // or the retained message's record goes and a restart loses it.
  Fixture f;
  subscribe_offline(f, "dev");
  fill_offline(f, 0, 16);  // its offline window
  MessageRef m = f.broker->make_message();
  m->topic = "t/r";
  m->payload = "keep";
  m->qos = 1;
  m->retain = true;
  REQUIRE(f.broker->publish(m, nullptr).matched == 1);  // spilled, not committed yet
  m = MessageRef();
  FakeSink sink;
  Session* s = f.connect("dev", sink, false, kHour);
  std::vector<std::string> want = range(0, 16);
  want.push_back("keep");
  CHECK(receive_all(f, s, sink) == want);
  f.restart();
  FakeSink other;
  Session* o = f.connect("other", other);
  REQUIRE(f.broker->subscribe(o, "t/r", f.qos(1)) == SubscribeStatus::Granted);
  REQUIRE(other.got.size() == 1);
  CHECK(other.got[0].payload == "keep");
}

TEST_CASE("session entries: a message for one stored session is written once, inside its entry",
          "[core][session][store]") {
  // Two records (body + entry) per message only when the body is shared:
  // several sessions, or a retained message.
  Fixture f;
  subscribe_offline(f, "a");
  auto messages = [&] {
    std::size_t n = 0;
    f.store.scan(store::Table::Messages, [&](auto, auto) { ++n; });
    return n;
  };
  f.publish("t/x", "one", 1);
  CHECK(entries(f) == 1);
  CHECK(messages() == 0);
  subscribe_offline(f, "b");
  f.publish("t/x", "two", 1);
  CHECK(entries(f) == 3);
  CHECK(messages() == 1);  // shared by a and b
  f.publish("t/r", "three", 1, true);
  CHECK(entries(f) == 5);
  CHECK(messages() == 2);  // and by the retained store
  f.restart();
  for (const char* id : {"a", "b"}) {
    INFO(id);
    FakeSink sink;
    Session* s = f.connect(id, sink, false, kHour);
    const std::vector<std::string> want =
        std::string(id) == "a" ? std::vector<std::string>{"one", "two", "three"} : std::vector<std::string>{"two", "three"};
    CHECK(receive_all(f, s, sink) == want);
  }
  CHECK(entries(f) == 0);
  CHECK(messages() == 1);  // the retained one
}
