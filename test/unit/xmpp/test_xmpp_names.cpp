// Name escaping (topic <-> localpart, topic <-> node), JID parsing, base64
// and the XEP-0114 handshake digest.
#include <catch2/catch.hpp>

#include <random>

#include "base64.h"
#include "xmpp_handshake.h"
#include "xmpp_names.h"

using namespace junction::xmpp;

TEST_CASE("topic <-> localpart: XEP-0106 escapes plus case and non-ASCII", "[xmpp][names]") {
  CHECK(topic_to_localpart("sensors/room1/temp") == "sensors\\2froom1\\2ftemp");
  CHECK(topic_to_localpart("a b\"&'/:<>@\\") == "a\\20b\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c");
  CHECK(topic_to_localpart("Room") == "\\52oom");
  CHECK(topic_to_localpart("caf\xC3\xA9") == "caf\\c3\\a9");
  CHECK(topic_to_localpart("a/+/#") == "a\\2f+\\2f#");
  CHECK(localpart_to_topic("sensors\\2froom1") == "sensors/room1");
  CHECK(localpart_to_topic("SENSORS\\2F") == "SENSORS/");     // upper-case hex accepted
  CHECK(localpart_to_topic("a\\zz\\") == "a\\zz\\");          // not an escape: kept
  CHECK(localpart_to_topic("caf\xC3\xA9") == "caf\xC3\xA9");   // typed by a user
}

TEST_CASE("topic <-> node: only backslash and controls escaped", "[xmpp][names]") {
  CHECK(topic_to_node("a/+/#") == "a/+/#");
  CHECK(topic_to_node("A b/\xC3\xA9") == "A b/\xC3\xA9");
  CHECK(topic_to_node("a\\b\x01") == "a\\5cb\\01");
  CHECK(node_to_topic("a\\5cb\\01") == "a\\b\x01");
}

TEST_CASE("escaping round trips for arbitrary topics", "[xmpp][names]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string t(rng() % 40, '\0');
    for (char& c : t) c = static_cast<char>(1 + rng() % 255);
    INFO(t);
    REQUIRE(localpart_to_topic(topic_to_localpart(t)) == t);
    REQUIRE(node_to_topic(topic_to_node(t)) == t);
    // A localpart is always something servers keep as it is.
    for (char c : topic_to_localpart(t)) {
      REQUIRE(static_cast<unsigned char>(c) > 0x20);
      REQUIRE(static_cast<unsigned char>(c) < 0x7F);
      REQUIRE(!(c >= 'A' && c <= 'Z'));
      REQUIRE(std::string_view("\"&'/:<>@").find(c) == std::string_view::npos);
    }
  }
}

TEST_CASE("JID parsing", "[xmpp][names]") {
  Jid j;
  REQUIRE(parse_jid("user@localhost/res/with@at", j));
  CHECK(j.local == "user");
  CHECK(j.domain == "localhost");
  CHECK(j.resource == "res/with@at");
  REQUIRE(parse_jid("gw.localhost", j));
  CHECK(j.local.empty());
  CHECK_FALSE(j.has_resource);
  CHECK_FALSE(parse_jid("", j));
  CHECK_FALSE(parse_jid("@x", j));
  CHECK_FALSE(parse_jid("a@", j));
  CHECK_FALSE(parse_jid("a@b/", j));
  CHECK(bare_jid("a@b/c") == "a@b");
  CHECK(bare_jid("a@b") == "a@b");
}

TEST_CASE("base64", "[xmpp][base64]") {
  std::string out;
  junction::core::base64_encode("foobar", out);
  CHECK(out == "Zm9vYmFy");
  out.clear();
  junction::core::base64_encode("fo", out);
  CHECK(out == "Zm8=");
  std::string back;
  CHECK(junction::core::base64_decode("Zm8=", back, junction::core::Base64Spaces::Skip));
  CHECK(back == "fo");
  back.clear();
  CHECK(junction::core::base64_decode(" Zm9v\nYmFy ", back, junction::core::Base64Spaces::Skip));
  CHECK(back == "foobar");
  back.clear();
  CHECK_FALSE(junction::core::base64_decode("Zm9v!", back, junction::core::Base64Spaces::Skip));
  back.clear();
  CHECK_FALSE(junction::core::base64_decode("Z", back, junction::core::Base64Spaces::Skip));
  back.clear();
  CHECK_FALSE(junction::core::base64_decode("Zg=A", back, junction::core::Base64Spaces::Skip));
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string b(rng() % 50, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    std::string e, d;
    junction::core::base64_encode(b, e);
    REQUIRE(junction::core::base64_decode(e, d, junction::core::Base64Spaces::Skip));
    REQUIRE(d == b);
  }
}

TEST_CASE("handshake digest is SHA-1 hex of id + secret", "[xmpp][handshake]") {
  // FIPS 180 test vector: SHA-1("abc").
  CHECK(handshake_digest("ab", "c") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(handshake_digest("", "") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(handshake_digest("3BF96D32", "secret").size() == 40);
}
