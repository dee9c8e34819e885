// STOMP front-end topic map: destinations, header escaping per version, and
// the SEND/MESSAGE header <-> core message property mapping, checked as
// round trips through the real codec parser.
#include <catch2/catch.hpp>

#include "base64.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "stomp_codec.h"
#include "stomp_topic_map.h"

using namespace junction;
using namespace junction::stomp;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

constexpr std::string_view kOwner = "stomp-abc-7";

// Parses `wire` (one whole frame) with the codec; fails the test otherwise.
struct Parsed {
  StompFrame frame;
  std::string buffer;  // the views point here
};

void parse_frame(std::string wire, Version v, Parsed& out) {
  out.buffer = std::move(wire);
  StompFrameParser parser(StompLimits{}, v);
  Status st;
  const ParseResult r = parser.next(bytes_of(out.buffer), out.frame, st);
  INFO("reason: " << reason_name(st.reason));
  REQUIRE(r == ParseResult::Frame);
  REQUIRE(out.frame.total_size == out.buffer.size());
}

// Message -> MESSAGE headers -> parsed -> SEND header mapping -> message.
core::Message round_trip(const core::Message& m, Version v, std::string_view owner = {},
                         std::size_t* dropped = nullptr) {
  std::string wire = "MESSAGE\n";
  append_message_headers(m, header_escape(v), owner, wire, dropped);
  wire += m.payload;
  wire.push_back('\0');
  Parsed p;
  parse_frame(wire, v, p);
  core::Message back;
  back.payload.assign(p.frame.body_view());
  const std::string_view* cl = p.frame.header("content-length");
  REQUIRE(cl != nullptr);
  CHECK(*cl == std::to_string(m.payload.size()));
  if (const std::string_view* dest = p.frame.header("destination")) {
    Destination d;
    REQUIRE(parse_destination(*dest, DestUse::Send, d) == nullptr);
    back.topic = publish_topic(d, owner);
  }
  const char* why = apply_send_headers(p.frame.headers, owner, back);
  INFO((why ? why : "ok"));
  REQUIRE(why == nullptr);
  return back;
}

void check_same(const core::Message& a, const core::Message& b) {
  CHECK(a.payload == b.payload);
  CHECK(a.qos == b.qos);
  CHECK(a.expiry_ms == b.expiry_ms);
  CHECK(a.props().content_type == b.props().content_type);
  CHECK(a.props().correlation_data == b.props().correlation_data);
  CHECK(a.props().response_topic == b.props().response_topic);
  REQUIRE(a.props().user_properties.size() == b.props().user_properties.size());
  for (std::size_t i = 0; i < a.props().user_properties.size(); ++i) {
    CHECK(a.props().user_properties[i].name == b.props().user_properties[i].name);
    CHECK(a.props().user_properties[i].value == b.props().user_properties[i].value);
  }
}

std::vector<Header> headers(std::initializer_list<std::pair<std::string_view, std::string_view>> list) {
  std::vector<Header> out;
  for (const auto& [n, v] : list) out.push_back(Header{n, v});
  return out;
}

}  // namespace

// ---- destinations ----------------------------------------------------------

