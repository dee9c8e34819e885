// STOMP front-end in-process: /queue/ subscriptions and their ack modes
// (auto, client = cumulative, client-individual), NACK with and without
// requeue, prefetch-count, ACKs inside transactions, topic MESSAGEs, and the
// delivery window (queued_bytes over outbound_limit).
#include <catch2/catch.hpp>

#include <algorithm>

#include "stomp_kit.h"

using namespace junction;
using namespace junction::fetest;

namespace {

// A producer connection that has sent `n` messages "m1".."mn" to /queue/<q>.
void produce(StompWorld& w, std::string_view queue, int n, int first = 1) {
  StompClient p(w);
  p.connect();
  const std::string dest = "/queue/" + std::string(queue);
  for (int i = first; i < first + n; ++i) p.send("SEND", {{"destination", dest}}, "m" + std::to_string(i));
  w.commit();
  REQUIRE(p.silent());
}

std::vector<std::string> bodies(const std::vector<SFrame>& fs) {
  std::vector<std::string> out;
  for (const SFrame& f : fs) out.push_back(f.body);
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("queue MESSAGE frames: exact bytes per version and ack mode", "[stomp_fe][queue]") {
  StompWorld w;
  produce(w, "jobs", 1);
  StompClient c(w);
  SECTION("1.2 client-individual carries ack") {
    c.connect("1.2");
    c.subscribe("s", "/queue/jobs", "client-individual");
    const SFrame f = c.next();
    CHECK(f.raw == "MESSAGE\nsubscription:s\ndestination:/queue/jobs\nmessage-id:1-1\nack:1-1\nqos:1\n"
                   "content-length:2\n\nm1" + std::string(1, '\0'));
  }
  SECTION("1.1 client: no ack header, message-id names it") {
    c.connect("1.1");
    c.subscribe("s", "/queue/jobs", "client");
    const SFrame f = c.next();
    CHECK(f.raw == "MESSAGE\nsubscription:s\ndestination:/queue/jobs\nmessage-id:1-1\nqos:1\n"
                   "content-length:2\n\nm1" + std::string(1, '\0'));
  }
  SECTION("1.2 auto: no ack header") {
    c.connect("1.2");
    c.subscribe("s", "/queue/jobs", "auto");
    CHECK(c.next().names() ==
          Strings{"subscription", "destination", "message-id", "qos", "content-length"});
  }
}

TEST_CASE("ack auto: the queue forgets what it sent", "[stomp_fe][queue][ack]") {
  StompWorld w;
  produce(w, "jobs", 3);
  {
    StompClient c(w);
    c.connect();
    c.subscribe("s", "/queue/jobs", "auto");
    CHECK(bodies(c.messages()) == Strings{"m1", "m2", "m3"});
    CHECK(w.unacked("jobs") == 0);
  }
  CHECK(w.ready("jobs") == 0);  // nothing came back when the consumer left
}

TEST_CASE("ack client is cumulative: one ACK covers every earlier delivery", "[stomp_fe][queue][ack]") {
  StompWorld w;
  produce(w, "jobs", 3);
  {
    StompClient c(w);
    c.connect("1.2");
    c.subscribe("s", "/queue/jobs", "client");
    const std::vector<SFrame> got = c.messages();
    REQUIRE(bodies(got) == Strings{"m1", "m2", "m3"});
    CHECK(w.unacked("jobs") == 3);
    c.send("ACK", {{"id", got[1].at("ack")}});
    CHECK(w.unacked("jobs") == 1);
    CHECK(c.silent());
  }
  // The unacknowledged one goes back to the queue, and is redelivered as such.
  CHECK(w.ready("jobs") == 1);
  StompClient next(w);
  next.connect("1.2");
  next.subscribe("t", "/queue/jobs", "client");
  const SFrame f = next.next();
  CHECK(f.body == "m3");
  CHECK(f.at("redelivered") == "true");
  CHECK(f.at("delivery-count") == "2");
}

TEST_CASE("ack client-individual acknowledges only the named delivery", "[stomp_fe][queue][ack]") {
  StompWorld w;
  produce(w, "jobs", 3);
  StompClient c(w);
  const bool v12 = GENERATE(true, false);
  c.connect(v12 ? "1.2" : "1.1");
  c.subscribe("s", "/queue/jobs", "client-individual");
  const std::vector<SFrame> got = c.messages();
  REQUIRE(got.size() == 3);
  // 1.2 names the delivery by id (the MESSAGE's ack), 1.1 by message-id.
  if (v12) {
    c.send("ACK", {{"id", got[1].at("ack")}});
  } else {
    c.send("ACK", {{"message-id", got[1].at("message-id")}, {"subscription", "s"}});
  }
  CHECK(w.unacked("jobs") == 2);
  c.transport_closed();
  CHECK(w.ready("jobs") == 2);  // m1 and m3
}

TEST_CASE("an ACK of something not outstanding is ignored", "[stomp_fe][queue][ack]") {
  StompWorld w;
  produce(w, "jobs", 1);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "client-individual");
  REQUIRE(c.messages().size() == 1);
  c.send("ACK", {{"id", "1-99"}, {"receipt", "a"}});
  c.send("ACK", {{"id", "7-1"}, {"receipt", "b"}});
  CHECK(c.take_output() == receipt("a") + receipt("b"));
  CHECK(w.unacked("jobs") == 1);
  CHECK(c.sink.close_calls == 0);
  c.send("ACK", {{"id", "garbage"}});
  check_error(c.next(), "unknown message id", "", "garbage");
}

TEST_CASE("NACK requeues: the message is redelivered with its delivery count", "[stomp_fe][queue][nack]") {
  StompWorld w;
  produce(w, "jobs", 1);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "client-individual");
  const SFrame first = c.next();
  CHECK_FALSE(first.has("redelivered"));
  c.send("NACK", {{"id", first.at("ack")}});
  const SFrame again = c.next();
  CHECK(again.body == "m1");
  CHECK(again.at("redelivered") == "true");
  CHECK(again.at("delivery-count") == "2");
  CHECK(again.at("ack") != first.at("ack"));  // a new delivery tag
  CHECK(w.unacked("jobs") == 1);
}

