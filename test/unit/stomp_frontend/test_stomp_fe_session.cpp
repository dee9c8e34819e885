// STOMP front-end in-process: CONNECT / STOMP negotiation, heart-beats,
// receipts and their commit order, transactions, the ERROR paths and the
// connect timeout. The real StompConnection over a fake transport
// (stomp_kit.h); frames are split with the real parser and checked exactly.
#include <catch2/catch.hpp>

#include "stomp_kit.h"

using namespace junction;
using namespace junction::fetest;

namespace {

stomp::StompOptions beats(std::uint32_t send_ms, std::uint32_t receive_ms) {
  stomp::StompOptions o;
  o.heart_beat_send_ms = send_ms;
  o.heart_beat_receive_ms = receive_ms;
  return o;
}

}  // namespace

// ---------------------------------------------------------------- connect ----

TEST_CASE("accept-version picks the highest version both sides speak", "[stomp_fe][connect]") {
  StompWorld w;
  StompClient c(w);
  const auto [accept, want] = GENERATE(table<const char*, const char*>({
      {"1.0,1.1,1.2", "1.2"},
      {"1.1", "1.1"},
      {"1.0,1.1", "1.1"},
      {"1.2 , 1.0", "1.2"},
      {"9.9,1.1", "1.1"},
  }));
  const SFrame f = c.connect(accept, "0,0", GENERATE("CONNECT", "STOMP"));
  CHECK(f.names() == std::vector<std::string>{"version", "heart-beat", "server", "session"});
  CHECK(f.at("version") == want);
  CHECK(f.at("heart-beat") == "10000,10000");  // the listener's defaults
  CHECK(f.at("server").rfind("Junction/", 0) == 0);
  CHECK(f.at("session").rfind("stomp-", 0) == 0);
  CHECK(f.body.empty());
  CHECK(w.broker->find_session(f.at("session")) != nullptr);
  CHECK(c.sink.close_calls == 0);
}

TEST_CASE("a STOMP session id cannot be guessed from another one", "[stomp_fe][connect]") {
  // The id names the client's core session, which any protocol may take over
  // by connecting with it: a STOMP client seeing its own id must learn
  // nothing of the next one's (no shared prefix plus a counter).
  StompWorld w;
  StompClient a(w), b(w);
  const std::string ia = a.connect("1.2").at("session");
  const std::string ib = b.connect("1.2").at("session");
  REQUIRE(ia.rfind("stomp-", 0) == 0);
  REQUIRE(ib.rfind("stomp-", 0) == 0);
  CHECK(ia.size() >= 6 + 24);  // at least 96 random bits in hex
  std::size_t common = 0;
  while (common < ia.size() && common < ib.size() && ia[common] == ib[common]) ++common;
  CHECK(common < 6 + 8);  // "stomp-" and, by chance, a few hex digits
}