TEST_CASE("topic destinations", "[stomp][topic_map]") {
  Destination d;
  REQUIRE(parse_destination("/topic/a/b/c", DestUse::Send, d) == nullptr);
  CHECK(d.kind == DestKind::Topic);
  CHECK(d.name == "a/b/c");
  REQUIRE(parse_destination("/topic/$SYS/x", DestUse::Send, d) == nullptr);
  CHECK(d.name == "$SYS/x");
  REQUIRE(parse_destination("/topic//", DestUse::Send, d) == nullptr);  // empty levels are MQTT-legal
  CHECK(d.name == "/");

  SECTION("wildcards only when subscribing") {
    for (auto f : {"/topic/a/+/c"sv, "/topic/#"sv, "/topic/a/#"sv, "/topic/+"sv}) {
      INFO(f);
      CHECK(parse_destination(f, DestUse::Subscribe, d) == nullptr);
      CHECK(parse_destination(f, DestUse::Send, d) != nullptr);
      CHECK(parse_destination(f, DestUse::ReplyTo, d) != nullptr);
    }
    CHECK(parse_destination("/topic/a/#/b", DestUse::Subscribe, d) != nullptr);
    CHECK(parse_destination("/topic/a+", DestUse::Subscribe, d) != nullptr);
    CHECK(parse_destination("/topic/a#", DestUse::Subscribe, d) != nullptr);
  }
  SECTION("shared subscriptions") {
    REQUIRE(parse_destination("/topic/$share/g/a/+", DestUse::Subscribe, d) == nullptr);
    CHECK(d.name == "$share/g/a/+");
    CHECK(parse_destination("/topic/$share//a", DestUse::Subscribe, d) != nullptr);
    CHECK(parse_destination("/topic/$share/g/$queue/x", DestUse::Subscribe, d) != nullptr);
  }
  SECTION("errors") {
    CHECK(parse_destination("/topic/", DestUse::Send, d) != nullptr);
    CHECK(parse_destination("/topic/$queue/x", DestUse::Send, d) != nullptr);
    CHECK(parse_destination("/topic/$queue/x", DestUse::Subscribe, d) != nullptr);
    CHECK(parse_destination("/topic/a\0b"sv, DestUse::Send, d) != nullptr);
    CHECK(parse_destination("/topic/\xff", DestUse::Send, d) != nullptr);  // not UTF-8
    CHECK(parse_destination("/topic", DestUse::Send, d) != nullptr);
  }
}

TEST_CASE("queue and temp-queue destinations", "[stomp][topic_map]") {
  Destination d;
  REQUIRE(parse_destination("/queue/orders", DestUse::Send, d) == nullptr);
  CHECK(d.kind == DestKind::Queue);
  CHECK(d.name == "orders");
  CHECK(core_queue_name(d, kOwner) == "orders");
  CHECK(publish_topic(d, kOwner) == "$queue/orders");
  REQUIRE(parse_destination("/queue/a/b.c", DestUse::Subscribe, d) == nullptr);
  CHECK(d.name == "a/b.c");

  REQUIRE(parse_destination("/temp-queue/r1", DestUse::ReplyTo, d) == nullptr);
  CHECK(d.kind == DestKind::TempQueue);
  CHECK(d.name == "r1");
  CHECK(core_queue_name(d, kOwner) == "tmp.stomp-abc-7.r1");
  CHECK(publish_topic(d, kOwner) == "$queue/tmp.stomp-abc-7.r1");

  SECTION("errors") {
    for (auto bad : {"/queue/"sv, "/queue/a+"sv, "/queue/a#b"sv, "/temp-queue/"sv, "/temp-queue/x+"sv})
      CHECK(parse_destination(bad, DestUse::Send, d) != nullptr);
    CHECK(parse_destination("/queue/"s + std::string(201, 'q'), DestUse::Send, d) != nullptr);
    CHECK(parse_destination("/queue/"s + std::string(200, 'q'), DestUse::Send, d) == nullptr);
  }
  SECTION("temp queue names must fit a queue name") {
    const std::string long_name = "/temp-queue/"s + std::string(190, 'n');  // d views into it
    REQUIRE(parse_destination(long_name, DestUse::Send, d) == nullptr);
    CHECK(temp_queue_name(kOwner, d.name).empty());
    CHECK(publish_topic(d, kOwner).empty());
  }
}

TEST_CASE("unknown destination forms are errors", "[stomp][topic_map]") {
  Destination d;
  for (auto bad : {""sv, "foo"sv, "/foo/bar"sv, "topic/a"sv, "/exchange/amq.topic/a"sv, "/amq/queue/x"sv,
                   "/TOPIC/a"sv, "/queue"sv, "/temp-topic/x"sv}) {
    INFO(bad);
    CHECK(parse_destination(bad, DestUse::Send, d) != nullptr);
    CHECK(parse_destination(bad, DestUse::Subscribe, d) != nullptr);
    CHECK(parse_destination(bad, DestUse::ReplyTo, d) != nullptr);
  }
}

