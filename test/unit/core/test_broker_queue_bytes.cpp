// limits.max_queued_bytes: the payload bytes a session may hold (pending +
// in flight), next to max_queued_messages. Every scenario checks
// Session::queued_bytes against a recount (queued_bytes_consistent) at its
// steps and, through the Fixture, at its end and across restarts.
#include <catch2/catch.hpp>

#include <string>

#include "broker_fixture.h"

using namespace junction;
using namespace junction::core;
using junction::test::FakeSink;
using junction::test::Fixture;

namespace {

// A persistent session subscribed to `topic` at QoS 1, then offline.
Session* offline_subscriber(Fixture& f, const std::string& id, const std::string& topic = "t") {
  FakeSink sink;
  Session* s = f.connect(id, sink, false, 3600);
  f.broker->subscribe(s, topic, f.qos(1));
  f.broker->detach(s, DetachKind::Normal, 3600);
  return s;
}

std::string bytes(std::size_t n, char c = 'x') { return std::string(n, c); }

}  // namespace

TEST_CASE("byte cap: reached with three messages; QoS 0 dropped, QoS 1 refused", "[core][broker][limits][bytes]") {
  Fixture f;
  f.config.max_queued_bytes = 1000;
  f.restart();
  Session* s = offline_subscriber(f, "sub");
  for (char c : {'a', 'b', 'c'}) CHECK_FALSE(f.publish("t", bytes(300, c), 1).quota_exceeded);
  CHECK(s->queued_bytes() == 900);
  CHECK(s->queued() == 3);  // far below max_queued_messages

  PublishResult r = f.publish("t", bytes(300, 'd'), 1);
  CHECK(r.quota_exceeded);
  CHECK(r.matched == 0);
  f.publish("t", bytes(300, 'e'), 0);
  CHECK(f.broker->stats().refused_quota == 1);
  CHECK(f.broker->stats().dropped_qos0 == 1);
  CHECK(f.broker->stats().queue_full_bytes == 2);
  CHECK(f.broker->stats().queue_full_messages == 0);
  CHECK(s->queued_bytes() == 900);

  // What still fits goes in: exactly up to the cap.
  CHECK_FALSE(f.publish("t", bytes(100, 'f'), 1).quota_exceeded);
  CHECK(s->queued_bytes() == 1000);
  CHECK(f.publish("t", "g", 1).quota_exceeded);
  CHECK(f.queued_bytes_consistent());

  FakeSink back;
  f.connect("sub", back, false, 3600);
  REQUIRE(back.got.size() == 4);
  CHECK(back.got[0].payload == bytes(300, 'a'));
  CHECK(back.got[2].payload == bytes(300, 'c'));
  CHECK(back.got[3].payload == bytes(100, 'f'));
  for (const auto& g : back.got) CHECK(f.broker->acknowledge(s, g.packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  CHECK(s->queued_bytes() == 0);
  CHECK(s->queued_bytes_consistent());
}

TEST_CASE("byte cap: a message larger than the cap enters an empty session only", "[core][broker][limits][bytes]") {
  Fixture f;
  f.config.max_queued_bytes = 100;
  f.restart();
  Session* s = offline_subscriber(f, "sub");
  CHECK_FALSE(f.publish("t", bytes(500), 1).quota_exceeded);  // like Mosquitto: an empty queue takes it
  CHECK(s->queued_bytes() == 500);
  CHECK(f.publish("t", bytes(1), 1).quota_exceeded);
  CHECK(f.publish("t", "", 1).quota_exceeded);  // over the cap: nothing more, however small
  CHECK(s->queued() == 1);
}

TEST_CASE("byte cap: zero means no limit", "[core][broker][limits][bytes]") {
  Fixture f;
  Session* s = offline_subscriber(f, "sub");
  for (int i = 0; i < 20; ++i) CHECK_FALSE(f.publish("t", bytes(100000), 1).quota_exceeded);
  CHECK(s->queued_bytes() == 2000000);
  CHECK(f.broker->stats().queue_full_bytes == 0);
}

TEST_CASE("byte cap: in-flight bytes count and acknowledgements release them", "[core][broker][limits][bytes]") {
  Fixture f;
  f.config.max_queued_bytes = 1000;
  f.restart();
  FakeSink a;
  Session* s = f.connect("a", a, true, 0, /*receive_max=*/2);
  f.broker->subscribe(s, "q1", f.qos(1));
  f.broker->subscribe(s, "q2", f.qos(2));
  f.publish("q1", bytes(300, '1'), 1);
  f.publish("q2", bytes(300, '2'), 2);
  f.publish("q1", bytes(300, '3'), 1);
  REQUIRE(a.got.size() == 2);  // the window is full; the third waits
  CHECK(s->inflight().size() == 2);
  CHECK(s->pending().size() == 1);
  CHECK(s->queued_bytes() == 900);
  CHECK(s->queued_bytes_consistent());
  CHECK(f.publish("q1", bytes(300, '4'), 1).quota_exceeded);

  CHECK(f.broker->acknowledge(s, a.got[0].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);  // the pending one goes in flight
  REQUIRE(a.got.size() == 3);
  CHECK(s->queued_bytes() == 600);
  CHECK(s->queued_bytes_consistent());
  CHECK(f.broker->acknowledge(s, a.got[1].packet_id, Broker::AckStep::Received) == Broker::AckResult::Done);  // QoS 2 still holds its bytes until PUBCOMP
  CHECK(s->queued_bytes() == 600);
  CHECK(f.broker->acknowledge(s, a.got[1].packet_id, Broker::AckStep::Completed) == Broker::AckResult::Done);
  CHECK(s->queued_bytes() == 300);
  CHECK(f.broker->acknowledge(s, a.got[2].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  CHECK(s->queued_bytes() == 0);
  CHECK(s->queued_bytes_consistent());

  // QoS 0 sent at once to an online client is never queued or counted.
  f.broker->subscribe(s, "z", f.qos(0));
  f.publish("z", bytes(5000), 0);
  CHECK(a.got.size() == 4);
  CHECK(s->queued_bytes() == 0);
  // ... but waits (and counts) behind a slow socket's queue.
  a.open = false;
  f.publish("q1", bytes(400), 1);
  f.publish("z", bytes(500), 0);
  CHECK(s->queued_bytes() == 900);
  f.publish("z", bytes(200), 0);
  CHECK(f.broker->stats().dropped_qos0 == 1);
  a.open = true;
  f.broker->resume(s);
  CHECK(a.got.size() == 6);
  CHECK(s->queued_bytes() == 400);  // the QoS 1 one is in flight
  CHECK(s->queued_bytes_consistent());
}

TEST_CASE("byte cap: takeover and clean start", "[core][broker][limits][bytes]") {
  Fixture f;
  f.config.max_queued_bytes = 1000;
  f.restart();
  FakeSink a, b, c;
  Session* s = f.connect("same", a, false, 100, /*receive_max=*/1);
  f.broker->subscribe(s, "t", f.qos(1));
  for (int i = 0; i < 3; ++i) f.publish("t", bytes(300), 1);
  CHECK(s->queued_bytes() == 900);
  Session* s2 = f.connect("same", b, false, 100, 1);  // takeover: in flight resent, the rest waits
  REQUIRE(s2 == s);
  CHECK(a.taken_over);
  REQUIRE(b.got.size() == 1);
  CHECK(b.got[0].dup);
  CHECK(s->queued_bytes() == 900);
  CHECK(s->queued_bytes_consistent());
  CHECK(f.publish("t", bytes(300), 1).quota_exceeded);
  CHECK(f.broker->acknowledge(s, b.got[0].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  CHECK(s->queued_bytes() == 600);

  Session* s3 = f.connect("same", c, true, 100, 1);  // clean start: a new, empty session
  CHECK(s3->queued_bytes() == 0);
  f.broker->subscribe(s3, "t", f.qos(1));
  for (int i = 0; i < 3; ++i) CHECK_FALSE(f.publish("t", bytes(300), 1).quota_exceeded);
  CHECK(s3->queued_bytes() == 900);
  CHECK(s3->queued_bytes_consistent());
}

TEST_CASE("byte cap: restart restores the counter from the store", "[core][broker][limits][bytes][restore]") {
  Fixture f;
  f.config.max_queued_bytes = 1000;
  f.restart();
  FakeSink a;
  Session* s = f.connect("dev", a, false, 3600, /*receive_max=*/1);
  f.broker->subscribe(s, "t", f.qos(2));
  f.publish("t", bytes(300, 'a'), 1);  // in flight
  f.publish("t", bytes(250, 'b'), 2);  // pending
  f.broker->detach(s, DetachKind::Normal, 3600);
  f.publish("t", bytes(200, 'c'), 0);  // QoS 0: queued in memory, not stored
  CHECK(s->queued_bytes() == 750);
  f.broker->shutdown();

  f.restart();
  Session* r = f.broker->find_session("dev");
  REQUIRE(r != nullptr);
  CHECK(r->inflight().size() == 1);
  CHECK(r->pending().size() == 1);
  CHECK(r->queued_bytes() == 550);
  CHECK(r->queued_bytes_consistent());
  CHECK_FALSE(f.publish("t", bytes(450, 'd'), 1).quota_exceeded);  // 1000: exactly full
  CHECK(f.publish("t", bytes(1, 'e'), 1).quota_exceeded);

  FakeSink b;
  f.connect("dev", b, false, 3600, 65535);
  REQUIRE(b.got.size() == 3);
  CHECK(b.got[0].payload == bytes(300, 'a'));
  CHECK(b.got[2].payload == bytes(450, 'd'));
  CHECK(f.broker->acknowledge(r, b.got[0].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  CHECK(f.broker->acknowledge(r, b.got[2].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  CHECK(f.broker->acknowledge(r, b.got[1].packet_id, Broker::AckStep::Received) == Broker::AckResult::Done);
  CHECK(f.broker->acknowledge(r, b.got[1].packet_id, Broker::AckStep::Completed) == Broker::AckResult::Done);
  CHECK(r->queued_bytes() == 0);
}

TEST_CASE("byte cap: expired messages and expired sessions give their bytes back",
          "[core][broker][limits][bytes][expiry]") {
  Fixture f;
  f.config.max_queued_bytes = 1000;
  f.restart();
  Session* s = offline_subscriber(f, "x");
  MessageRef m = f.broker->make_message();
  const std::string topic = "t";
  m->topic = topic;  // (a literal here trips GCC 12's -Wrestrict false positive)
  m->payload = bytes(600, 's');
  m->qos = 1;
  m->expiry_ms = m->created_ms + 1000;
  f.broker->publish(m, nullptr);
  f.publish("t", bytes(300, 'd'), 1);
  CHECK(s->queued_bytes() == 900);
  f.clock.advance(2000);
  FakeSink b;
  f.connect("x", b, false, 3600);  // pump() drops the expired one
  REQUIRE(b.got.size() == 1);
  CHECK(b.got[0].payload == bytes(300, 'd'));
  CHECK(s->queued_bytes() == 300);
  CHECK(s->queued_bytes_consistent());

  // A whole session expiring takes its entries (and their bytes) with it.
  Fixture g;
  g.config.max_queued_bytes = 1000;
  g.restart();
  FakeSink c;
  Session* e = g.connect("e", c, false, 2);
  g.broker->subscribe(e, "t", g.qos(1));
  g.broker->detach(e, DetachKind::Normal, 2);
  g.publish("t", bytes(700), 1);
  Session* other = offline_subscriber(g, "other");
  g.publish("t", bytes(200), 1);
  CHECK(e->queued_bytes() == 900);
  g.clock.advance(3000);
  g.broker->tick();
  CHECK(g.broker->find_session("e") == nullptr);
  CHECK(other->queued_bytes() == 200);
  CHECK(g.queued_bytes_consistent());
}

TEST_CASE("byte cap: drop-oldest sessions drop until the new message fits", "[core][broker][limits][bytes]") {
  Fixture f;
  f.config.max_queued_bytes = 1000;
  f.restart();
  FakeSink a;
  Session* s = f.connect("outbox", a, false, 3600);
  s->set_queue_limit(0, /*drop_oldest=*/true);
  f.broker->subscribe(s, "t", f.qos(1));
  f.broker->detach(s, DetachKind::Normal, 3600);
  for (char c : {'a', 'b', 'c'}) f.publish("t", bytes(300, c), 1);
  CHECK_FALSE(f.publish("t", bytes(700, 'd'), 1).quota_exceeded);  // a and b go
  CHECK(s->dropped_oldest() == 2);
  CHECK(f.broker->stats().dropped_oldest == 2);
  CHECK(f.broker->stats().refused_quota == 0);
  CHECK(s->queued_bytes() == 1000);
  CHECK(s->queued_bytes_consistent());
  // Bigger than the cap: everything waiting goes and it enters the empty queue.
  CHECK_FALSE(f.publish("t", bytes(1500, 'e'), 1).quota_exceeded);
  CHECK(s->dropped_oldest() == 4);
  CHECK(s->queued_bytes() == 1500);

  // The dropped entries left the store too: after a restart only 'e' is there.
  f.broker->flush();
  std::size_t entries = 0;
  f.store.scan(store::Table::SessionEntries, [&](auto, auto) { ++entries; });
  CHECK(entries == 1);
  FakeSink b;
  f.connect("outbox", b, false, 3600);
  REQUIRE(b.got.size() == 1);
  CHECK(b.got[0].payload == bytes(1500, 'e'));
}

TEST_CASE("drop-oldest never refuses: with only in-flight entries left the new one waits anyway",
          "[core][broker][limits][bytes]") {
  // A bridge outbox with max_messages at or below its unconfirmed window:
  // everything held is sent and awaiting the upstream's confirm, so there is
  // nothing waiting to drop. The new message is queued; the outbox goes past
  // its limit by at most the in-flight window.
  Fixture f;
  f.config.max_queued_bytes = GENERATE(0, 1000);
  f.restart();
  FakeSink a;
  Session* s = f.connect("outbox", a, false, 3600, /*receive_max=*/2);
  s->set_queue_limit(2, /*drop_oldest=*/true);
  f.broker->subscribe(s, "t", f.qos(1));
  f.publish("t", bytes(400, 'a'), 1);
  f.publish("t", bytes(400, 'b'), 1);  // both in flight, nothing pending to drop
  CHECK_FALSE(f.publish("t", bytes(400, 'c'), 1).quota_exceeded);
  CHECK(s->dropped_oldest() == 0);
  CHECK(s->pending().size() == 1);
  CHECK_FALSE(f.publish("t", bytes(400, 'd'), 1).quota_exceeded);  // c was waiting: it goes
  CHECK(s->dropped_oldest() == 1);
  CHECK(s->pending().size() == 1);
  CHECK(s->pending().front().msg->payload == bytes(400, 'd'));
  CHECK(f.broker->stats().refused_quota == 0);
}

TEST_CASE("byte cap and message cap together: whichever is reached first refuses", "[core][broker][limits][bytes]") {
  Fixture f;
  f.config.max_queued_messages = 3;
  f.config.max_queued_bytes = 1000;
  f.restart();
  Session* few = offline_subscriber(f, "few", "small");
  for (int i = 0; i < 3; ++i) CHECK_FALSE(f.publish("small", bytes(10), 1).quota_exceeded);
  CHECK(f.publish("small", bytes(10), 1).quota_exceeded);  // 30 bytes, but 3 messages
  CHECK(f.broker->stats().queue_full_messages == 1);
  CHECK(f.broker->stats().queue_full_bytes == 0);
  CHECK(few->queued_bytes() == 30);

  Session* big = offline_subscriber(f, "big", "large");
  CHECK_FALSE(f.publish("large", bytes(400), 1).quota_exceeded);
  CHECK_FALSE(f.publish("large", bytes(400), 1).quota_exceeded);
  CHECK(f.publish("large", bytes(400), 1).quota_exceeded);  // 2 messages, but 1200 bytes
  CHECK(f.broker->stats().queue_full_messages == 1);
  CHECK(f.broker->stats().queue_full_bytes == 1);
  CHECK(big->queued_bytes() == 800);

  // One publish reaching both: the one that fits gets it, the other is refused.
  Session* both = offline_subscriber(f, "both", "#");
  PublishResult r = f.publish("large", bytes(400), 1);
  CHECK(r.quota_exceeded);
  CHECK(r.matched == 1);
  CHECK(both->queued_bytes() == 400);
  CHECK(f.queued_bytes_consistent());
}

TEST_CASE("byte counter: queue deliveries in flight are counted and purged on unsubscribe",
          "[core][broker][bytes][queue]") {
  Fixture f;
  FakeSink a;
  Session* s = f.connect("worker", a, true, 0, /*receive_max=*/1);
  REQUIRE(f.broker->subscribe(s, "$queue/jobs", f.qos(1)) == SubscribeStatus::Granted);
  f.publish("$queue/jobs", bytes(123), 1);
  f.publish("$queue/jobs", bytes(77), 1);
  REQUIRE(a.got.size() == 1);
  CHECK(s->queued_bytes() == 123);
  CHECK(s->queued_bytes_consistent());
  CHECK(f.broker->acknowledge(s, a.got[0].packet_id, Broker::AckStep::Done) == Broker::AckResult::Done);
  // The ack frees the window: the queue offers its next message at once,
  // not on the next tick or publish.
  REQUIRE(a.got.size() == 2);
  CHECK(s->queued_bytes() == 77);
  CHECK(f.broker->unsubscribe(s, "$queue/jobs"));  // requeued: the session forgets its copy
  CHECK(s->queued_bytes() == 0);
  CHECK(s->queued_bytes_consistent());
}

TEST_CASE("a QoS 0 copy dropped at a full queue still counts as a matching subscriber", "[core][broker][limits]") {
  // An XMPP JID's offline queue (QoS 0 subscription, owner limit) is full:
  // its copy of a QoS 1 publish is dropped, but the publisher must not be
  // told "no matching subscribers" (MQTT 5 PUBACK 0x10): one matched.
  Fixture f;
  FakeSink sink;
  Session* s = f.connect("xmpp:someone", sink, false, 3600);
  s->set_queue_limit(1, false);
  f.broker->subscribe(s, "j", f.qos(0));
  f.broker->detach(s, DetachKind::Normal, 3600);
  PublishResult first = f.publish("j", "one", 1);
  CHECK(first.matched == 1);
  PublishResult second = f.publish("j", "two", 1);  // the queue holds one: this copy is dropped
  CHECK(second.matched == 1);
  CHECK_FALSE(second.quota_exceeded);
  CHECK(f.broker->stats().queue_full_messages == 1);
  CHECK(f.broker->stats().refused_quota == 0);
}
