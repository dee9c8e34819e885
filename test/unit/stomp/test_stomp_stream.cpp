// Streams: several frames and heart-beats in one buffer, NUL bytes in
// content-length bodies, resuming after the buffer moved or shrank, and
// buffer reuse (no allocation per frame after warm-up).
#include <catch2/catch.hpp>

#include "stomp_testkit.h"

using namespace stomp_testkit;
using namespace std::string_view_literals;

TEST_CASE("frames and heart-beats in one stream, at every split", "[stomp][codec]") {
  // Heart-beats before, between (right after a NUL: the grammar's trailing
  // EOLs) and after frames; LF and CR LF.
  const std::string stream = "\n\r\n"s +                                               // two beats
                             "CONNECT\r\naccept-version:1.2\r\nhost:h\r\n\r\n\0"s +    // CR LF lines
                             "\n"s +                                                   // trailing EOL
                             "SEND\ndestination:/queue/a\ncontent-length:3\n\nx\0y\0"s +  // NUL in body
                             "\r\n\n"s +                                               // two beats
                             "SEND\ndestination:/queue/b\n\nplain\0"s +                // to the first NUL
                             "DISCONNECT\nreceipt:9\n\n\0"s + "\n"s +                  // trailing beat
                             "SEND\ndestination:/q";                                   // unfinished
  const std::vector<Event> expected = {
      heartbeat_event(1),
      heartbeat_event(2),
      frame_event({Command::Connect, {{"accept-version", "1.2"}, {"host", "h"}}, "", 40}),
      heartbeat_event(1),
      frame_event({Command::Send, {{"destination", "/queue/a"}, {"content-length", "3"}}, "x\0y"s, 48}),
      heartbeat_event(2),
      heartbeat_event(1),
      frame_event({Command::Send, {{"destination", "/queue/b"}}, "plain", 33}),
      frame_event({Command::Disconnect, {{"receipt", "9"}}, "", 23}),
      heartbeat_event(1),
      pending_event(19),
  };
  REQUIRE(feed_whole(stream) == expected);
  REQUIRE(feed_bytewise(stream) == expected);
  const std::size_t at = GENERATE_COPY(range(std::size_t{0}, stream.size() + 1));
  CAPTURE(at);
  REQUIRE(feed_split(stream, at) == expected);
}

TEST_CASE("three-way splits of a two-frame stream give the same events", "[stomp][codec]") {
  const std::string stream = "SEND\ndestination:/queue/a\ncontent-length:4\n\n\0\0\0\0\0\nMESSAGE\nk\\cx:v\\n\n\n\0"s;
  const std::vector<Event> expected = {
      frame_event({Command::Send, {{"destination", "/queue/a"}, {"content-length", "4"}}, "\0\0\0\0"s, 49}),
      heartbeat_event(1),
      frame_event({Command::Message, {{"k:x", "v\n"}}, "", 19}),
  };
  REQUIRE(feed_whole(stream) == expected);
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      CAPTURE(a, b);
      REQUIRE(feed(stream, {a, b}) == expected);
    }
  }
}

TEST_CASE("NUL bytes in a content-length body, including at its ends", "[stomp][codec]") {
  const std::string body = "\0head\0\0tail\0"s;
  const std::string wire = "SEND\ndestination:/queue/bin\ncontent-length:12\n\n"s + body + "\0"s;
  Owned f;
  Status st;
  REQUIRE(parse_one(wire, Version::V1_2, f, st) == ParseResult::Frame);
  CHECK(f.body == body);
  CHECK(f.total_size == wire.size());

  SECTION("content-length 0 means an empty body even before a NUL") {
    const auto w = "SEND\ndestination:/q\ncontent-length:0\n\n\0"sv;
    REQUIRE(parse_one(w, Version::V1_2, f, st) == ParseResult::Frame);
    CHECK(f.body.empty());
    CHECK(f.total_size == w.size());
  }
  SECTION("leading zeros are accepted") {
    const auto w = "SEND\ncontent-length:0003\n\na\0b\0"sv;
    REQUIRE(parse_one(w, Version::V1_2, f, st) == ParseResult::Frame);
    CHECK(f.body == "a\0b"s);
  }
  SECTION("the first content-length counts") {
    const auto w = "SEND\ncontent-length:3\ncontent-length:1\n\na\0b\0"sv;
    REQUIRE(parse_one(w, Version::V1_2, f, st) == ParseResult::Frame);
    CHECK(f.body == "a\0b"s);
    REQUIRE(f.headers.size() == 2);
    CHECK(f.headers[1] == std::pair<std::string, std::string>{"content-length", "1"});
  }
}

TEST_CASE("a content-length frame is not complete until its NUL arrives", "[stomp][codec]") {
  const auto wire = "SEND\ncontent-length:2\n\nab\0"sv;
  StompFrameParser p;
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of(wire.substr(0, wire.size() - 1)), f, st) == ParseResult::NeedMore);
  CHECK(st.ok());
  REQUIRE(p.next(bytes_of(wire), f, st) == ParseResult::Frame);
  CHECK(f.body_view() == "ab");
}

