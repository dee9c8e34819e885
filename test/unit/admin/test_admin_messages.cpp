// The admin API: retained messages, publish, the broker and clients views, /metrics.
#include "admin_fixture.h"

using namespace admin_test;

// ---------------------------------------------------------------- retained

TEST_CASE("admin: retained messages: list, read, delete", "[admin][retained]") {
  Fixture f;
  f.publish("r/b/c", std::string("\x80\x81", 2), 1, true);
  f.publish("r/a", "hello", 0, true);
  f.publish("other/x", "o", 1, true);
  f.publish("r/not-retained", "n", 1, false);
  REQUIRE(f.broker->retained().size() == 3);

  auto r = f.get("/api/v1/retained");
  REQUIRE(r.status == 200);
  json j = body_of(r);
  CHECK(j["total"] == 3);
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"other/x", "r/a", "r/b/c"});
  j = body_of(f.get("/api/v1/retained?filter=r/%23"));
  CHECK(j["total"] == 2);
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"r/a", "r/b/c"});
  CHECK(j["items"][0]["qos"] == 0);
  CHECK(j["items"][0]["payload_size"] == 5);
  CHECK_FALSE(j["items"][0].contains("payload"));  // the list has no bodies
  j = body_of(f.get("/api/v1/retained?filter=r/%2B"));
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"r/a"});
  j = body_of(f.get("/api/v1/retained?filter=r/%23&sort=-topic"));
  CHECK(names_of(j["items"], "topic") == std::vector<std::string>{"r/b/c", "r/a"});
  CHECK(f.get("/api/v1/retained?filter=a/%23/b").status == 400);

  // One: text as "payload", other bytes as "payload_base64".
  r = f.get("/api/v1/retained/r/a");
  REQUIRE(r.status == 200);
  j = body_of(r);
  CHECK(j["topic"] == "r/a");
  CHECK(j["payload"] == "hello");
  CHECK_FALSE(j.contains("payload_base64"));
  CHECK(j["properties"].is_object());
  r = f.get("/api/v1/retained/r/b/c");
  REQUIRE(r.status == 200);
  j = body_of(r);
  CHECK(j["topic"] == "r/b/c");
  CHECK(j["payload_base64"] == "gIE=");
  CHECK_FALSE(j.contains("payload"));
  CHECK(j["qos"] == 1);
  // The topic may come percent-encoded.
  CHECK(body_of(f.get("/api/v1/retained/r%2Fa"))["payload"] == "hello");
  CHECK(f.get("/api/v1/retained/r/none").status == 404);
  CHECK(f.get("/api/v1/retained/r/not-retained").status == 404);
  CHECK(f.get("/api/v1/retained/r/%23").status == 400);  // a filter is not a topic

  // Delete, then it is gone (and durably: the answer waits for the commit).
  r = f.del("/api/v1/retained/r/a");
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["deleted"] == true);
  CHECK(body_of(r)["topic"] == "r/a");
  CHECK(r.commit_ticket > 0);
  f.commit();
  CHECK(f.get("/api/v1/retained/r/a").status == 404);
  CHECK(!f.broker->retained().find("r/a"));
  CHECK(f.del("/api/v1/retained/r/a").status == 404);
  CHECK(body_of(f.get("/api/v1/retained"))["total"] == 2);
  // A subscriber arriving now gets no retained copy of it.
  Sink s;
  Session* sess = f.connect("late", s);
  f.broker->subscribe(sess, "r/#", SubscriptionOptions{});
  f.commit();
  CHECK(s.got == std::vector<std::string>{std::string("\x80\x81", 2)});
}

TEST_CASE("admin: $SYS retained messages cannot be deleted", "[admin][retained]") {
  Fixture f;
  MessageRef m = f.broker->make_message();
  m->topic = "$SYS/broker/version";
  m->payload = "junction";
  m->retain = true;
  f.broker->publish_volatile(m);
  f.commit();
  REQUIRE(f.broker->retained().find("$SYS/broker/version"));

  auto r = f.del("/api/v1/retained/$SYS/broker/version");
  CHECK(r.status == 403);
  CHECK(r.commit_ticket == 0);
  CHECK(f.broker->retained().find("$SYS/broker/version"));
  CHECK(f.del("/api/v1/retained/%24SYS/broker/version").status == 403);
  CHECK(f.del("/api/v1/retained/$SYS/broker/none").status == 403);
  // Reading one is fine.
  auto g = f.get("/api/v1/retained/$SYS/broker/version");
  REQUIRE(g.status == 200);
  CHECK(body_of(g)["payload"] == "junction");
}