TEST_CASE("core names back to destinations", "[stomp][topic_map]") {
  auto dest = [](std::string_view topic, std::string_view owner) {
    std::string out;
    append_destination(topic, owner, out);
    return out;
  };
  CHECK(dest("a/b", kOwner) == "/topic/a/b");
  CHECK(dest("$SYS/x", {}) == "/topic/$SYS/x");
  CHECK(dest("$queue/orders", kOwner) == "/queue/orders");
  CHECK(dest("$queue/tmp.stomp-abc-7.r1", kOwner) == "/temp-queue/r1");
  CHECK(dest("$queue/tmp.stomp-abc-7.r1", {}) == "/queue/tmp.stomp-abc-7.r1");
  CHECK(dest("$queue/tmp.stomp-abc-7.r1", "stomp-abc-8") == "/queue/tmp.stomp-abc-7.r1");
  CHECK(dest("$queue/tmp.stomp-abc-77.r1", kOwner) == "/queue/tmp.stomp-abc-77.r1");

  CHECK(is_foreign_temp_queue("tmp.stomp-abc-8.r", kOwner));
  CHECK_FALSE(is_foreign_temp_queue("tmp.stomp-abc-7.r", kOwner));
  CHECK_FALSE(is_foreign_temp_queue("orders", kOwner));
  CHECK(is_foreign_temp_queue("tmp.stomp-abc-7.", kOwner));  // no name after the owner: not a temp queue of ours

  // Every destination form maps to a core name and back to itself.
  for (auto s : {"/topic/a/b"sv, "/queue/q1"sv, "/temp-queue/r"sv}) {
    Destination d;
    REQUIRE(parse_destination(s, DestUse::Send, d) == nullptr);
    CHECK(dest(publish_topic(d, kOwner), kOwner) == s);
  }
}

// ---- header escaping -------------------------------------------------------

TEST_CASE("header escaping per version parses back the same", "[stomp][topic_map]") {
  const std::pair<std::string, std::string> cases[] = {
      {"plain", "value"},
      {"colon", "a:b:c"},
      {"back\\slash", "x\\y"},
      {"lf", "line1\nline2"},
      {"cr", "a\rb"},
      {"crlf-end", "value\r"},
      {"utf8-\xc3\xa9", "\xe2\x82\xac 100"},
      {"empty", ""},
      {"sp ace", " spaced "},
  };
  for (Version v : kAllVersions) {
    for (const auto& [name, value] : cases) {
      std::string out;
      const bool ok = append_header(name, value, header_escape(v), out);
      INFO("version " << version_string(v) << " header " << name);
      const bool expect_ok = [&] {
        if (v == Version::V1_0) {
          if (name.find(':') != std::string::npos || name.find('\n') != std::string::npos) return false;
          if (value.find('\n') != std::string::npos) return false;
        }
        if (v != Version::V1_2 && !value.empty() && value.back() == '\r') return false;
        return true;
      }();
      CHECK(ok == expect_ok);
      if (!ok) {
        CHECK(out.empty());
        continue;
      }
      Parsed p;
      parse_frame("MESSAGE\n" + out + "\n" + '\0', v, p);
      REQUIRE(p.frame.headers.size() == 1);
      CHECK(p.frame.headers[0].name == name);
      CHECK(p.frame.headers[0].value == value);
    }
  }
  std::string out;
  CHECK_FALSE(append_header("", "x", HeaderEscape::V12, out));
  CHECK_FALSE(append_header("a", "x\0y"sv, HeaderEscape::V12, out));
  CHECK_FALSE(append_header("a:b", "x", HeaderEscape::None, out));
  CHECK(out.empty());
  CHECK(append_header("a:b", "x", HeaderEscape::V11, out));
  CHECK(out == "a\\cb:x\n");
}