TEST_CASE("CONNECT without accept-version is STOMP 1.0: no version or heart-beat header", "[stomp_fe][connect]") {
  StompWorld w;
  StompClient c(w);
  const SFrame f = c.connect("");
  CHECK(f.names() == std::vector<std::string>{"server", "session"});
  CHECK(c.version() == stomp::Version::V1_0);
  // 1.0 has no NACK.
  c.send("NACK", {{"message-id", "1-1"}, {"receipt", "n"}});
  check_error(c.next(), "NACK is not part of STOMP 1.0", "n", "");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("an unsupported accept-version gets ERROR with the versions spoken, then close", "[stomp_fe][connect]") {
  StompWorld w;
  StompClient c(w);
  c.send("CONNECT", {{"accept-version", "2.0,3.1"}, {"host", "/"}});
  const SFrame f = c.next();
  check_error(f, "unsupported protocol version", "", "2.0,3.1", "version");
  CHECK(f.at("version") == "1.0,1.1,1.2");
  CHECK(c.sink.close_calls == 1);
  CHECK(w.broker->session_count() == 0);
}

TEST_CASE("a first frame other than CONNECT or STOMP: ERROR, then close", "[stomp_fe][connect]") {
  StompWorld w;
  StompClient c(w);
  c.send("SEND", {{"destination", "/queue/a"}, {"receipt", "early"}}, "x");
  check_error(c.next(), "not connected", "early", "the first frame must be CONNECT or STOMP");
  CHECK(c.sink.close_calls == 1);
  CHECK(w.ready("a") == 0);
}

TEST_CASE("a second CONNECT: ERROR already connected, then close", "[stomp_fe][connect]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("CONNECT", {{"accept-version", "1.2"}, {"host", "/"}});
  check_error(c.next(), "already connected", "", "a second CONNECT on one connection");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("no CONNECT within connect_timeout_ms: the connection is aborted", "[stomp_fe][connect][timer]") {
  stomp::StompOptions o;
  o.client.connect_timeout_ms = 3000;
  StompWorld w(o);
  StompClient c(w);
  w.clock.advance(3000);
  c.tick();
  CHECK(c.sink.abort_calls == 0);
  w.clock.advance(1);
  c.tick();
  CHECK(c.sink.abort_calls == 1);
  CHECK(c.silent());
}

// ------------------------------------------------------------- heart-beats ----

TEST_CASE("heart-beat: CONNECTED carries the server's values, the plan takes the larger", "[stomp_fe][heartbeat]") {
  StompWorld w(beats(2000, 3000));
  StompClient c(w);
  const SFrame f = c.connect("1.2", "4000,0");
  CHECK(f.at("heart-beat") == "2000,3000");
  // The client promised a beat every 4000 ms (larger than our 3000):
  // silence is tolerated for twice that.
  w.clock.advance(7000);
  c.feed("\n");  // a heart-beat from the client
  for (int i = 0; i < 8; ++i) {
    w.clock.advance(1000);
    c.tick();
  }
  CHECK(c.silent());  // no beats from us: the client wants none (cy = 0)
  CHECK(c.sink.close_calls == 0);
  w.clock.advance(1);
  c.tick();
  check_error(c.next(), "heart-beat timeout", "", "no frame or heart-beat from the client in twice the agreed interval");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("heart-beat: a silent client is closed after twice the interval", "[stomp_fe][heartbeat][timer]") {
  StompWorld w(beats(0, 1000));
  StompClient c(w);
  c.connect("1.1", "1500,0");
  w.clock.advance(3000);
  c.tick();
  CHECK(c.sink.close_calls == 0);
  w.clock.advance(1);
  c.tick();
  CHECK(c.next().at("message") == "heart-beat timeout");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("heart-beat: no timeout while the broker itself has stopped reading", "[stomp_fe][heartbeat][backpressure]") {
  StompWorld w(beats(0, 1000));
  StompClient c(w);
  c.connect("1.2", "1000,0");
  std::string burst;
  for (int i = 1; i <= 4096; ++i) burst += frame("SEND", {{"destination", "/queue/jobs"}, {"receipt", "r"}}, "x");
  c.feed(burst);
  REQUIRE(c.sink.pauses == std::vector<bool>{true});
  for (int s = 0; s < 10; ++s) {  // the store stalls; the client's beats wait unread
    w.clock.advance(1000);
    c.feed("\n");
    c.tick();
  }
  CHECK(c.sink.close_calls == 0);
  w.commit();
  c.pump();
  CHECK(c.frames().size() == 4096);  // the receipts (we send no beats: server cx = 0)
  CHECK(c.unconsumed_input() == 0);
  CHECK(c.sink.close_calls == 0);
}

TEST_CASE("heart-beat: the server beats when it has written nothing for the interval", "[stomp_fe][heartbeat]") {
  StompWorld w(beats(1000, 0));
  StompClient c(w);
  c.connect("1.2", "0,2000");  // send every max(1000, 2000) ms
  std::string seen;
  for (int i = 0; i < 6; ++i) {
    w.clock.advance(1000);
    c.tick();
    seen += c.silent() ? '.' : 'B';
    for (const SFrame& f : c.frames()) CHECK(f.raw == "\n");
  }
  // A tick's grain is one second: a beat goes out when waiting for the next
  // tick would make it late.
  CHECK(seen == ".B.B.B");
  CHECK(c.sink.close_calls == 0);
}

TEST_CASE("a malformed heart-beat header: ERROR, then close", "[stomp_fe][heartbeat][error]") {
  StompWorld w;
  StompClient c(w);
  c.send("CONNECT", {{"accept-version", "1.2"}, {"heart-beat", "soon"}, {"receipt", "hb"}});
  check_error(c.next(), "bad heart-beat header", "hb", "soon");
  CHECK(c.sink.close_calls == 1);
  CHECK(w.broker->session_count() == 0);
}

TEST_CASE("heart-beat: STOMP 1.0 has none, whatever the client sends", "[stomp_fe][heartbeat]") {
  StompWorld w(beats(1000, 1000));
  StompClient c(w);
  c.send("CONNECT", {{"heart-beat", "1000,1000"}});
  CHECK(c.next().command == "CONNECTED");
  w.clock.advance(60000);
  c.tick();
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 0);
}

// ---------------------------------------------------------------- receipts ----

TEST_CASE("a SEND to a queue is receipted only after the store commit", "[stomp_fe][receipt]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "r1"}}, "work");
  CHECK(c.silent());
  CHECK(w.ready("jobs") == 1);
  w.commit();
  CHECK(c.take_output() == receipt("r1"));
}

TEST_CASE("a SEND that wrote nothing durable is receipted at once", "[stomp_fe][receipt]") {
  StompWorld w;
  StompClient c(w);
  c.connect("1.1");
  c.send("SEND", {{"destination", "/topic/news"}, {"receipt", "t1"}}, "x");
  CHECK(c.take_output() == receipt("t1"));
}

TEST_CASE("receipts leave in frame order, behind the commit of earlier writes", "[stomp_fe][receipt]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "1"}}, "a");
  c.send("SUBSCRIBE", {{"id", "s"}, {"destination", "/topic/x"}, {"receipt", "2"}});
  c.send("SEND", {{"destination", "/topic/y"}, {"receipt", "3"}}, "b");
  CHECK(c.silent());
  w.commit();
  CHECK(c.take_output() == receipt("1") + receipt("2") + receipt("3"));
  // A later write waits for its own commit.
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "4"}}, "c");
  CHECK(c.silent());
  w.commit();
  CHECK(c.take_output() == receipt("4"));
}