// ---------------------------------------------------------------- publish

TEST_CASE("admin: publish", "[admin][publish]") {
  Fixture f;
  Sink s;
  Session* sess = f.connect("sub", s);
  SubscriptionOptions o;
  o.qos = 1;
  REQUIRE(f.broker->subscribe(sess, "t/#", o) == SubscribeStatus::Granted);
  f.commit();

  SECTION("QoS 1: answered once committed") {
    auto r = f.post("/api/v1/publish", json{{"topic", "t/1"}, {"payload", "one"}, {"qos", 1}});
    REQUIRE(r.status == 200);
    json j = body_of(r);
    CHECK(j["published"] == true);
    CHECK(j["matched"] == 1);
    CHECK(j["duplicate"] == false);
    CHECK(r.commit_ticket > 0);
    CHECK(r.commit_ticket == f.broker->persistence().ticket());
    CHECK_FALSE(f.broker->persistence().committed(r.commit_ticket));
    f.commit();
    CHECK(f.broker->persistence().committed(r.commit_ticket));
    CHECK(s.got == std::vector<std::string>{"one"});
    CHECK(f.broker->stats().messages_in == 1);
  }
  SECTION("QoS 0: answered at once") {
    auto r = f.post("/api/v1/publish", json{{"topic", "t/0"}, {"payload", "zero"}});
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["matched"] == 1);
    CHECK(r.commit_ticket == 0);
    f.commit();
    CHECK(s.got == std::vector<std::string>{"zero"});
    r = f.post("/api/v1/publish", json{{"topic", "nobody/listens"}, {"payload", "z"}, {"qos", 0}});
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["matched"] == 0);
    CHECK(r.commit_ticket == 0);
  }
  SECTION("retained QoS 0 waits for the commit and is kept") {
    auto r = f.post("/api/v1/publish", json{{"topic", "t/r"}, {"payload", "kept"}, {"retain", true}});
    REQUIRE(r.status == 200);
    CHECK(r.commit_ticket > 0);
    f.commit();
    MessageRef m = f.broker->retained().find("t/r");
    REQUIRE(m);
    CHECK(m->payload == "kept");
  }
  SECTION("payload_base64 and properties") {
    auto r = f.post("/api/v1/publish",
                    json{{"topic", "$queue/pq"},
                         {"payload_base64", "/wAB"},  // ff 00 01: not UTF-8
                         {"qos", 1},
                         {"properties",
                          {{"content_type", "application/octet-stream"}, {"user_properties", {{"k", "v"}}}}}});
    REQUIRE(r.status == 200);
    f.commit();
    json items = body_of(f.get("/api/v1/queues/pq/messages"))["items"];
    REQUIRE(items.size() == 1);
    CHECK(items[0]["payload_base64"] == "/wAB");
    CHECK(items[0]["payload_size"] == 3);
    CHECK(items[0]["headers"]["content-type"] == "application/octet-stream");
    CHECK(items[0]["headers"]["k"] == "v");
  }
  SECTION("refusals publish nothing") {
    struct Case {
      json body;
      int status;
    };
    for (const Case& c : {Case{json{{"topic", "a/+/b"}, {"payload", "x"}}, 400},
                          Case{json{{"topic", "a/#"}}, 400},
                          Case{json{{"topic", ""}}, 400},
                          Case{json{{"payload", "no topic"}}, 400},
                          Case{json{{"topic", 7}}, 400},
                          Case{json::array({1, 2}), 400},
                          Case{json{{"topic", "t/x"}, {"qos", 3}}, 400},
                          Case{json{{"topic", "t/x"}, {"qos", "1"}}, 400},
                          Case{json{{"topic", "t/x"}, {"retain", "yes"}}, 400},
                          Case{json{{"topic", "t/x"}, {"payload", 5}}, 400},
                          Case{json{{"topic", "t/x"}, {"payload_base64", "!!!"}}, 400},
                          Case{json{{"topic", "t/x"}, {"properties", {{"bogus", 1}}}}, 400},
                          Case{json{{"topic", "$SYS/broker/x"}, {"payload", "x"}}, 403}}) {
      INFO(c.body.dump());
      auto r = f.post("/api/v1/publish", c.body);
      CHECK(r.status == c.status);
      CHECK(r.commit_ticket == 0);
    }
    f.commit();
    CHECK(s.got.empty());
    CHECK(f.broker->stats().messages_in == 0);
  }
}

