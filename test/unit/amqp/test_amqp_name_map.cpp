// Topic <-> routing key mapping: fixed cases, escapes, and random topics that
// must survive topic -> key -> topic unchanged.
#include <catch2/catch.hpp>

#include <random>

#include "amqp_name_map.h"

using namespace junction::amqp;

TEST_CASE("topics map to routing keys level by level", "[amqp][names]") {
  CHECK(topic_to_routing_key("a/b/c") == "a.b.c");
  CHECK(topic_to_routing_key("a") == "a");
  CHECK(topic_to_routing_key("/a//b/") == ".a..b.");
  CHECK(routing_key_to_topic("a.b.c") == "a/b/c");
  CHECK(routing_key_to_topic(".a..b.") == "/a//b/");
  CHECK(filter_to_binding_key("a/+/#") == "a.*.#");
  CHECK(filter_to_binding_key("#") == "#");
  CHECK(filter_to_binding_key("+/x") == "*.x");
  CHECK(binding_key_to_filter("a.*.#") == "a/+/#");
}

TEST_CASE("dots, percent signs and wildcards inside a level are escaped", "[amqp][names]") {
  CHECK(topic_to_routing_key("a.b/c") == "a%2Eb.c");
  CHECK(routing_key_to_topic("a%2Eb.c") == "a.b/c");
  CHECK(routing_key_to_topic("a%2eb.c") == "a.b/c");  // either hex case
  CHECK(topic_to_routing_key("100%/x") == "100%25.x");
  CHECK(topic_to_routing_key("*/a*b") == "%2A.a%2Ab");
  CHECK(topic_to_routing_key("a#") == "a%23");
  // A level "+" in a topic name (not a filter) is literal.
  CHECK(topic_to_routing_key("+") == "+");
  // In a filter, only whole levels are wildcards.
  CHECK(filter_to_binding_key("a+/b.c") == "a+.b%2Ec");
  CHECK(binding_key_to_filter("a%2Ab.*") == "a*b/+");
  // Other % sequences are literal both ways.
  CHECK(routing_key_to_topic("50%.%41%2") == "50%/%41%2");
  CHECK(topic_to_routing_key("%41") == "%2541");
  CHECK(routing_key_to_topic("%2541") == "%41");
}

TEST_CASE("routing keys are limited to 255 octets", "[amqp][names]") {
  CHECK(topic_to_routing_key(std::string(255, 'a')).has_value());
  CHECK_FALSE(topic_to_routing_key(std::string(256, 'a')).has_value());
  CHECK_FALSE(topic_to_routing_key(std::string(100, '.')).has_value());  // 300 after escaping
  CHECK(expand_routing_key("site1.{topic}", "a.b") == "site1.a.b");
  CHECK(expand_routing_key("{topic}", "a") == "a");
  CHECK(expand_routing_key("fixed", "a") == "fixed");
  CHECK(expand_routing_key("{topic}.{topic}", "x") == "x.x");
  CHECK_FALSE(expand_routing_key("p.{topic}", std::string(254, 'a')).has_value());
}

TEST_CASE("random topics round-trip through routing keys", "[amqp][names][property]") {
  std::mt19937 rng(12345);
  const std::string alphabet = "ab./%*#+2EeA5 \x7f\xc3\xa9";
  for (int n = 0; n < 20000; ++n) {
    std::string topic;
    const int len = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < len; ++i) topic.push_back(alphabet[rng() % alphabet.size()]);
    CAPTURE(topic);
    const auto key = topic_to_routing_key(topic);
    REQUIRE(key.has_value());
    REQUIRE(routing_key_to_topic(*key) == topic);
    // Levels stay levels: the key has exactly one word per level.
    std::size_t levels = 1, words = 1;
    for (char c : topic) levels += c == '/';
    for (char c : *key) words += c == '.';
    REQUIRE(levels == words);
  }
}

TEST_CASE("random filters round-trip through binding keys", "[amqp][names][property]") {
  std::mt19937 rng(777);
  const std::vector<std::string> levels = {"+", "a.b", "%", "x*", "", "c", "%2E", "#x"};
  for (int n = 0; n < 5000; ++n) {
    std::string filter;
    const int count = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < count; ++i) {
      if (i) filter += '/';
      filter += levels[rng() % levels.size()];
    }
    if (rng() % 3 == 0) filter += "/#";
    CAPTURE(filter);
    const auto key = filter_to_binding_key(filter);
    REQUIRE(key.has_value());
    REQUIRE(binding_key_to_filter(*key) == filter);
  }
}
