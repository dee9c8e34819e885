// Malformed frames and limits: each rejected with its own Reason, the same
// way at every split point, and limits enforced before the caller has to
// buffer the offending bytes.
#include <catch2/catch.hpp>

#include <algorithm>

#include "stomp_testkit.h"

using namespace stomp_testkit;
using namespace std::string_view_literals;

namespace {

struct Bad {
  const char* name;
  std::string wire;
  Version version;
  Reason reason;
};

// Small limits so the limit cases stay short.
StompLimits small_limits() {
  StompLimits l;
  l.max_frame_size = 64;
  l.max_headers = 3;
  l.max_header_line = 20;
  l.max_command_length = 11;  // "UNSUBSCRIBE"
  return l;
}

const std::vector<Bad>& malformed() {
  static const std::vector<Bad> b = {
      {"unknown command", "FOO\n\n\0"s, Version::V1_2, Reason::UnknownCommand},
      {"lower-case command", "send\n\n\0"s, Version::V1_2, Reason::UnknownCommand},
      {"command with trailing space", "SEND \n\n\0"s, Version::V1_2, Reason::UnknownCommand},
      {"NUL as a command", "\0\n"s, Version::V1_2, Reason::UnknownCommand},
      {"empty command after a CR", "\r\r\n"s, Version::V1_2, Reason::BadLineEnding},
      {"CR not followed by LF", "\rSEND\n\n\0"s, Version::V1_2, Reason::BadLineEnding},
      {"CR not followed by LF after a beat", "\n\rX"s, Version::V1_2, Reason::BadLineEnding},
      {"header without colon", "SEND\ndestination\n\n\0"s, Version::V1_2, Reason::MissingColon},
      {"header without colon (1.0)", "SEND\ndestination\n\n\0"s, Version::V1_0, Reason::MissingColon},
      {"empty header name", "SEND\n:value\n\n\0"s, Version::V1_2, Reason::EmptyHeaderName},
      {"empty header name (1.0)", "SEND\n:value\n\n\0"s, Version::V1_0, Reason::EmptyHeaderName},
      {"undefined escape", "SEND\nd:a\\tb\n\n\0"s, Version::V1_2, Reason::InvalidEscape},
      {"\\r in 1.1", "SEND\nd:a\\rb\n\n\0"s, Version::V1_1, Reason::InvalidEscape},
      {"trailing backslash", "SEND\nd:ab\\\n\n\0"s, Version::V1_1, Reason::InvalidEscape},
      {"bad escape in a name", "SEND\na\\x:b\n\n\0"s, Version::V1_2, Reason::InvalidEscape},
      {"content-length letters", "SEND\ncontent-length:abc\n\n\0"s, Version::V1_2, Reason::BadContentLength},
      {"content-length empty", "SEND\ncontent-length:\n\n\0"s, Version::V1_2, Reason::BadContentLength},
      {"content-length negative", "SEND\ncontent-length:-1\n\n\0"s, Version::V1_2, Reason::BadContentLength},
      {"content-length plus", "SEND\ncontent-length:+1\n\nx\0"s, Version::V1_2, Reason::BadContentLength},
      {"content-length space", "SEND\ncontent-length: 1\n\nx\0"s, Version::V1_2, Reason::BadContentLength},
      {"content-length 19 digits", "SEND\ncontent-length:1000000000000000000\n\n\0"s, Version::V1_2,
       Reason::BadContentLength},
      {"first content-length bad", "SEND\ncontent-length:x\ncontent-length:1\n\na\0"s, Version::V1_2,
       Reason::BadContentLength},
      {"content-length escaped", "SEND\ncontent-length:1\\c\n\na\0"s, Version::V1_2, Reason::BadContentLength},
      {"body longer than content-length", "SEND\ncontent-length:2\n\nabc\0"s, Version::V1_2, Reason::MissingNul},
      {"body on SUBSCRIBE", "SUBSCRIBE\nid:0\n\nbody\0"s, Version::V1_2, Reason::BodyNotAllowed},
      {"body on CONNECT", "CONNECT\naccept-version:1.2\n\nx\0"s, Version::V1_0, Reason::BodyNotAllowed},
      {"content-length on ACK", "ACK\nid:1\ncontent-length:1\n\nx\0"s, Version::V1_2, Reason::BodyNotAllowed},
      {"body on RECEIPT", "RECEIPT\nreceipt-id:1\n\n\n\0"s, Version::V1_2, Reason::BodyNotAllowed},
      {"error after a good frame", "ACK\nid:1\n\n\0\nBAD\n\n\0"s, Version::V1_2, Reason::UnknownCommand},
  };
  return b;
}

const std::vector<Bad>& over_limits() {
  static const std::vector<Bad> b = {
      {"command too long", "UNSUBSCRIBEX\n\n\0"s, Version::V1_2, Reason::CommandTooLong},
      {"command too long, no LF yet", "ABCDEFGHIJKLMNOP"s, Version::V1_2, Reason::CommandTooLong},
      {"header line too long", "SEND\nk:1234567890123456789\n\n\0"s, Version::V1_2, Reason::HeaderLineTooLong},
      {"header line too long, no LF yet", "SEND\nk:12345678901234567890"s, Version::V1_2, Reason::HeaderLineTooLong},
      {"too many headers", "SEND\na:1\nb:2\nc:3\nd:4\n\n\0"s, Version::V1_2, Reason::TooManyHeaders},
      {"repeats count as headers", "SEND\na:1\na:1\na:1\na:1\n\n\0"s, Version::V1_2, Reason::TooManyHeaders},
      {"frame too large, no content-length", "SEND\n\n" + std::string(60, 'x') + "\0"s, Version::V1_2,
       Reason::FrameTooLarge},
      {"frame too large, content-length", "SEND\ncontent-length:59\n\n"s, Version::V1_2, Reason::FrameTooLarge},
      {"frame too large in the headers", "SEND\na:12345678901234567\nb:12345678901234567\nc:12345678901234567\n\n\0"s,
       Version::V1_2, Reason::FrameTooLarge},
  };
  return b;
}

void check_rejected(const Bad& b, const StompLimits& limits) {
  CAPTURE(b.name, printable(b.wire), version_string(b.version));
  const std::vector<Event> whole = feed_whole(b.wire, b.version, limits);
  REQUIRE(!whole.empty());
  REQUIRE(whole.back() == error_event(b.reason));
  REQUIRE(feed_bytewise(b.wire, b.version, limits) == whole);
  for (std::size_t at = 0; at <= b.wire.size(); ++at) {
    CAPTURE(at);
    REQUIRE(feed_split(b.wire, at, b.version, limits) == whole);
  }
}

}  // namespace