// ---------------------------------------------------------------- broker, clients, metrics

TEST_CASE("admin: broker and clients reflect the core", "[admin][broker]") {
  Fixture f;
  Sink a, b;
  Session* sa = f.connect("dev-1", a, kMqtt);
  f.connect("web-1", b, kStomp);
  f.broker->subscribe(sa, "x/#", SubscriptionOptions{});
  f.publish("x/1", "p", 0, false, sa);
  f.publish("x/2", "p", 0, false, sa);

  json j = body_of(f.get("/api/v1/broker"));
  CHECK(j["version"] == "9.8.7");
  CHECK(j["node_id"] == "node-under-test");
  CHECK(j["counters"]["messages_received"] == 2);
  CHECK(j["counters"]["messages_delivered"] == 2);
  CHECK(j["counters"]["connections"] == 2);
  CHECK(j["counters"]["subscriptions"] == 1);
  REQUIRE(j["listeners"].size() == 1);
  CHECK(j["listeners"][0]["connections"] == 2);

  j = body_of(f.get("/api/v1/clients?sort=client_id"));
  CHECK(j["total"] == 2);
  CHECK(names_of(j["items"], "client_id") == std::vector<std::string>{"dev-1", "web-1"});
  CHECK(j["items"][0]["protocol"] == "mqtt");
  CHECK(j["items"][1]["protocol"] == "stomp");
  j = body_of(f.get("/api/v1/clients/dev-1"));
  CHECK(j["subscription_list"] == json::array({json{{"filter", "x/#"}, {"qos", 0}}}));
  CHECK(f.get("/api/v1/clients/nobody").status == 404);
}

TEST_CASE("admin: /metrics is Prometheus text of the core's counters", "[admin][metrics]") {
  Fixture f;
  Sink a, b;
  Session* sa = f.connect("m-1", a, kMqtt);
  Session* sb = f.connect("s-1", b, kStomp);
  for (int i = 0; i < 3; ++i) f.publish("t/m", "x", 0, false, sa);
  f.publish("t/s", "x", 0, false, sb);
  f.publish("$queue/work", "1", 1, false, sb);
  f.publish("$queue/work", "2", 1, false, sb);
  f.post("/api/v1/publish", json{{"topic", "t/admin"}});

  auto r = f.get("/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& t = r.body;
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(t.find("\n" + line + "\n") != std::string::npos);
  };
  has("junction_messages_received_total{protocol=\"mqtt\"} 3");
  has("junction_messages_received_total{protocol=\"stomp\"} 3");
  has("junction_messages_received_total{protocol=\"internal\"} 1");
  has("junction_connections{protocol=\"http\",listener=\"http/tcp 127.0.0.1:8081\"} 2");
  has("junction_sessions_connected{protocol=\"mqtt\"} 1");
  has("junction_queue_messages{queue=\"work\"} 2");
  has("junction_queues 1");
  has("# TYPE junction_messages_received_total counter");
  CHECK(t.rfind("# HELP junction_build_info", 0) == 0);
  has("junction_build_info{version=\"9.8.7\",node_id=\"node-under-test\"} 1");
  CHECK(t.back() == '\n');
  CHECK(f.admin->metrics_text().find("junction_queue_messages{queue=\"work\"} 2") != std::string::npos);
}
