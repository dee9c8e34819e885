// Golden frames written by hand from the STOMP 1.0 / 1.1 / 1.2 specification
// examples (not produced by our encoder). Each is fed whole, byte by byte and
// cut at every offset; every way must give the same single frame.
#include <catch2/catch.hpp>

#include "stomp_testkit.h"

using namespace stomp_testkit;
using namespace std::string_view_literals;

namespace {

struct Golden {
  const char* name;
  std::string_view wire;
  Version version;
  Command command;
  HeaderList headers;
  std::string body;
};

// The 1.2 ERROR example ("ERROR" section), content-length 170 as printed.
constexpr std::string_view kErrorBody =
    "The message:\n"
    "-----\n"
    "MESSAGE\n"
    "destined:/queue/a\n"
    "receipt:message-12345\n"
    "\n"
    "Hello queue a!\n"
    "-----\n"
    "Did not contain a destination header, which is REQUIRED\n"
    "for message propagation.\n";

const std::string kErrorWire = "ERROR\n"
                               "receipt-id:message-12345\n"
                               "content-type:text/plain\n"
                               "content-length:170\n"
                               "message:malformed frame received\n"
                               "\n"s +
                               std::string(kErrorBody) + "\0"s;

const std::vector<Golden>& goldens() {
  static const std::vector<Golden> g = {
      // 1.2 "CONNECT or STOMP Frame"
      {"CONNECT 1.2", "CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\0"sv, Version::V1_0, Command::Connect,
       {{"accept-version", "1.2"}, {"host", "stomp.github.org"}}, ""},
      {"STOMP 1.2", "STOMP\naccept-version:1.2\nhost:stomp.github.org\n\n\0"sv, Version::V1_0, Command::Stomp,
       {{"accept-version", "1.2"}, {"host", "stomp.github.org"}}, ""},
      // 1.2 "Protocol Negotiation"
      {"CONNECT negotiation", "CONNECT\naccept-version:1.0,1.1,2.0\nhost:stomp.github.org\n\n\0"sv, Version::V1_0,
       Command::Connect, {{"accept-version", "1.0,1.1,2.0"}, {"host", "stomp.github.org"}}, ""},
      {"ERROR negotiation",
       "ERROR\nversion:1.2,2.1\ncontent-type:text/plain\n\nSupported protocol versions are 1.2 2.1\0"sv,
       Version::V1_2, Command::Error, {{"version", "1.2,2.1"}, {"content-type", "text/plain"}},
       "Supported protocol versions are 1.2 2.1"},
      // 1.2 "CONNECTED Frame"
      {"CONNECTED", "CONNECTED\nversion:1.2\n\n\0"sv, Version::V1_0, Command::Connected, {{"version", "1.2"}}, ""},
      // 1.2 "Heart-beating"
      {"CONNECT heart-beat", "CONNECT\naccept-version:1.2\nhost:stomp.github.org\nheart-beat:0,1000\n\n\0"sv,
       Version::V1_0, Command::Connect,
       {{"accept-version", "1.2"}, {"host", "stomp.github.org"}, {"heart-beat", "0,1000"}}, ""},
      // 1.2 "SEND"
      {"SEND", "SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0"sv, Version::V1_2,
       Command::Send, {{"destination", "/queue/a"}, {"content-type", "text/plain"}}, "hello queue a"},
      // 1.2 "Header receipt"
      {"SEND receipt", "SEND\ndestination:/queue/a\nreceipt:message-12345\n\nhello queue a\0"sv, Version::V1_2,
       Command::Send, {{"destination", "/queue/a"}, {"receipt", "message-12345"}}, "hello queue a"},
      // 1.2 "SUBSCRIBE"
      {"SUBSCRIBE", "SUBSCRIBE\nid:0\ndestination:/queue/foo\nack:client\n\n\0"sv, Version::V1_2,
       Command::Subscribe, {{"id", "0"}, {"destination", "/queue/foo"}, {"ack", "client"}}, ""},
      // 1.2 "UNSUBSCRIBE"
      {"UNSUBSCRIBE", "UNSUBSCRIBE\nid:0\n\n\0"sv, Version::V1_2, Command::Unsubscribe, {{"id", "0"}}, ""},
      // 1.2 "ACK" / "NACK"
      {"ACK", "ACK\nid:12345\ntransaction:tx1\n\n\0"sv, Version::V1_2, Command::Ack,
       {{"id", "12345"}, {"transaction", "tx1"}}, ""},
      {"NACK", "NACK\nid:12345\ntransaction:tx1\n\n\0"sv, Version::V1_2, Command::Nack,
       {{"id", "12345"}, {"transaction", "tx1"}}, ""},
      // 1.2 "BEGIN" / "COMMIT" / "ABORT"
      {"BEGIN", "BEGIN\ntransaction:tx1\n\n\0"sv, Version::V1_2, Command::Begin, {{"transaction", "tx1"}}, ""},
      {"COMMIT", "COMMIT\ntransaction:tx1\n\n\0"sv, Version::V1_2, Command::Commit, {{"transaction", "tx1"}}, ""},
      {"ABORT", "ABORT\ntransaction:tx1\n\n\0"sv, Version::V1_2, Command::Abort, {{"transaction", "tx1"}}, ""},
      // 1.2 "DISCONNECT" / "RECEIPT"
      {"DISCONNECT", "DISCONNECT\nreceipt:77\n\n\0"sv, Version::V1_2, Command::Disconnect, {{"receipt", "77"}}, ""},
      {"RECEIPT", "RECEIPT\nreceipt-id:77\n\n\0"sv, Version::V1_2, Command::Receipt, {{"receipt-id", "77"}}, ""},
      // 1.2 "MESSAGE"
      {"MESSAGE",
       "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0"sv,
       Version::V1_2, Command::Message,
       {{"subscription", "0"}, {"message-id", "007"}, {"destination", "/queue/a"}, {"content-type", "text/plain"}},
       "hello queue a"},
      // 1.2 "Repeated Header Entries": all kept, the first one counts.
      {"MESSAGE repeated", "MESSAGE\nfoo:World\nfoo:Hello\n\n\0"sv, Version::V1_2, Command::Message,
       {{"foo", "World"}, {"foo", "Hello"}}, ""},
      // 1.2 "ERROR", with a content-length body.
      {"ERROR", kErrorWire, Version::V1_2, Command::Error,
       {{"receipt-id", "message-12345"},
        {"content-type", "text/plain"},
        {"content-length", "170"},
        {"message", "malformed frame received"}},
       std::string(kErrorBody)},
      // 1.0 spec: "Connecting" and "SEND" (values are opaque; no escaping).
      {"CONNECT 1.0", "CONNECT\nlogin:<username>\npasscode:<passcode>\n\n\0"sv, Version::V1_0, Command::Connect,
       {{"login", "<username>"}, {"passcode", "<passcode>"}}, ""},
      {"SEND 1.0", "SEND\ndestination:/queue/a\n\nhello queue a\n\0"sv, Version::V1_0, Command::Send,
       {{"destination", "/queue/a"}}, "hello queue a\n"},
      // 1.0: a backslash is data and a raw colon stays in the value.
      {"SEND 1.0 raw", "SEND\ndestination:/queue/a\\b\nx:a:b\\c\n\n\0"sv, Version::V1_0, Command::Send,
       {{"destination", "/queue/a\\b"}, {"x", "a:b\\c"}}, ""},
      // 1.2: frame lines ending in CR LF.
      {"SEND CRLF", "SEND\r\ndestination:/queue/a\r\ncontent-type:text/plain\r\n\r\nhello\r\n\0"sv, Version::V1_2,
       Command::Send, {{"destination", "/queue/a"}, {"content-type", "text/plain"}}, "hello\r\n"},
      // 1.2 "Value Encoding": every escape, in a name and in a value.
      {"MESSAGE escapes", "MESSAGE\ndestination:/topic/a\nkey\\cname:one\\ntwo\\rthree\\\\four\\cfive\n\n\0"sv,
       Version::V1_2, Command::Message, {{"destination", "/topic/a"}, {"key:name", "one\ntwo\rthree\\four:five"}},
       ""},
      // 1.1 escapes (no \r).
      {"SEND 1.1 escapes", "SEND\ndestination:/queue/a\nj:{\\c}\\n\\\\\n\n\0"sv, Version::V1_1, Command::Send,
       {{"destination", "/queue/a"}, {"j", "{:}\n\\"}}, ""},
      // "content-length ... this number of octets MUST be read, regardless of
      // whether or not there are NULL octets in the body."
      {"SEND binary", "SEND\ndestination:/queue/a\ncontent-length:5\n\na\0b\0c\0"sv, Version::V1_2, Command::Send,
       {{"destination", "/queue/a"}, {"content-length", "5"}}, "a\0b\0c"s},
      // Empty header values are legal (header-value = *<...>).
      {"SEND empty value", "SEND\ndestination:/queue/a\nempty:\n\n\0"sv, Version::V1_2, Command::Send,
       {{"destination", "/queue/a"}, {"empty", ""}}, ""},
  };
  return g;
}

}  // namespace