TEST_CASE("the parser resumes from offsets when the buffer moved", "[stomp][codec]") {
  const std::string wire = "SEND\ndestination:/queue/a\nx:1\n\nbody\0"s;
  StompFrameParser p;
  StompFrame f;
  Status st;
  for (std::size_t n = 1; n < wire.size(); ++n) {
    // A fresh copy each time: same bytes, different address.
    const std::string copy = wire.substr(0, n);
    REQUIRE(p.next(bytes_of(copy), f, st) == ParseResult::NeedMore);
  }
  const std::string copy = wire;
  REQUIRE(p.next(bytes_of(copy), f, st) == ParseResult::Frame);
  CHECK(own(f) == Owned{Command::Send, {{"destination", "/queue/a"}, {"x", "1"}}, "body", wire.size()});
}

TEST_CASE("a shorter buffer than before restarts the scan", "[stomp][codec]") {
  StompFrameParser p;
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of("SEND\ndestination:/queue/a\n"sv), f, st) == ParseResult::NeedMore);
  // The caller threw its buffer away and starts over with another frame.
  REQUIRE(p.next(bytes_of("ACK\nid:1\n\n\0"sv), f, st) == ParseResult::Frame);
  CHECK(f.command == Command::Ack);
  REQUIRE(p.next(bytes_of("SEND\n"sv), f, st) == ParseResult::NeedMore);
  p.reset();
  REQUIRE(p.next(bytes_of("NACK\nid:2\n\n\0"sv), f, st) == ParseResult::Frame);
  CHECK(f.command == Command::Nack);
}

TEST_CASE("a lone CR waits for its LF", "[stomp][codec]") {
  StompFrameParser p;
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of("\r"sv), f, st) == ParseResult::NeedMore);
  REQUIRE(p.next(bytes_of("\r\n"sv), f, st) == ParseResult::Heartbeat);
  CHECK(f.total_size == 2);
  REQUIRE(p.next(bytes_of("SEND\n\r"sv), f, st) == ParseResult::NeedMore);
  REQUIRE(p.next(bytes_of("SEND\n\r\n\0"sv), f, st) == ParseResult::Frame);
  CHECK(f.total_size == 8);
}

TEST_CASE("an empty buffer needs more", "[stomp][codec]") {
  StompFrameParser p;
  StompFrame f;
  Status st;
  CHECK(p.next(ByteSpan{}, f, st) == ParseResult::NeedMore);
  CHECK(st.ok());
}

TEST_CASE("frame buffers are reused: no allocation per frame after warm-up", "[stomp][codec]") {
  const std::string a = "MESSAGE\nk\\c1:v\\n1\nk\\c2:v\\n2\ndestination:/topic/x\n\n\0"s;
  const std::string b = "MESSAGE\nk\\c3:v\\n3\nk\\c4:v\\n4\ndestination:/topic/y\n\n\0"s;
  StompFrameParser p(StompLimits{}, Version::V1_2);
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of(a), f, st) == ParseResult::Frame);
  CHECK(*f.header("k:1") == "v\n1");
  const Header* headers_storage = f.headers.data();
  const char* scratch = f.headers[0].name.data();  // decoded: lives in the frame's scratch buffer
  CHECK(f.headers[2].value.data() == a.data() + a.find("/topic/x"));  // not escaped: a view into the input

  REQUIRE(p.next(bytes_of(b), f, st) == ParseResult::Frame);
  CHECK(f.headers.data() == headers_storage);
  CHECK(f.headers[0].name.data() == scratch);
  CHECK(*f.header("k:4") == "v\n4");
  CHECK(*f.header("destination") == "/topic/y");
}

TEST_CASE("a heart-beat result clears the frame and reports its size", "[stomp][codec]") {
  StompFrameParser p;
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of("SEND\nx:y\n\nz\0"sv), f, st) == ParseResult::Frame);
  REQUIRE(p.next(bytes_of("\n"sv), f, st) == ParseResult::Heartbeat);
  CHECK(f.total_size == 1);
  CHECK(f.headers.empty());
  CHECK(f.body.empty());
}

TEST_CASE("the version set between frames applies to the next frame", "[stomp][codec]") {
  // A server parses CONNECT under 1.0, answers CONNECTED 1.2, then switches.
  const std::string stream = "CONNECT\naccept-version:1.2\nx:a\\cb\n\n\0SEND\nx:a\\cb\n\n\0"s;
  StompFrameParser p;
  StompFrame f;
  Status st;
  std::string_view rest = stream;
  REQUIRE(p.next(bytes_of(rest), f, st) == ParseResult::Frame);
  CHECK(*f.header("x") == "a\\cb");  // CONNECT: never unescaped
  rest.remove_prefix(f.total_size);
  p.set_version(Version::V1_2);
  REQUIRE(p.next(bytes_of(rest), f, st) == ParseResult::Frame);
  CHECK(*f.header("x") == "a:b");
}