TEST_CASE("malformed frames are rejected with their own reason at every split", "[stomp][codec]") {
  const auto& all = malformed();
  const std::size_t i = GENERATE_COPY(range(std::size_t{0}, all.size()));
  check_rejected(all[i], StompLimits{});
}

TEST_CASE("each limit is rejected with its own reason at every split", "[stomp][codec]") {
  const auto& all = over_limits();
  const std::size_t i = GENERATE_COPY(range(std::size_t{0}, all.size()));
  check_rejected(all[i], small_limits());
  CHECK(is_limit(all[i].reason));
}

TEST_CASE("every reason has a distinct name", "[stomp][codec]") {
  std::vector<std::string> names;
  for (int r = 0; r <= static_cast<int>(Reason::Unencodable); ++r) names.emplace_back(reason_name(static_cast<Reason>(r)));
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(!is_limit(Reason::MissingColon));
}

TEST_CASE("frames exactly at each limit are accepted", "[stomp][codec]") {
  const StompLimits l = small_limits();
  Owned f;
  Status st;
  SECTION("command of max_command_length") {
    REQUIRE(parse_one("UNSUBSCRIBE\nid:1\n\n\0"sv, Version::V1_2, f, st, l) == ParseResult::Frame);
  }
  SECTION("header line of max_header_line, CR not counted") {
    REQUIRE(parse_one("SEND\nk:123456789012345678\r\n\r\n\0"sv, Version::V1_2, f, st, l) == ParseResult::Frame);
    CHECK(f.headers[0].second.size() == 18);
  }
  SECTION("max_headers headers") {
    REQUIRE(parse_one("SEND\na:1\nb:2\nc:3\n\n\0"sv, Version::V1_2, f, st, l) == ParseResult::Frame);
  }
  SECTION("frame of max_frame_size with and without content-length") {
    const std::string plain = "SEND\n\n" + std::string(57, 'x') + "\0"s;
    REQUIRE(plain.size() == 64);
    REQUIRE(parse_one(plain, Version::V1_2, f, st, l) == ParseResult::Frame);
    const std::string counted = "SEND\ncontent-length:39\n\n" + std::string(39, 'x') + "\0"s;
    REQUIRE(counted.size() == 64);
    REQUIRE(parse_one(counted, Version::V1_2, f, st, l) == ParseResult::Frame);
  }
  SECTION("heart-beats do not count toward the frame size") {
    const std::string stream = std::string(100, '\n') + "SEND\n\n" + std::string(57, 'x') + "\0"s;
    const auto events = feed_whole(stream, Version::V1_2, l);
    REQUIRE(events.size() == 101);
    CHECK(events.back().kind == Event::Kind::Frame);
  }
}