TEST_CASE("NACK with requeue:false moves the message to DLQ.<queue>", "[stomp_fe][queue][nack]") {
  StompWorld w;
  produce(w, "jobs", 2);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "client-individual");
  const std::vector<SFrame> got = c.messages();
  REQUIRE(got.size() == 2);
  c.send("NACK", {{"id", got[0].at("ack")}, {"requeue", "false"}});
  CHECK(c.silent());
  CHECK(w.unacked("jobs") == 1);
  CHECK(w.ready("jobs") == 0);
  CHECK(w.ready("DLQ.jobs") == 1);
  c.subscribe("d", "/queue/DLQ.jobs", "auto");
  const SFrame dead = c.next();
  CHECK(dead.body == "m1");
  CHECK(dead.at("subscription") == "d");
  CHECK(dead.at("destination") == "/queue/DLQ.jobs");
}

TEST_CASE("prefetch-count bounds the unacknowledged deliveries", "[stomp_fe][queue][prefetch]") {
  StompWorld w;
  produce(w, "jobs", 5);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "client-individual", "2");
  std::vector<SFrame> got = c.messages();
  REQUIRE(bodies(got) == Strings{"m1", "m2"});
  CHECK(w.ready("jobs") == 3);
  c.send("ACK", {{"id", got[1].at("ack")}});
  got = c.messages();
  REQUIRE(bodies(got) == Strings{"m3"});
  c.send("ACK", {{"id", got[0].at("ack")}});
  CHECK(bodies(c.messages()) == Strings{"m4"});
  CHECK(w.ready("jobs") == 1);
}