TEST_CASE("golden frames parse whole, byte by byte and split at every offset", "[stomp][codec]") {
  const auto& all = goldens();
  const std::size_t i = GENERATE_COPY(range(std::size_t{0}, all.size()));
  const Golden& g = all[i];
  CAPTURE(g.name, printable(g.wire));

  Owned want;
  want.command = g.command;
  want.headers = g.headers;
  want.body = g.body;
  want.total_size = g.wire.size();
  const std::vector<Event> expected{frame_event(want)};

  REQUIRE(feed_whole(g.wire, g.version) == expected);
  REQUIRE(feed_bytewise(g.wire, g.version) == expected);
  const std::size_t at = GENERATE_COPY(range(std::size_t{0}, g.wire.size() + 1));
  CAPTURE(at);
  REQUIRE(feed_split(g.wire, at, g.version) == expected);
}

TEST_CASE("golden frames followed by EOLs report one heart-beat per EOL", "[stomp][codec]") {
  const auto& all = goldens();
  const std::size_t i = GENERATE_COPY(range(std::size_t{0}, all.size()));
  const Golden& g = all[i];
  const std::string wire = std::string(g.wire) + "\n\r\n\n";
  CAPTURE(g.name);

  Owned want{g.command, g.headers, g.body, g.wire.size()};
  const std::vector<Event> expected{frame_event(want), heartbeat_event(1), heartbeat_event(2), heartbeat_event(1)};
  REQUIRE(feed_whole(wire, g.version) == expected);
  REQUIRE(feed_bytewise(wire, g.version) == expected);
  for (std::size_t at = 0; at <= wire.size(); ++at) {
    CAPTURE(at);
    REQUIRE(feed_split(wire, at, g.version) == expected);
  }
}

TEST_CASE("golden ERROR example body is the 170 bytes its header announces", "[stomp][codec]") {
  REQUIRE(kErrorBody.size() == 170);
  StompFrameParser p;
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of(kErrorWire), f, st) == ParseResult::Frame);
  REQUIRE(f.header("message") != nullptr);
  CHECK(*f.header("message") == "malformed frame received");
  CHECK(f.body_view() == kErrorBody);
}

TEST_CASE("header() returns the first of repeated headers and null when absent", "[stomp][codec]") {
  StompFrameParser p(StompLimits{}, Version::V1_2);
  StompFrame f;
  Status st;
  const auto wire = "MESSAGE\nfoo:World\nfoo:Hello\nbar:\n\n\0"sv;
  REQUIRE(p.next(bytes_of(wire), f, st) == ParseResult::Frame);
  REQUIRE(f.header("foo") != nullptr);
  CHECK(*f.header("foo") == "World");
  REQUIRE(f.header("bar") != nullptr);
  CHECK(f.header("bar")->empty());
  CHECK(f.header("baz") == nullptr);
  CHECK(f.header("FOO") == nullptr);  // names are case-sensitive
  REQUIRE(f.headers.size() == 3);
  CHECK(f.headers[1].value == "Hello");
}
