// Encoder: exact output for simple frames, round trips (encode -> parse ->
// equal) for every command and version, content-length handling, refusals.
#include <catch2/catch.hpp>

#include "stomp_testkit.h"

using namespace stomp_testkit;
using namespace std::string_view_literals;

namespace {

const Command kAllCommands[] = {Command::Connect,    Command::Stomp,     Command::Send,    Command::Subscribe,
                                Command::Unsubscribe, Command::Ack,      Command::Nack,    Command::Begin,
                                Command::Commit,     Command::Abort,     Command::Disconnect, Command::Connected,
                                Command::Message,    Command::Receipt,   Command::Error};

bool escaped(Command c, Version v) {
  return v != Version::V1_0 && c != Command::Connect && c != Command::Stomp && c != Command::Connected;
}

}  // namespace

TEST_CASE("encoder writes the spec's frames byte for byte", "[stomp][codec]") {
  std::string out;
  REQUIRE(encode_frame(Command::Connected, {{"version", "1.2"}}, {}, Version::V1_2, out).ok());
  CHECK(out == "CONNECTED\nversion:1.2\n\n\0"s);

  out.clear();
  REQUIRE(encode_frame(Command::Receipt, {{"receipt-id", "77"}}, {}, Version::V1_2, out).ok());
  CHECK(out == "RECEIPT\nreceipt-id:77\n\n\0"s);

  out.clear();
  REQUIRE(encode_frame(Command::Message,
                       {{"subscription", "0"}, {"message-id", "007"}, {"destination", "/queue/a"},
                        {"content-type", "text/plain"}},
                       bytes_of("hello queue a"), Version::V1_2, out)
              .ok());
  CHECK(out ==
        "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n"
        "content-length:13\n\nhello queue a\0"s);

  out.clear();
  REQUIRE(encode_frame(Command::Send, {{"destination", "/queue/a"}}, bytes_of("hi"), Version::V1_0, out, true).ok());
  CHECK(out == "SEND\ndestination:/queue/a\ncontent-length:2\n\nhi\0"s);

  out.clear();
  REQUIRE(encode_frame(Command::Disconnect, std::span<const Header>{}, {}, Version::V1_1, out).ok());
  CHECK(out == "DISCONNECT\n\n\0"s);
}

TEST_CASE("encoder appends to what is already in the output", "[stomp][codec]") {
  std::string out = "RECEIPT\nreceipt-id:1\n\n\0"s;
  REQUIRE(encode_frame(Command::Receipt, {{"receipt-id", "2"}}, {}, Version::V1_2, out).ok());
  encode_heartbeat(out);
  const auto events = feed_whole(out);
  REQUIRE(events.size() == 3);
  CHECK(events[0].frame.headers == HeaderList{{"receipt-id", "1"}});
  CHECK(events[1].frame.headers == HeaderList{{"receipt-id", "2"}});
  CHECK(events[2] == heartbeat_event(1));
}

TEST_CASE("round trip: every command under every version", "[stomp][codec]") {
  const Version v = GENERATE(Version::V1_0, Version::V1_1, Version::V1_2);
  for (Command cmd : kAllCommands) {
    CAPTURE(version_string(v), command_name(cmd));
    // Values that need escaping where escaping exists; plain ones otherwise.
    HeaderList headers{{"destination", "/queue/a b"}, {"id", "0"}, {"dup", "first"}, {"dup", "second"},
                       {"empty", ""}, {"raw\\", "back\\slash"}};
    if (escaped(cmd, v)) {
      headers.push_back({"we:ird\nname\\", "line1\nline2:colon\\back"});
      if (v == Version::V1_2) headers.push_back({"cr", "ends in CR\r"});
    } else {
      headers.push_back({"colon", "value:with:colons"});
    }
    const bool body_ok = command_allows_body(cmd);
    const std::string body = body_ok ? "payload\0with NUL\n\r\n"s : "";
    const std::vector<Header> hv = views(headers);
    std::string wire;
    // A body containing NUL needs content-length (always present on MESSAGE).
    const Status st = encode_frame(cmd, hv, bytes_of(body), v, wire, body_ok);
    REQUIRE(st.ok());

    Owned want{cmd, headers, body, wire.size()};
    if (body_ok) want.headers.push_back({"content-length", std::to_string(body.size())});
    const std::vector<Event> expected{frame_event(want)};
    REQUIRE(feed_whole(wire, v) == expected);
    REQUIRE(feed_bytewise(wire, v) == expected);
    for (std::size_t at = 0; at <= wire.size(); ++at) REQUIRE(feed_split(wire, at, v) == expected);
  }
}

