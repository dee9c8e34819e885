// The admin API: queue endpoints (list, peek, purge, move, delete).
#include "admin_fixture.h"

using namespace admin_test;

// ---------------------------------------------------------------- queues

TEST_CASE("admin: queue fields", "[admin][queues]") {
  Fixture f;
  f.publish("$queue/q", "12345");
  f.clock.advance(2500);
  f.publish("$queue/q", "abc");
  f.clock.advance(500);

  auto r = f.get("/api/v1/queues");
  REQUIRE(r.status == 200);
  json items = body_of(r)["items"];
  REQUIRE(items.size() == 1);
  const json& q = items[0];
  CHECK(q["name"] == "q");
  CHECK(q["messages"] == 2);
  CHECK(q["bytes"] == 8);
  CHECK(q["consumers"] == 0);
  CHECK(q["unacked"] == 0);
  CHECK(q["oldest_age_ms"] == 3000);
  CHECK(q["dead_letter"] == "DLQ.q");
  CHECK(q["in_memory"].is_number());
  CHECK(q["on_disk"].is_number());
  CHECK(body_of(f.get("/api/v1/queues/q")) == q);

  // A consumer with one message unacknowledged.
  Consumer c;
  QueueSubscription* sub = f.broker->queues().subscribe("q", &c, AckMode::Individual, 1);
  f.commit();
  REQUIRE(c.got == std::vector<std::string>{"12345"});
  json one = body_of(f.get("/api/v1/queues/q"));
  CHECK(one["messages"] == 1);
  CHECK(one["unacked"] == 1);
  CHECK(one["consumers"] == 1);
  CHECK(one["oldest_age_ms"] == 500);  // "abc" is the oldest ready one now
  // A dead-letter queue has no dead-letter queue of its own.
  f.publish("$queue/DLQ.q", "dead");
  CHECK(body_of(f.get("/api/v1/queues/DLQ.q"))["dead_letter"].is_null());
  f.broker->queues().unsubscribe(sub);
}

TEST_CASE("admin: peek shows ready messages without consuming them", "[admin][queues]") {
  Fixture f;
  f.publish("$queue/q", "m0");
  f.publish("$queue/q", std::string("\xff\x00\x01", 3));
  f.publish("$queue/q", "m2");

  auto r = f.get("/api/v1/queues/q/messages?limit=2");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  CHECK(j["total"] == 3);
  REQUIRE(j["items"].size() == 2);
  CHECK(j["items"][0]["payload"] == "m0");
  CHECK_FALSE(j["items"][0].contains("payload_base64"));
  CHECK(j["items"][0]["payload_size"] == 2);
  CHECK(j["items"][0]["delivery_count"] == 0);
  CHECK(j["items"][0]["created_at"] == "2023-11-14T22:13:20.000Z");
  CHECK(j["items"][1]["payload_base64"] == "/wAB");
  CHECK_FALSE(j["items"][1].contains("payload"));
  CHECK(j["items"][1]["payload_size"] == 3);
  // Default limit: everything here; twice in a row gives the same answer.
  CHECK(body_of(f.get("/api/v1/queues/q/messages"))["items"].size() == 3);
  CHECK(body_of(f.get("/api/v1/queues/q/messages"))["items"].size() == 3);
  CHECK(f.get("/api/v1/queues/q/messages?limit=abc").status == 400);
  CHECK(f.get("/api/v1/queues/none/messages").status == 404);

  // Nothing was consumed: the queue still holds 3, a consumer gets all of them in order.
  CHECK(body_of(f.get("/api/v1/queues/q"))["messages"] == 3);
  Consumer c;
  QueueSubscription* sub = f.broker->queues().subscribe("q", &c, AckMode::Auto, 10);
  f.commit();
  CHECK(c.got == std::vector<std::string>{"m0", std::string("\xff\x00\x01", 3), "m2"});
  f.broker->queues().unsubscribe(sub);
}