TEST_CASE("DISCONNECT with a receipt: RECEIPT after the commit, then close", "[stomp_fe][receipt]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}}, "a");
  c.send("DISCONNECT", {{"receipt", "bye"}});
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 0);
  c.send("SEND", {{"destination", "/queue/jobs"}}, "ignored");  // nothing more is read
  w.commit();
  CHECK(c.take_output() == receipt("bye"));
  CHECK(c.sink.close_calls == 1);
  CHECK(w.ready("jobs") == 1);
}

// ------------------------------------------------------------ transactions ----

TEST_CASE("transaction: frames are applied at COMMIT, their receipts follow its commit", "[stomp_fe][tx]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("BEGIN", {{"transaction", "tx1"}});
  c.send("SEND", {{"destination", "/queue/jobs"}, {"transaction", "tx1"}, {"receipt", "s1"}}, "a");
  c.send("SEND", {{"destination", "/queue/jobs"}, {"transaction", "tx1"}, {"receipt", "s2"}}, "b");
  CHECK(c.silent());  // a frame in a transaction is not done before COMMIT
  CHECK(w.ready("jobs") == 0);
  w.commit();
  CHECK(c.silent());
  c.send("COMMIT", {{"transaction", "tx1"}, {"receipt", "c1"}});
  CHECK(w.ready("jobs") == 2);
  CHECK(c.silent());
  w.commit();
  CHECK(c.take_output() == receipt("s1") + receipt("s2") + receipt("c1"));
}

TEST_CASE("transaction: ABORT drops its frames and their receipts", "[stomp_fe][tx]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("BEGIN", {{"transaction", "tx2"}});
  c.send("SEND", {{"destination", "/queue/jobs"}, {"transaction", "tx2"}, {"receipt", "s1"}}, "a");
  c.send("ABORT", {{"transaction", "tx2"}, {"receipt", "a1"}});
  w.commit();
  CHECK(c.take_output() == receipt("a1"));
  CHECK(w.ready("jobs") == 0);
  // It is gone: committing it now is an error.
  c.send("COMMIT", {{"transaction", "tx2"}, {"receipt", "c2"}});
  check_error(c.next(), "unknown transaction", "c2", "tx2");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("transaction: an open transaction is dropped with its connection", "[stomp_fe][tx]") {
  StompWorld w;
  {
    StompClient c(w);
    c.connect();
    c.send("BEGIN", {{"transaction", "t"}});
    c.send("SEND", {{"destination", "/queue/jobs"}, {"transaction", "t"}}, "a");
  }
  w.commit();
  CHECK(w.ready("jobs") == 0);
}

// ------------------------------------------------------------------ errors ----

TEST_CASE("an unknown command: ERROR, then close; later input is ignored", "[stomp_fe][error]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.feed("FROB\nreceipt:9\n\n" + std::string(1, '\0'));
  // The frame never parsed: its receipt is not known.
  check_error(c.next(), "unknown command", "", "unknown command");
  CHECK(c.sink.close_calls == 1);
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "late"}}, "x");
  CHECK(c.silent());
  CHECK(w.ready("jobs") == 0);
}

TEST_CASE("SEND without destination: ERROR naming the receipt, then close", "[stomp_fe][error]") {
  StompWorld w;
  StompClient c(w);
  c.connect(GENERATE("1.0", "1.1", "1.2"));
  c.send("SEND", {{"receipt", "77"}}, "x");
  const SFrame f = c.next();
  check_error(f, "missing destination header", "77", "SEND needs a destination");
  CHECK(f.raw == "ERROR\nmessage:missing destination header\nreceipt-id:77\ncontent-type:text/plain\n"
                 "content-length:53\n\nmissing destination header: SEND needs a destination\n" +
                     std::string(1, '\0'));
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("a frame larger than max_frame_size: ERROR frame too large, then close", "[stomp_fe][error]") {
  stomp::StompOptions o;
  o.limits.max_frame_size = 512;
  StompWorld w(o);
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "big"}}, std::string(1000, 'x'));
  const SFrame f = c.next();
  REQUIRE(f.command == "ERROR");
  CHECK(f.at("message") == "frame too large");
  CHECK_FALSE(f.has("receipt-id"));  // the frame was never parsed
  CHECK(c.sink.close_calls == 1);
  CHECK(w.ready("jobs") == 0);
}