TEST_CASE("limits fail before the offending bytes are buffered", "[stomp][codec]") {
  const StompLimits l = small_limits();
  StompFrameParser p(l, Version::V1_2);
  StompFrame f;
  Status st;
  SECTION("a content-length too large fails when the header block ends") {
    REQUIRE(p.next(bytes_of("SEND\ncontent-length:9999\n\n"sv), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::FrameTooLarge);
  }
  SECTION("an unterminated command fails after max_command_length + 1 bytes") {
    REQUIRE(p.next(bytes_of("ABCDEFGHIJK"sv), f, st) == ParseResult::NeedMore);
    REQUIRE(p.next(bytes_of("ABCDEFGHIJK\r"sv), f, st) == ParseResult::NeedMore);  // the CR may end the line
    REQUIRE(p.next(bytes_of("ABCDEFGHIJKL"sv), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::CommandTooLong);
  }
  SECTION("an unterminated header line fails after max_header_line + 1 bytes") {
    REQUIRE(p.next(bytes_of("SEND\nk:123456789012345678"sv), f, st) == ParseResult::NeedMore);
    REQUIRE(p.next(bytes_of("SEND\nk:1234567890123456789"sv), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::HeaderLineTooLong);
  }
  SECTION("a header beyond max_headers fails at its first byte") {
    REQUIRE(p.next(bytes_of("SEND\na:1\nb:2\nc:3\n"sv), f, st) == ParseResult::NeedMore);
    REQUIRE(p.next(bytes_of("SEND\na:1\nb:2\nc:3\nd"sv), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::TooManyHeaders);
  }
  SECTION("a body without NUL fails once max_frame_size bytes are present") {
    const std::string start = "SEND\n\n" + std::string(58, 'x');
    REQUIRE(start.size() == 64);
    REQUIRE(p.next(bytes_of(start), f, st) == ParseResult::NeedMore);
    REQUIRE(p.next(bytes_of(start + "x"), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::FrameTooLarge);
  }
  SECTION("a bad escape fails at the end of its line, before the body") {
    StompFrameParser p11(l, Version::V1_1);
    REQUIRE(p11.next(bytes_of("SEND\nk:\\r\n"sv), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::InvalidEscape);
  }
  SECTION("a body on a bodiless frame fails at its first byte") {
    REQUIRE(p.next(bytes_of("BEGIN\ntransaction:t\n\nx"sv), f, st) == ParseResult::Error);
    CHECK(st.reason == Reason::BodyNotAllowed);
  }
}

TEST_CASE("after an error the parser starts over", "[stomp][codec]") {
  StompFrameParser p;
  StompFrame f;
  Status st;
  REQUIRE(p.next(bytes_of("BAD\n\n\0"sv), f, st) == ParseResult::Error);
  CHECK(st.what != nullptr);
  REQUIRE(p.next(bytes_of("ACK\nid:1\n\n\0"sv), f, st) == ParseResult::Frame);
  CHECK(st.ok());
}
