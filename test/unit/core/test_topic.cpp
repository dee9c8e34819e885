// junction::core topic validation and topic_matches().
// topic_matches() is the oracle for the trie tests, so it is itself checked
// against the spec's examples and a second, naive matcher written here.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "topic.h"

using namespace junction::core;
using namespace std::string_literals;

namespace {

std::vector<std::string> split_levels(std::string_view s) {
  std::vector<std::string> out;
  for_each_level(s, [&](std::string_view l) { out.emplace_back(l); });
  return out;
}

// Naive recursive matcher over split levels (independent of topic.cpp).
bool naive_match_from(const std::vector<std::string>& f, std::size_t fi, const std::vector<std::string>& t,
                      std::size_t ti) {
  if (fi == f.size()) return ti == t.size();
  if (f[fi] == "#") return true;
  if (ti == t.size()) return false;
  if (f[fi] != "+" && f[fi] != t[ti]) return false;
  return naive_match_from(f, fi + 1, t, ti + 1);
}

bool naive_match(std::string_view filter, std::string_view topic) {
  auto f = split_levels(filter);
  auto t = split_levels(topic);
  if (!topic.empty() && topic[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  return naive_match_from(f, 0, t, 0);
}

}  // namespace

TEST_CASE("for_each_level yields empty levels", "[core][topic]") {
  CHECK(split_levels("a/b") == std::vector<std::string>{"a", "b"});
  CHECK(split_levels("a//b") == std::vector<std::string>{"a", "", "b"});
  CHECK(split_levels("/a") == std::vector<std::string>{"", "a"});
  CHECK(split_levels("a/") == std::vector<std::string>{"a", ""});
  CHECK(split_levels("/") == std::vector<std::string>{"", ""});
  CHECK(split_levels("") == std::vector<std::string>{""});
}

TEST_CASE("valid_topic_name", "[core][topic]") {
  CHECK(valid_topic_name("a"));
  CHECK(valid_topic_name("a/b/c"));
  CHECK(valid_topic_name("/"));
  CHECK(valid_topic_name("a//b"));
  CHECK(valid_topic_name("/finance"));
  CHECK(valid_topic_name("a/"));
  CHECK(valid_topic_name("$SYS/broker"));
  CHECK(valid_topic_name("$share/g/a"));  // only filters are special
  CHECK(valid_topic_name(" "));

  CHECK_FALSE(valid_topic_name(""));
  CHECK_FALSE(valid_topic_name("+"));
  CHECK_FALSE(valid_topic_name("a/+"));
  CHECK_FALSE(valid_topic_name("a+b"));
  CHECK_FALSE(valid_topic_name("#"));
  CHECK_FALSE(valid_topic_name("a/#"));
  CHECK_FALSE(valid_topic_name("a#"));
  CHECK_FALSE(valid_topic_name("a\0b"s));
  CHECK_FALSE(valid_topic_name("\0"s));

  CHECK(valid_topic_name(std::string(kMaxTopicLength, 'x')));
  CHECK_FALSE(valid_topic_name(std::string(kMaxTopicLength + 1, 'x')));
}

TEST_CASE("valid_topic_filter", "[core][topic]") {
  for (const char* ok : {"a", "a/b", "#", "+", "a/#", "a/+", "+/+", "/+", "+/", "+/#", "a/+/c/#", "sport/tennis/player1/#",
                         "/", "a//b", "//", "$SYS/#", "$SYS/monitor/+", "$share", "$sharex/g/a", "$SHARE/g/a", "$"}) {
    INFO(ok);
    CHECK(valid_topic_filter(ok));
  }
  for (const char* bad : {"", "a#", "#a", "a/#/b", "#/a", "##", "a/##", "a+", "+a", "a/b+/c", "++", "sport/tennis#",
                          "$share/g/a", "$share/g/#", "$share/"}) {
    INFO(bad);
    CHECK_FALSE(valid_topic_filter(bad));
  }
  CHECK_FALSE(valid_topic_filter("a/\0"s));
  CHECK(valid_topic_filter(std::string(kMaxTopicLength, 'a')));
  CHECK_FALSE(valid_topic_filter(std::string(kMaxTopicLength + 1, 'a')));
}

TEST_CASE("split_shared", "[core][topic]") {
  std::string_view group, filter;

  SECTION("shared forms") {
    std::string_view full = "$share/g1/a/b";
    REQUIRE(split_shared(full, group, filter) == SharedParse::Shared);
    CHECK(group == "g1");
    CHECK(filter == "a/b");
    // Views into the argument, no copies.
    CHECK(group.data() == full.data() + 7);
    CHECK(filter.data() == full.data() + 10);

    REQUIRE(split_shared("$share/g/#", group, filter) == SharedParse::Shared);
    CHECK(group == "g");
    CHECK(filter == "#");
    REQUIRE(split_shared("$share/g/+/x/", group, filter) == SharedParse::Shared);
    CHECK(filter == "+/x/");
    REQUIRE(split_shared("$share/g//", group, filter) == SharedParse::Shared);
    CHECK(filter == "/");
    REQUIRE(split_shared("$share/g/$SYS/#", group, filter) == SharedParse::Shared);
    CHECK(filter == "$SYS/#");
  }

  SECTION("invalid shared forms") {
    for (const char* bad : {"$share/", "$share/g", "$share//a", "$share/g/", "$share/g+/a", "$share/+/a", "$share/g#/a",
                            "$share/#/a", "$share/g/a/#/b", "$share/g/a+", "$share/g/$share/h/a"}) {
      INFO(bad);
      CHECK(split_shared(bad, group, filter) == SharedParse::Invalid);
    }
    CHECK(split_shared("$share/g/a\0"s, group, filter) == SharedParse::Invalid);
  }

  SECTION("not shared") {
    for (const char* plain : {"$share", "$sharex/g/a", "$SHARE/g/a", "a/$share/g/b", "share/g/a", "#", "a/b"}) {
      INFO(plain);
      CHECK(split_shared(plain, group, filter) == SharedParse::NotShared);
      CHECK(group.empty());
      CHECK(filter == plain);
    }
  }
}

TEST_CASE("topic_matches: spec wildcard examples", "[core][topic]") {
  // [MQTT-4.7.1] multi-level wildcard.
  CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
  CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis/player2"));
  CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis"));
  CHECK(topic_matches("sport/#", "sport"));
  CHECK(topic_matches("#", "sport"));
  CHECK(topic_matches("#", "sport/tennis"));

  // Single-level wildcard.
  CHECK(topic_matches("sport/tennis/+", "sport/tennis/player1"));
  CHECK(topic_matches("sport/tennis/+", "sport/tennis/player2"));
  CHECK_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
  CHECK_FALSE(topic_matches("sport/+", "sport"));
  CHECK(topic_matches("sport/+", "sport/"));
  CHECK(topic_matches("+", "sport"));
  CHECK(topic_matches("+/tennis/#", "sport/tennis/player1"));
  CHECK(topic_matches("+/+", "/finance"));
  CHECK(topic_matches("/+", "/finance"));
  CHECK_FALSE(topic_matches("+", "/finance"));
  CHECK(topic_matches("sport/+/player1", "sport/tennis/player1"));

  // Case-sensitive, no partial levels.
  CHECK_FALSE(topic_matches("ACCOUNTS", "Accounts"));
  CHECK_FALSE(topic_matches("sport", "sport/tennis"));
  CHECK_FALSE(topic_matches("sport/tennis", "sport"));
  CHECK_FALSE(topic_matches("spor", "sport"));
  CHECK_FALSE(topic_matches("sport/tennis", "sport/tennisball"));
}

TEST_CASE("topic_matches: $ topics [MQTT-4.7.2-1]", "[core][topic]") {
  CHECK_FALSE(topic_matches("#", "$SYS/monitor/Clients"));
  CHECK_FALSE(topic_matches("#", "$SYS"));
  CHECK_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
  CHECK_FALSE(topic_matches("+", "$SYS"));
  CHECK_FALSE(topic_matches("+/#", "$SYS/x"));
  CHECK_FALSE(topic_matches("+", "$"));
  CHECK(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
  CHECK(topic_matches("$SYS/#", "$SYS"));
  CHECK(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
  CHECK(topic_matches("$SYS/+/Clients", "$SYS/monitor/Clients"));
  CHECK(topic_matches("$", "$"));
  // Only the first level is special.
  CHECK(topic_matches("a/+", "a/$b"));
  CHECK(topic_matches("a/#", "a/$b/c"));
  CHECK(topic_matches("+/$b", "a/$b"));
}

TEST_CASE("topic_matches: empty levels are levels", "[core][topic]") {
  CHECK(topic_matches("a//b", "a//b"));
  CHECK(topic_matches("a/+/b", "a//b"));
  CHECK_FALSE(topic_matches("a/b", "a//b"));
  CHECK_FALSE(topic_matches("a/+", "a//b"));
  CHECK(topic_matches("a/#", "a//b"));
  CHECK(topic_matches("/a", "/a"));
  CHECK(topic_matches("+/a", "/a"));
  CHECK_FALSE(topic_matches("a", "/a"));
  CHECK(topic_matches("a/", "a/"));
  CHECK(topic_matches("a/+", "a/"));
  CHECK(topic_matches("a/#", "a/"));
  CHECK_FALSE(topic_matches("a", "a/"));
  CHECK_FALSE(topic_matches("a/", "a"));
  CHECK(topic_matches("#", "/"));
  CHECK(topic_matches("+/+", "/"));
  CHECK(topic_matches("/", "/"));
  CHECK(topic_matches("/#", "/"));
  CHECK_FALSE(topic_matches("+", "/"));
  CHECK(topic_matches("+/+/+", "//"));
}

TEST_CASE("topic_matches agrees with a naive matcher", "[core][topic]") {
  const std::vector<std::string> levels{"a", "b", "", "$x"};
  std::mt19937 rng(12345);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  // Random filter (or topic name without wildcards) of 1-4 levels; "" is
  // neither a valid filter nor a valid topic name, so draw again.
  auto make = [&](bool wildcards) {
    std::string s;
    while (s.empty()) {
      std::size_t n = 1 + pick(4);
      for (std::size_t i = 0; i < n; ++i) {
        if (i) s += '/';
        std::size_t r = pick(wildcards ? 6 : 4);
        if (r < 4) {
          s += levels[r];
        } else if (r == 4) {
          s += '+';
        } else {
          s += '#';
          break;
        }
      }
    }
    return s;
  };
  int matched = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string f = make(true);
    std::string t = make(false);
    REQUIRE(valid_topic_filter(f));
    bool expect = naive_match(f, t);
    INFO("filter '" << f << "' topic '" << t << "'");
    REQUIRE(topic_matches(f, t) == expect);
    matched += expect;
  }
  CHECK(matched > 1000);  // the alphabet is small enough to hit both outcomes
}

TEST_CASE("$SYS topics: exactly $SYS and what lies under it", "[core][topic][sys]") {
  CHECK(junction::core::is_sys_topic("$SYS"));
  CHECK(junction::core::is_sys_topic("$SYS/"));
  CHECK(junction::core::is_sys_topic("$SYS/broker/uptime"));
  CHECK_FALSE(junction::core::is_sys_topic(""));
  CHECK_FALSE(junction::core::is_sys_topic("$SY"));
  CHECK_FALSE(junction::core::is_sys_topic("$SYSTEM/x"));
  CHECK_FALSE(junction::core::is_sys_topic("$sys/x"));
  CHECK_FALSE(junction::core::is_sys_topic("a/$SYS"));
  CHECK_FALSE(junction::core::is_sys_topic("$share/g/$SYS/x"));
}