TEST_CASE("a SEND in an unknown transaction: ERROR with receipt-id, then close", "[stomp_fe][error][tx]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"transaction", "nope"}, {"receipt", "9"}}, "x");
  check_error(c.next(), "unknown transaction", "9", "nope");
  CHECK(c.sink.close_calls == 1);
  CHECK(w.ready("jobs") == 0);
}

TEST_CASE("an ERROR waits behind the receipts still owed", "[stomp_fe][error][receipt]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "r1"}}, "a");
  c.send("SEND", {{"receipt", "r2"}}, "no destination");
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 0);
  w.commit();
  const std::vector<SFrame> fs = c.frames();
  REQUIRE(fs.size() == 2);
  CHECK(fs[0].raw == receipt("r1"));
  check_error(fs[1], "missing destination header", "r2", "SEND needs a destination");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("shutdown: the ERROR follows the receipts still owed", "[stomp_fe][shutdown][receipt]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "r1"}}, "a");
  w.proto->shutdown();
  CHECK(c.silent());
  CHECK(c.sink.close_calls == 0);
  w.commit();
  const std::vector<SFrame> fs = c.frames();
  REQUIRE(fs.size() == 2);
  CHECK(fs[0].raw == receipt("r1"));
  check_error(fs[1], "server shutting down", "", "");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("shutdown: ERROR server shutting down, then close; unconnected ones just close", "[stomp_fe][shutdown]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  StompClient waiting(w);
  w.proto->shutdown();
  check_error(c.next(), "server shutting down", "", "");
  CHECK(c.sink.close_calls == 1);
  CHECK(waiting.silent());
  CHECK(waiting.sink.close_calls == 1);
}

// ------------------------------------------------------------ back-pressure ----

TEST_CASE("a failed commit turns the owed RECEIPT into ERROR store failure", "[stomp_fe][receipt][store]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  c.send("SEND", {{"destination", "/queue/jobs"}, {"receipt", "r1"}}, "a");
  c.send("SEND", {{"destination", "/topic/t"}, {"receipt", "r2"}}, "b");
  w.store.fail_next(store::StoreError::Full);
  w.commit();
  // Neither receipt: the first promised what the store did not keep, the
  // second would claim the first was done.
  check_error(c.next(), "store failure", "", "the work of a receipted frame could not be stored");
  CHECK(c.sink.close_calls == 1);
}

TEST_CASE("4096 receipts owed to the store pause reading; the commit resumes it", "[stomp_fe][receipt][backpressure]") {
  StompWorld w;
  StompClient c(w);
  c.connect();
  std::string burst, expected, last;
  for (int i = 1; i <= 4097; ++i) {
    const std::string id = std::to_string(i);
    last = frame("SEND", {{"destination", "/queue/jobs"}, {"receipt", id}}, "x");
    burst += last;
    expected += receipt(id);
  }
  c.feed(burst);
  CHECK(c.silent());
  CHECK(c.sink.pauses == std::vector<bool>{true});
  CHECK(w.ready("jobs") == 4096);  // the 4097th waits unread
  CHECK(c.unconsumed_input() == last.size());
  w.commit();
  CHECK(c.sink.pauses == std::vector<bool>{true, false});
  c.pump();  // the loop presents the held input again
  CHECK(w.ready("jobs") == 4097);
  w.commit();
  CHECK(c.take_output() == expected);
}

TEST_CASE("max_publish_rate pauses a SEND, not the other frames", "[stomp_fe][rate][timer]") {
  stomp::StompOptions o;
  o.client.max_publish_rate = 1;
  StompWorld w(o);
  StompClient c(w);
  c.connect();
  c.feed(frame("SEND", {{"destination", "/queue/jobs"}}, "1") + frame("SEND", {{"destination", "/queue/jobs"}}, "2"));
  CHECK(w.ready("jobs") == 1);
  CHECK(c.sink.pauses == std::vector<bool>{true});
  CHECK(w.proto->counters().rate_limited == 1);
  w.clock.advance(1000);
  c.tick();
  CHECK(c.sink.pauses == std::vector<bool>{true, false});
  CHECK(w.ready("jobs") == 2);
  CHECK(c.unconsumed_input() == 0);
  CHECK(c.silent());
}