TEST_CASE("default_prefetch applies without prefetch-count; auto mode is never bounded", "[stomp_fe][queue][prefetch]") {
  stomp::StompOptions o;
  o.default_prefetch = 3;
  StompWorld w(o);
  produce(w, "jobs", 5);
  produce(w, "fast", 5);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "client");
  CHECK(c.messages().size() == 3);
  c.subscribe("t", "/queue/fast", "auto");
  CHECK(c.messages().size() == 5);
}

TEST_CASE("an invalid prefetch-count or ack mode: ERROR, then close", "[stomp_fe][queue][error]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  SECTION("prefetch-count") {
    c.send("SUBSCRIBE", {{"id", "s"}, {"destination", "/queue/q"}, {"prefetch-count", "lots"}, {"receipt", "p"}});
    check_error(c.next(), "invalid prefetch-count", "p", "lots");
  }
  SECTION("ack") {
    c.send("SUBSCRIBE", {{"id", "s"}, {"destination", "/queue/q"}, {"ack", "sometimes"}});
    check_error(c.next(), "invalid ack mode (auto, client or client-individual)", "", "sometimes");
  }
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("an ACK inside a transaction takes effect at COMMIT", "[stomp_fe][queue][tx]") {
  StompWorld w;
  produce(w, "jobs", 2);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "client-individual");
  const std::vector<SFrame> got = c.messages();
  REQUIRE(got.size() == 2);
  c.send("BEGIN", {{"transaction", "t"}});
  c.send("ACK", {{"id", got[0].at("ack")}, {"transaction", "t"}});
  c.send("ACK", {{"id", got[1].at("ack")}, {"transaction", "t"}});
  CHECK(w.unacked("jobs") == 2);
  SECTION("COMMIT applies them") {
    c.send("COMMIT", {{"transaction", "t"}, {"receipt", "c"}});
    CHECK(w.unacked("jobs") == 0);
    w.commit();
    CHECK(c.take_output() == receipt("c"));
  }
  SECTION("ABORT drops them") {
    c.send("ABORT", {{"transaction", "t"}});
    CHECK(w.unacked("jobs") == 2);
    CHECK(c.silent());
  }
}

TEST_CASE("topic MESSAGE: one per matching STOMP subscription, with destination and content-type", "[stomp_fe][topic]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.subscribe("a", "/topic/news/+", "auto");
  c.subscribe("b", "/topic/news/#", "auto");
  StompClient p(w);
  p.connect();
  p.send("SEND", {{"destination", "/topic/news/today"}, {"content-type", "text/plain"}}, "hello");
  const std::vector<SFrame> got = c.messages();
  REQUIRE(got.size() == 2);
  Strings subs;
  for (const SFrame& f : got) {
    subs.push_back(f.at("subscription"));
    CHECK(f.at("destination") == "/topic/news/today");
    CHECK(f.at("content-type") == "text/plain");
    CHECK(f.body == "hello");
  }
  std::sort(subs.begin(), subs.end());
  CHECK(subs == Strings{"a", "b"});
  c.send("UNSUBSCRIBE", {{"id", "a"}});
  p.send("SEND", {{"destination", "/topic/news/today"}}, "again");
  const std::vector<SFrame> after = c.messages();
  REQUIRE(after.size() == 1);
  CHECK(after[0].at("subscription") == "b");
}

TEST_CASE("the delivery window: nothing is sent past outbound_limit until drained", "[stomp_fe][queue][window]") {
  stomp::StompOptions o;
  o.client.outbound_limit = 1000;
  StompWorld w(o);
  StompClient c(w);
  c.connect();
  c.subscribe("s", "/queue/jobs", "auto");
  c.sink.queued = 1000;  // the transport has not sent what it has
  produce(w, "jobs", 3);
  CHECK(c.silent());
  CHECK(w.ready("jobs") == 3);
  c.sink.queued = 0;
  c.drained();
  CHECK(bodies(c.messages()) == Strings{"m1", "m2", "m3"});
}
