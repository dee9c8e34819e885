// Header value encoding per version (1.1 / 1.2 "Value Encoding"; 1.0 has
// none): decoding in the parser, encoding in the encoder, the frames that are
// never escaped, and undefined escapes.
#include <catch2/catch.hpp>

#include "stomp_testkit.h"

using namespace stomp_testkit;
using namespace std::string_view_literals;

namespace {

// Parses "SEND\n<line>\n\n\0" (or another command) and returns the header.
std::pair<std::string, std::string> parse_header_line(Version v, std::string_view line, Status& st,
                                                      std::string_view command = "SEND") {
  const std::string wire = std::string(command) + "\n" + std::string(line) + "\n\n\0"s;
  Owned f;
  const ParseResult r = parse_one(wire, v, f, st);
  if (r != ParseResult::Frame || f.headers.size() != 1) return {"<none>", "<none>"};
  return f.headers[0];
}

}  // namespace

TEST_CASE("escape sequences decode per version", "[stomp][codec]") {
  struct Case {
    std::string_view raw;  // value on the wire
    std::string v10;       // decoded under 1.0 (none: raw)
    std::string v11;       // decoded under 1.1, or "!" for InvalidEscape
    std::string v12;       // decoded under 1.2, or "!"
  };
  const Case cases[] = {
      {"a\\nb", "a\\nb", "a\nb", "a\nb"},
      {"a\\cb", "a\\cb", "a:b", "a:b"},
      {"a\\\\b", "a\\\\b", "a\\b", "a\\b"},
      {"a\\rb", "a\\rb", "!", "a\rb"},  // \r is new in 1.2
      {"\\\\n", "\\\\n", "\\n", "\\n"},  // escaped backslash then a plain 'n'
      {"\\n\\n", "\\n\\n", "\n\n", "\n\n"},
      {"a\\tb", "a\\tb", "!", "!"},  // "Undefined escape sequences such as \t MUST be treated as a fatal protocol error"
      {"a\\", "a\\", "!", "!"},      // trailing backslash
      {"a\\C", "a\\C", "!", "!"},    // escapes are case-sensitive
      {"a\\ ", "a\\ ", "!", "!"},
      {"plain", "plain", "plain", "plain"},
  };
  for (const Case& c : cases) {
    CAPTURE(printable(c.raw));
    const std::string line = "h:" + std::string(c.raw);
    Status st;
    CHECK(parse_header_line(Version::V1_0, line, st).second == c.v10);
    CHECK(st.ok());
    for (auto [v, want] : {std::pair{Version::V1_1, c.v11}, std::pair{Version::V1_2, c.v12}}) {
      CAPTURE(version_string(v));
      const auto h = parse_header_line(v, line, st);
      if (want == "!") {
        CHECK(st.reason == Reason::InvalidEscape);
      } else {
        CHECK(st.ok());
        CHECK(h.second == want);
      }
    }
  }
}

TEST_CASE("header names are unescaped like values", "[stomp][codec]") {
  Status st;
  CHECK(parse_header_line(Version::V1_2, "a\\cb\\nc\\\\d\\re:v", st).first == "a:b\nc\\d\re");
  CHECK(parse_header_line(Version::V1_1, "a\\cb:v", st).first == "a:b");
  CHECK(parse_header_line(Version::V1_0, "a\\cb:v", st).first == "a\\cb");
  parse_header_line(Version::V1_2, "a\\x:v", st);
  CHECK(st.reason == Reason::InvalidEscape);
  // The split is at the first raw ':'; an escaped colon never splits.
  CHECK(parse_header_line(Version::V1_2, "a\\c:b\\c", st) == std::pair<std::string, std::string>{"a:", "b:"});
}

TEST_CASE("CONNECT, STOMP and CONNECTED headers are never unescaped", "[stomp][codec]") {
  const Command cmd = GENERATE(Command::Connect, Command::Stomp, Command::Connected);
  const Version v = GENERATE(Version::V1_0, Version::V1_1, Version::V1_2);
  CAPTURE(command_name(cmd), version_string(v));
  Status st;
  // Backslashes, even undefined sequences, are data: the frame is 1.0-compatible.
  CHECK(parse_header_line(v, "passcode:a\\cb\\tc\\", st, command_name(cmd)) ==
        std::pair<std::string, std::string>{"passcode", "a\\cb\\tc\\"});
  CHECK(st.ok());
}