TEST_CASE("admin: purge empties a queue durably and says how many", "[admin][queues]") {
  Fixture f;
  for (int i = 0; i < 40; ++i) f.publish("$queue/q", "m" + std::to_string(i));  // past the idle window: some on disk
  f.publish("$queue/keep", "k");
  REQUIRE(f.stored_queue_entries() == 41);

  auto r = f.del("/api/v1/queues/q/messages");
  REQUIRE(r.status == 200);
  CHECK(body_of(r) == json{{"purged", 40}});
  CHECK(r.commit_ticket > 0);
  CHECK_FALSE(f.broker->persistence().committed(r.commit_ticket));  // waits for this batch
  f.commit();
  CHECK(f.broker->persistence().committed(r.commit_ticket));
  CHECK(f.stored_queue_entries() == 1);  // only "keep"'s

  json q = body_of(f.get("/api/v1/queues/q"));
  CHECK(q["messages"] == 0);
  CHECK(q["bytes"] == 0);
  CHECK(body_of(f.get("/api/v1/queues/q/messages"))["items"].empty());
  CHECK(body_of(f.get("/api/v1/queues/keep"))["messages"] == 1);
  // Again: nothing left.
  CHECK(body_of(f.del("/api/v1/queues/q/messages")) == json{{"purged", 0}});
  CHECK(f.del("/api/v1/queues/none/messages").status == 404);
}

TEST_CASE("admin: move replays ready messages into another queue, oldest first", "[admin][queues]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.publish("$queue/DLQ.orders", "m" + std::to_string(i));

  auto r = f.post("/api/v1/queues/DLQ.orders/move", json{{"to", "orders"}, {"limit", 2}});
  REQUIRE(r.status == 200);
  json j = body_of(r);
  CHECK(j["moved"] == 2);
  CHECK(j["to"] == "orders");
  CHECK(r.commit_ticket > 0);
  f.commit();
  CHECK(body_of(f.get("/api/v1/queues/DLQ.orders"))["messages"] == 3);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 2);
  json moved = body_of(f.get("/api/v1/queues/orders/messages"))["items"];
  REQUIRE(moved.size() == 2);
  CHECK(moved[0]["payload"] == "m0");
  CHECK(moved[1]["payload"] == "m1");

  // "$queue/" in front of the target is accepted; no limit: all the rest.
  r = f.post("/api/v1/queues/DLQ.orders/move", json{{"to", "$queue/orders"}});
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["moved"] == 3);
  CHECK(body_of(r)["to"] == "orders");
  f.commit();
  CHECK(body_of(f.get("/api/v1/queues/DLQ.orders"))["messages"] == 0);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 5);
  CHECK(f.stored_queue_entries() == 5);

  // limit 0 moves nothing.
  r = f.post("/api/v1/queues/orders/move", json{{"to", "elsewhere"}, {"limit", 0}});
  CHECK(r.status == 200);
  CHECK(body_of(r)["moved"] == 0);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 5);

  // Refusals.
  CHECK(f.post("/api/v1/queues/orders/move", json::object()).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", 5}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "orders"}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "x"}, {"limit", -1}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "x"}, {"limit", "2"}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", "a+b"}}).status == 400);
  CHECK(f.post("/api/v1/queues/orders/move", json{{"to", ""}}).status == 400);
  CHECK(f.post("/api/v1/queues/none/move", json{{"to", "x"}}).status == 404);
  CHECK(body_of(f.get("/api/v1/queues/orders"))["messages"] == 5);
}

TEST_CASE("admin: deleting a queue", "[admin][queues]") {
  Fixture f;
  f.publish("$queue/full", "m0");
  f.publish("$queue/full", "m1");

  auto r = f.del("/api/v1/queues/full");
  CHECK(r.status == 409);
  CHECK(body_of(r)["error"].get<std::string>().find("force") != std::string::npos);
  CHECK(body_of(f.get("/api/v1/queues/full"))["messages"] == 2);
  CHECK(f.del("/api/v1/queues/full?force=false").status == 409);

  r = f.del("/api/v1/queues/full?force=true");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["deleted"] == true);
  CHECK(body_of(r)["name"] == "full");
  CHECK(r.commit_ticket > 0);
  f.commit();
  CHECK(f.get("/api/v1/queues/full").status == 404);
  CHECK(f.stored_queue_entries() == 0);
  CHECK(f.del("/api/v1/queues/full").status == 404);

  // An empty one goes without force.
  f.publish("$queue/empty", "x");
  f.del("/api/v1/queues/empty/messages");
  f.commit();
  CHECK(f.del("/api/v1/queues/empty").status == 200);
  CHECK(f.get("/api/v1/queues/empty").status == 404);

  // One with a consumer never, not even with force.
  Consumer c;
  QueueSubscription* sub = f.broker->queues().subscribe("busy", &c, AckMode::Auto, 10);
  r = f.del("/api/v1/queues/busy?force=1");
  CHECK(r.status == 409);
  CHECK(body_of(r)["error"].get<std::string>().find("consumers") != std::string::npos);
  CHECK(f.get("/api/v1/queues/busy").status == 200);
  f.broker->queues().unsubscribe(sub);
  CHECK(f.del("/api/v1/queues/busy").status == 200);
}