TEST_CASE("round trip: bodies without content-length end at the NUL", "[stomp][codec]") {
  for (Version v : kAllVersions) {
    for (Command cmd : {Command::Send, Command::Error}) {
      std::string wire;
      REQUIRE(encode_frame(cmd, {{"destination", "/topic/t"}}, bytes_of("text body"), v, wire).ok());
      CHECK(wire.find("content-length") == std::string::npos);
      Owned f;
      Status st;
      REQUIRE(parse_one(wire, v, f, st) == ParseResult::Frame);
      CHECK(f.body == "text body");
      CHECK(f.headers == HeaderList{{"destination", "/topic/t"}});
    }
  }
}

TEST_CASE("content-length handling in the encoder", "[stomp][codec]") {
  std::string out;
  SECTION("MESSAGE always carries a correct one, replacing the caller's") {
    REQUIRE(encode_frame(Command::Message, {{"content-length", "99"}, {"a", "b"}, {"content-length", "1"}},
                         bytes_of("xyz"), Version::V1_2, out)
                .ok());
    CHECK(out == "MESSAGE\na:b\ncontent-length:3\n\nxyz\0"s);
  }
  SECTION("a matching caller content-length is kept in place") {
    REQUIRE(encode_frame(Command::Send, {{"content-length", "3"}, {"a", "b"}}, bytes_of("x\0z"sv), Version::V1_2, out)
                .ok());
    CHECK(out == "SEND\ncontent-length:3\na:b\n\nx\0z\0"s);
  }
  SECTION("a wrong caller content-length is refused") {
    out = "keep";
    const Status st = encode_frame(Command::Send, {{"content-length", "4"}}, bytes_of("xyz"), Version::V1_2, out);
    CHECK(st.reason == Reason::Unencodable);
    CHECK(out == "keep");
    CHECK(encode_frame(Command::Send, {{"content-length", "x"}}, bytes_of("xyz"), Version::V1_2, out).reason ==
          Reason::Unencodable);
  }
  SECTION("a body with NUL and no content-length is refused") {
    CHECK(encode_frame(Command::Send, {{"a", "b"}}, bytes_of("x\0z"sv), Version::V1_2, out).reason ==
          Reason::Unencodable);
    CHECK(out.empty());
  }
  SECTION("an empty body with add_content_length says 0") {
    REQUIRE(encode_frame(Command::Subscribe, {{"id", "1"}}, {}, Version::V1_2, out, true).ok());
    CHECK(out == "SUBSCRIBE\nid:1\ncontent-length:0\n\n\0"s);
  }
}

TEST_CASE("the encoder refuses what the parser would read back differently", "[stomp][codec]") {
  std::string out = "keep";
  const auto refused = [&](Command c, std::initializer_list<Header> h, std::string_view body, Version v) {
    const Status st = encode_frame(c, h, bytes_of(body), v, out);
    return st.reason == Reason::Unencodable && st.what != nullptr && out == "keep";
  };
  CHECK(refused(Command::Ack, {{"id", "1"}}, "body", Version::V1_2));  // body on a bodiless frame
  CHECK(refused(Command::Send, {{"", "v"}}, "", Version::V1_2));       // empty name
  CHECK(refused(Command::Send, {{"", "v"}}, "", Version::V1_0));
  CHECK(refused(Command::Send, {{"k", "a\nb"}}, "", Version::V1_0));   // LF in 1.0
  CHECK(refused(Command::Send, {{"k:x", "v"}}, "", Version::V1_0));    // ':' in a 1.0 name
  CHECK(refused(Command::Connect, {{"k", "a\nb"}}, "", Version::V1_2));  // CONNECT is never escaped
  CHECK(refused(Command::Connected, {{"k\n", "v"}}, "", Version::V1_1));
  CHECK(refused(Command::Send, {{"k", "v\r"}}, "", Version::V1_1));    // trailing CR without \r escape
  CHECK(refused(Command::Stomp, {{"k", "v\r"}}, "", Version::V1_2));
  // ...and accepts the same things where they are representable.
  out.clear();
  CHECK(encode_frame(Command::Send, {{"k:x", "a\nb"}}, {}, Version::V1_1, out).ok());
  CHECK(out == "SEND\nk\\cx:a\\nb\n\n\0"s);
}

TEST_CASE("heart-beat helper writes one LF that parses as a heart-beat", "[stomp][codec]") {
  std::string out;
  encode_heartbeat(out);
  CHECK(out == "\n");
  CHECK(feed_whole(out) == std::vector<Event>{heartbeat_event(1)});
}

TEST_CASE("command names round trip and classify", "[stomp][codec]") {
  for (Command c : kAllCommands) {
    REQUIRE(command_from_name(command_name(c)) == c);
  }
  CHECK(!command_from_name("Send"));
  CHECK(!command_from_name(""));
  CHECK(command_is_client(Command::Disconnect));
  CHECK(command_is_client(Command::Stomp));
  CHECK(!command_is_client(Command::Connected));
  CHECK(!command_is_client(Command::Error));
  CHECK(command_allows_body(Command::Send));
  CHECK(command_allows_body(Command::Message));
  CHECK(command_allows_body(Command::Error));
  CHECK(!command_allows_body(Command::Receipt));
}