// ---- user property names -----------------------------------------------------

TEST_CASE("reserved header names are sorted and found", "[stomp][topic_map]") {
  for (auto n : {"destination", "message-id", "subscription", "ack", "content-length", "content-type", "receipt",
                 "transaction", "reply-to", "expires", "correlation-id", "correlation-id-encoding", "persistent",
                 "priority", "redelivered", "id", "qos", "retain", "retained", "delivery-count", "receipt-id",
                 "message", "version", "heart-beat", "session", "server", "login", "passcode", "host",
                 "accept-version", "prefetch-count", "timestamp", "requeue"}) {
    INFO(n);
    CHECK(is_reserved_header(n));
  }
  for (auto n : {"Destination", "x-user-id", "foo", "", "destination "}) CHECK_FALSE(is_reserved_header(n));
}

TEST_CASE("user property names escape reversibly", "[stomp][topic_map]") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"foo", "foo"},
      {"destination", "x-user-destination"},
      {"content-type", "x-user-content-type"},
      {"x-user-a", "x-user-x-user-a"},
      {"x-user-", "x-user-x-user-"},
      {"", "x-user-"},
      {"x-userfoo", "x-userfoo"},
      {"message-id", "x-user-message-id"},
  };
  for (const auto& [prop, header] : cases) {
    std::string out;
    append_user_header_name(prop, out);
    CHECK(out == header);
    CHECK(user_property_name(out) == prop);
    CHECK_FALSE(is_reserved_header(out));
  }
}

// ---- base64 / printable ------------------------------------------------------

TEST_CASE("base64 round trips and rejects garbage", "[stomp][topic_map]") {
  // RFC 4648 section 10.
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, enc] : vectors) {
    std::string out;
    core::base64_encode(plain, out);
    CHECK(out == enc);
    std::string back;
    REQUIRE(core::base64_decode(enc, back));
    CHECK(back == plain);
  }
  std::mt19937 rng(7);
  for (int len = 0; len < 40; ++len) {
    std::string bytes;
    for (int i = 0; i < len; ++i) bytes.push_back(char(rng() & 0xFF));
    std::string enc, dec;
    core::base64_encode(bytes, enc);
    REQUIRE(core::base64_decode(enc, dec));
    CHECK(dec == bytes);
  }
  std::string out;
  CHECK(core::base64_decode("Zm8", out));  // padding optional
  CHECK(out == "fo");
  for (auto bad : {"Z"sv, "Zm9v!"sv, "Zm=9"sv, "Zg="sv, "Zh=="sv, "Zm9vYmFy===="sv, "Zm 9v"sv}) {
    INFO(bad);
    std::string o = "keep";
    CHECK_FALSE(core::base64_decode(bad, o));
    CHECK(o == "keep");
  }
}