TEST_CASE("every other frame is unescaped under 1.1 and 1.2", "[stomp][codec]") {
  const Command cmd = GENERATE(Command::Send, Command::Subscribe, Command::Unsubscribe, Command::Ack, Command::Nack,
                               Command::Begin, Command::Commit, Command::Abort, Command::Disconnect, Command::Message,
                               Command::Receipt, Command::Error);
  const Version v = GENERATE(Version::V1_1, Version::V1_2);
  CAPTURE(command_name(cmd), version_string(v));
  Status st;
  CHECK(parse_header_line(v, "k:a\\cb", st, command_name(cmd)).second == "a:b");
  parse_header_line(v, "k:a\\tb", st, command_name(cmd));
  CHECK(st.reason == Reason::InvalidEscape);
}

TEST_CASE("one CR before LF is the line end; other CRs are data", "[stomp][codec]") {
  Status st;
  for (Version v : kAllVersions) {
    CAPTURE(version_string(v));
    CHECK(parse_header_line(v, "k:v\r", st).second == "v");
    CHECK(parse_header_line(v, "k:v\r\r", st).second == "v\r");
    CHECK(parse_header_line(v, "k:a\rb", st).second == "a\rb");
    CHECK(parse_header_line(v, "k\r:v", st).first == "k\r");
  }
}

TEST_CASE("whitespace in headers is kept", "[stomp][codec]") {
  Status st;
  for (Version v : kAllVersions) {
    CHECK(parse_header_line(v, " k : v ", st) == std::pair<std::string, std::string>{" k ", " v "});
  }
}

TEST_CASE("the encoder escapes per version and frame", "[stomp][codec]") {
  const std::string value = "a:b\nc\\d\re";
  struct Case {
    Version v;
    Command cmd;
    std::string_view wire;  // expected header line
    bool ok;
  };
  const Case cases[] = {
      {Version::V1_2, Command::Send, "k\\cx:a\\cb\\nc\\\\d\\re", true},
      {Version::V1_1, Command::Send, "k\\cx:a\\cb\\nc\\\\d\re", true},  // 1.1 has no \r: CR goes raw
      {Version::V1_2, Command::Message, "k\\cx:a\\cb\\nc\\\\d\\re", true},
      {Version::V1_0, Command::Send, "", false},        // 1.0 cannot carry LF or a ':' in a name
      {Version::V1_2, Command::Connected, "", false},   // never escaped
      {Version::V1_2, Command::Connect, "", false},
  };
  for (const Case& c : cases) {
    CAPTURE(version_string(c.v), command_name(c.cmd));
    std::string out = "prefix";
    const Status st = encode_frame(c.cmd, {{"k:x", value}}, {}, c.v, out);
    if (!c.ok) {
      CHECK(st.reason == Reason::Unencodable);
      CHECK(out == "prefix");  // unchanged on failure
      continue;
    }
    REQUIRE(st.ok());
    const std::string want =
        "prefix"s + std::string(command_name(c.cmd)) + "\n" + std::string(c.wire) + "\n" +
        (c.cmd == Command::Message ? "content-length:0\n" : "") + "\n\0"s;
    CHECK(printable(out) == printable(want));
  }
}

TEST_CASE("unescaped frames keep backslashes and colons in values", "[stomp][codec]") {
  std::string out;
  REQUIRE(encode_frame(Command::Connect, {{"login", "dom\\user"}, {"passcode", "p:w"}}, {}, Version::V1_2, out).ok());
  CHECK(out == "CONNECT\nlogin:dom\\user\npasscode:p:w\n\n\0"s);
  Owned f;
  Status st;
  REQUIRE(parse_one(out, Version::V1_2, f, st) == ParseResult::Frame);
  CHECK(f.headers == HeaderList{{"login", "dom\\user"}, {"passcode", "p:w"}});
}

TEST_CASE("a value ending in CR is representable only with 1.2 escaping", "[stomp][codec]") {
  for (Version v : kAllVersions) {
    for (Command cmd : {Command::Send, Command::Connect}) {
      CAPTURE(version_string(v), command_name(cmd));
      std::string out;
      const Status st = encode_frame(cmd, {{"k", "v\r"}}, {}, v, out);
      const bool escaped_12 = v == Version::V1_2 && cmd == Command::Send;
      CHECK(st.ok() == escaped_12);
      if (escaped_12) CHECK(out == "SEND\nk:v\\r\n\n\0"s);
      // A CR elsewhere is fine in every version.
      out.clear();
      CHECK(encode_frame(cmd, {{"k", "a\rb"}}, {}, v, out).ok());
    }
  }
}