TEST_CASE("printable UTF-8 decides the correlation-id encoding", "[stomp][topic_map]") {
  CHECK(printable_utf8("abc-123"));
  CHECK(printable_utf8(""));
  CHECK(printable_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(printable_utf8("a\nb"));
  CHECK_FALSE(printable_utf8("a\tb"));
  CHECK_FALSE(printable_utf8("a\x7f"));
  CHECK_FALSE(printable_utf8("a\0b"sv));
  CHECK_FALSE(printable_utf8("\xc3"));              // truncated
  CHECK_FALSE(printable_utf8("\xc0\xaf"));          // overlong
  CHECK_FALSE(printable_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(printable_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(printable_utf8("\xff"));
}

// ---- SEND headers -> message -------------------------------------------------

TEST_CASE("SEND headers map to message properties", "[stomp][topic_map]") {
  core::Message m;
  const auto h = headers({{"destination", "/topic/a"},
                          {"content-type", "application/json"},
                          {"content-type", "text/plain"},  // repeated: the first wins
                          {"content-length", "2"},
                          {"receipt", "r1"},
                          {"correlation-id", "req-42"},
                          {"reply-to", "/topic/replies/1"},
                          {"expires", "1700000000123"},
                          {"qos", "2"},
                          {"retain", "true"},
                          {"persistent", "true"},
                          {"priority", "4"},
                          {"k", "v1"},
                          {"k", "v2"},  // user properties keep every occurrence
                          {"x-user-destination", "d"},
                          {"x-user-x-user-z", "z"}});
  REQUIRE(apply_send_headers(h, kOwner, m) == nullptr);
  CHECK(m.props().content_type == "application/json");
  CHECK(m.props().correlation_data == "req-42");
  CHECK(m.props().response_topic == "replies/1");
  CHECK(m.expiry_ms == 1700000000123);
  CHECK(m.qos == 2);
  CHECK(m.retain);
  REQUIRE(m.props().user_properties.size() == 4);
  CHECK(m.props().user_properties[0].name == "k");
  CHECK(m.props().user_properties[0].value == "v1");
  CHECK(m.props().user_properties[1].value == "v2");
  CHECK(m.props().user_properties[2].name == "destination");
  CHECK(m.props().user_properties[3].name == "x-user-z");
}

TEST_CASE("SEND header defaults and reply-to forms", "[stomp][topic_map]") {
  core::Message m;
  REQUIRE(apply_send_headers({}, kOwner, m) == nullptr);
  CHECK(m.qos == 1);
  CHECK_FALSE(m.retain);
  CHECK(m.expiry_ms == 0);
  CHECK(m.props().empty());

  core::Message q;
  auto h = headers({{"reply-to", "/queue/answers"}});
  REQUIRE(apply_send_headers(h, kOwner, q) == nullptr);
  CHECK(q.props().response_topic == "$queue/answers");
  core::Message t;
  h = headers({{"reply-to", "/temp-queue/r"}});
  REQUIRE(apply_send_headers(h, kOwner, t) == nullptr);
  CHECK(t.props().response_topic == "$queue/tmp.stomp-abc-7.r");
  CHECK(headers_depend_on_owner(t, kOwner));
  CHECK_FALSE(headers_depend_on_owner(t, "stomp-abc-8"));
  CHECK_FALSE(headers_depend_on_owner(q, kOwner));

  core::Message b;
  h = headers({{"correlation-id", "AAEC/w=="}, {"correlation-id-encoding", "base64"}});
  REQUIRE(apply_send_headers(h, kOwner, b) == nullptr);
  CHECK(b.props().correlation_data == "\x00\x01\x02\xff"sv);

  core::Message e;
  h = headers({{"expires", "0"}, {"qos", "0"}, {"retain", "false"}});
  REQUIRE(apply_send_headers(h, kOwner, e) == nullptr);
  CHECK(e.expiry_ms == 0);
  CHECK(e.qos == 0);
  CHECK_FALSE(e.retain);
}

TEST_CASE("bad SEND headers are errors", "[stomp][topic_map]") {
  const std::vector<std::pair<std::string_view, std::string_view>> bad = {
      {"reply-to", "/topic/a/+"},     {"reply-to", "nowhere"},        {"reply-to", "/queue/"},
      {"expires", "-1"},              {"expires", "soon"},            {"expires", ""},
      {"qos", "3"},                   {"qos", "01"},                  {"retain", "yes"},
      {"content-type", "\xff"},       {"k\xff", "v"},                 {"k", "\xc0\xaf"},
  };
  for (const auto& [n, v] : bad) {
    INFO(n << ": " << v);
    core::Message m;
    const auto h = headers({{n, v}});
    CHECK(apply_send_headers(h, kOwner, m) != nullptr);
  }
  core::Message m;
  auto h = headers({{"correlation-id", "!!"}, {"correlation-id-encoding", "base64"}});
  CHECK(apply_send_headers(h, kOwner, m) != nullptr);
  h = headers({{"correlation-id", "x"}, {"correlation-id-encoding", "hex"}});
  CHECK(apply_send_headers(h, kOwner, m) != nullptr);
}

// ---- message -> MESSAGE headers -> message ----------------------------------

TEST_CASE("message properties survive MESSAGE -> SEND in every version", "[stomp][topic_map]") {
  core::Message m;
  m.topic = "sensors/t1";
  m.payload = std::string("bin\0ary\n", 8);
  m.qos = 2;
  m.expiry_ms = 1800000000000;
  m.mutable_props().content_type = "application/octet-stream";
  m.mutable_props().response_topic = "replies/x";
  m.mutable_props().user_properties = {{"destination", "not-a-header"}, {"unit", "C"},      {"x-user-q", "1"},
                             {"", "empty name"},               {"message-id", "m"}, {"unit", "F"},
                             {"colon:name", "v:w"},            {"path", "a\\b"}};
  SECTION("printable correlation id") { m.mutable_props().correlation_data = "corr-1"; }
  SECTION("binary correlation id") { m.mutable_props().correlation_data = std::string("\x00\xff\n\x01", 4); }
  SECTION("queue reply-to") { m.mutable_props().response_topic = "$queue/answers"; }
  for (Version v : {Version::V1_1, Version::V1_2}) {
    INFO(version_string(v));
    const core::Message back = round_trip(m, v);
    CHECK(back.topic == m.topic);
    check_same(m, back);
  }
  // 1.0 cannot escape: a name with ':' is left out, the rest survives.
  std::size_t dropped = 0;
  const core::Message back = round_trip(m, Version::V1_0, {}, &dropped);
  CHECK(dropped == 1);
  CHECK(back.topic == m.topic);
  CHECK(back.props().user_properties.size() == m.props().user_properties.size() - 1);
  CHECK(back.props().correlation_data == m.props().correlation_data);
}

TEST_CASE("binary correlation data goes out as base64 with a marker", "[stomp][topic_map]") {
  core::Message m;
  m.topic = "a";
  m.mutable_props().correlation_data = std::string("\x01\x02", 2);
  std::string out;
  append_message_headers(m, HeaderEscape::V12, {}, out);
  CHECK(out.find("correlation-id:AQI=\n") != std::string::npos);
  CHECK(out.find("correlation-id-encoding:base64\n") != std::string::npos);
  m.mutable_props().correlation_data = "plain";
  out.clear();
  append_message_headers(m, HeaderEscape::V12, {}, out);
  CHECK(out.find("correlation-id:plain\n") != std::string::npos);
  CHECK(out.find("correlation-id-encoding") == std::string::npos);
}

TEST_CASE("MESSAGE headers: destination, qos, content-length, owner's temp queues", "[stomp][topic_map]") {
  core::Message m;
  m.topic = "a/b";
  m.payload = "hello";
  std::string out;
  append_message_headers(m, HeaderEscape::V12, {}, out);
  CHECK(out == "destination:/topic/a/b\nqos:0\ncontent-length:5\n\n");

  core::Message q;  // queue messages: the subscription names the destination
  q.topic = "$queue/orders";
  q.qos = 1;
  out.clear();
  append_message_headers(q, HeaderEscape::V12, {}, out);
  CHECK(out == "qos:1\ncontent-length:0\n\n");

  core::Message r;
  r.topic = "x";
  r.mutable_props().response_topic = "$queue/tmp.stomp-abc-7.back";
  out.clear();
  append_message_headers(r, HeaderEscape::V12, kOwner, out);
  CHECK(out.find("reply-to:/temp-queue/back\n") != std::string::npos);
  out.clear();
  append_message_headers(r, HeaderEscape::V12, "someone-else", out);
  CHECK(out.find("reply-to:/queue/tmp.stomp-abc-7.back\n") != std::string::npos);
  // The owner's own reply-to comes back as the same core name.
  CHECK(round_trip(r, Version::V1_2, kOwner).props().response_topic == r.props().response_topic);
}
