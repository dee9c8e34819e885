// junction::core::RetainedStore: set/clear/erase with pruning, filter walks
// with the wildcard and $ rules, and a randomized cross-check against
// topic_matches().
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "retained_store.h"
#include "topic.h"

namespace junction::core {
// Friend of RetainedStore (declared in the header) for white-box checks.
struct RetainedStoreTestAccess {
  static std::size_t nodes(const RetainedStore& s) { return s.node_count(); }
};
}  // namespace junction::core

using namespace junction::core;
using Access = RetainedStoreTestAccess;

namespace {

MessageRef msg(std::string topic, std::string payload) {
  MessageRef m = MessageRef::make();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->retain = true;
  return m;
}

// Multiset so that a topic visited twice shows up.
std::multiset<std::string> matched(RetainedStore& store, std::string_view filter) {
  std::multiset<std::string> out;
  store.match(filter, [&](const MessageRef& m) { out.insert(m->topic); });
  return out;
}

std::multiset<std::string> brute(const std::vector<std::string>& topics, std::string_view filter) {
  std::multiset<std::string> out;
  for (const auto& t : topics)
    if (topic_matches(filter, t)) out.insert(t);
  return out;
}

using Topics = std::multiset<std::string>;

}  // namespace

TEST_CASE("retained: set, replace, clear, find", "[core][retained]") {
  RetainedStore store;
  CHECK(store.size() == 0);
  CHECK_FALSE(store.find("a/b"));
  CHECK_FALSE(store.set(MessageRef()));  // null message: nothing to do

  MessageRef m1 = msg("a/b", "1");
  CHECK_FALSE(store.set(m1));
  CHECK(store.size() == 1);
  CHECK(m1.use_count() == 2);  // ours + the store's
  CHECK(store.find("a/b").get() == m1.get());
  CHECK_FALSE(store.find("a"));
  CHECK_FALSE(store.find("a/b/c"));
  CHECK_FALSE(store.find("a/"));
  CHECK_FALSE(store.find("b"));

  MessageRef m2 = msg("a/b", "2");
  CHECK(store.set(m2).msg.get() == m1.get());
  CHECK(m1.use_count() == 1);
  CHECK(store.size() == 1);
  CHECK(store.find("a/b")->payload == "2");
  CHECK(store.set(m2).msg.get() == m2.get());  // same message again: still one
  CHECK(store.size() == 1);

  // An empty retained payload clears the topic [MQTT-3.3.1-6] and is not stored.
  MessageRef clear = msg("a/b", "");
  CHECK(store.set(clear).msg.get() == m2.get());
  CHECK(store.size() == 0);
  CHECK(m2.use_count() == 1);
  CHECK(clear.use_count() == 1);
  CHECK_FALSE(store.find("a/b"));
  CHECK(Access::nodes(store) == 1);
  CHECK_FALSE(store.set(clear));  // clearing nothing
  CHECK(Access::nodes(store) == 1);
}

TEST_CASE("retained: erase prunes only empty nodes", "[core][retained]") {
  RetainedStore store;
  store.set(msg("a", "1"));
  store.set(msg("a/b/c", "2"));
  store.set(msg("a/b/d", "3"));
  CHECK(store.size() == 3);
  CHECK(Access::nodes(store) == 5);  // root a b c d

  CHECK_FALSE(store.erase("a/b"));    // a node without a message
  CHECK_FALSE(store.erase("a/b/c/d"));
  CHECK_FALSE(store.erase("x"));
  CHECK(Access::nodes(store) == 5);

  MessageRef c = store.erase("a/b/c").msg;
  REQUIRE(c);
  CHECK(c->payload == "2");
  CHECK_FALSE(store.erase("a/b/c"));
  CHECK(store.size() == 2);
  CHECK(Access::nodes(store) == 4);
  CHECK(store.erase("a/b/d"));
  CHECK(Access::nodes(store) == 2);  // b pruned, a keeps its message
  CHECK(store.erase("a"));
  CHECK(Access::nodes(store) == 1);
  CHECK(store.size() == 0);
}

TEST_CASE("retained: filters, spec examples and empty levels", "[core][retained]") {
  const std::vector<std::string> topics{"sport/tennis/player1", "sport/tennis/player1/ranking",
                                        "sport/tennis/player1/score/wimbledon", "sport/tennis/player2", "sport",
                                        "sport/", "/finance", "finance", "$SYS/monitor/Clients", "$SYS", "a//b", "a/",
                                        "/", "a", "a/$b"};
  RetainedStore store;
  for (const auto& t : topics) store.set(msg(t, "p:" + t));
  REQUIRE(store.size() == topics.size());

  CHECK(matched(store, "sport/tennis/player1/#") ==
        Topics{"sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player1/score/wimbledon"});
  CHECK(matched(store, "sport/tennis/+") == Topics{"sport/tennis/player1", "sport/tennis/player2"});
  CHECK(matched(store, "sport/#") == Topics{"sport/tennis/player1", "sport/tennis/player1/ranking",
                                            "sport/tennis/player1/score/wimbledon", "sport/tennis/player2", "sport",
                                            "sport/"});
  CHECK(matched(store, "sport/+") == Topics{"sport/"});
  CHECK(matched(store, "+") == Topics{"sport", "finance", "a"});
  CHECK(matched(store, "+/+") == Topics{"sport/", "/finance", "a/", "/", "a/$b"});
  CHECK(matched(store, "/+") == Topics{"/finance", "/"});
  CHECK(matched(store, "a/+/b") == Topics{"a//b"});
  CHECK(matched(store, "a/#") == Topics{"a//b", "a/", "a", "a/$b"});
  CHECK(matched(store, "a/+") == Topics{"a/", "a/$b"});
  // [MQTT-4.7.2-1]
  CHECK(matched(store, "+/monitor/Clients").empty());
  CHECK(matched(store, "$SYS/#") == Topics{"$SYS/monitor/Clients", "$SYS"});
  CHECK(matched(store, "$SYS/monitor/+") == Topics{"$SYS/monitor/Clients"});
  CHECK(matched(store, "$SYS") == Topics{"$SYS"});
  CHECK(matched(store, "#").count("$SYS") == 0);
  CHECK(matched(store, "#").size() == topics.size() - 2);
  // Exact filters.
  CHECK(matched(store, "sport") == Topics{"sport"});
  CHECK(matched(store, "nothing/here").empty());
  CHECK(matched(store, "sport/tennis").empty());  // interior node, no message

  for (const char* f : {"#", "+", "+/+", "+/#", "sport/#", "$SYS/#", "/#", "+/+/+", "a//#", "+/tennis/#", "$SYS/+"}) {
    INFO(f);
    CHECK(matched(store, f) == brute(topics, f));
  }

  std::multiset<std::string> all;
  store.for_each([&](const MessageRef& m) { all.insert(m->topic); });
  CHECK(all == Topics(topics.begin(), topics.end()));
}

TEST_CASE("retained: visited messages outlive their removal", "[core][retained]") {
  RetainedStore store;
  store.set(msg("a/1", "x"));
  store.set(msg("a/2", "y"));
  std::vector<MessageRef> kept;
  store.match("a/+", [&](const MessageRef& m) { kept.push_back(m); });
  REQUIRE(kept.size() == 2);
  store.erase("a/1");
  store.set(msg("a/2", ""));
  CHECK(store.size() == 0);
  for (const auto& m : kept) CHECK(m.use_count() == 1);
}

TEST_CASE("retained: the visitor may modify the store", "[core][retained]") {
  // The broker's visitor delivers; a delivery can trigger a retained will.
  RetainedStore store;
  for (int i = 0; i < 50; ++i) store.set(msg("a/" + std::to_string(i), "x"));
  std::multiset<std::string> seen;
  store.match("a/#", [&](const MessageRef& m) {
    seen.insert(m->topic);
    store.erase(m->topic);                          // frees the node being visited
    store.set(msg(m->topic + "/new", "y"));          // grows the tree under the walk
    store.set(msg("b/" + m->topic, "z"));
  });
  CHECK(seen.size() == 50);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 50);
  CHECK(store.size() == 100);
  CHECK(matched(store, "a/+").empty());
  CHECK(matched(store, "a/+/new").size() == 50);

  std::size_t visited = 0;
  store.for_each([&](const MessageRef& m) {
    ++visited;
    store.erase(m->topic);
  });
  CHECK(visited == 100);
  CHECK(store.size() == 0);
  CHECK(Access::nodes(store) == 1);
}

TEST_CASE("retained: very deep topics do not recurse per level", "[core][retained]") {
  std::string deep;
  for (int i = 0; i < 30000; ++i) deep += i ? "/a" : "a";
  auto* store = new RetainedStore;
  store->set(msg(deep, "deep"));
  store->set(msg("a", "shallow"));
  CHECK(store->find(deep)->payload == "deep");
  CHECK(matched(*store, "#").size() == 2);
  CHECK(matched(*store, "a/#").size() == 2);
  CHECK(matched(*store, deep).size() == 1);
  delete store;  // iterative teardown of the 30,000-level chain
}

TEST_CASE("retained: randomized cross-check against topic_matches", "[core][retained]") {
  const std::vector<std::string> alphabet{"a", "b", "", "$x"};
  std::mt19937 rng(GENERATE(7u, 8u, 9u));
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  // Random filter (or topic name without wildcards) of 1-4 levels; "" is
  // neither a valid filter nor a valid topic name, so draw again.
  auto make = [&](bool wildcards) {
    std::string s;
    while (s.empty()) {
      std::size_t n = 1 + pick(4);
      for (std::size_t i = 0; i < n; ++i) {
        if (i) s += '/';
        std::size_t r = pick(wildcards ? 7 : 4);
        if (r < 4) {
          s += alphabet[r];
        } else if (r < 6) {
          s += '+';
        } else {
          s += '#';
          break;
        }
      }
    }
    return s;
  };

  RetainedStore store;
  std::map<std::string, MessageRef> model;
  auto model_topics = [&] {
    std::vector<std::string> v;
    for (const auto& kv : model) v.push_back(kv.first);
    return v;
  };
  auto check_filters = [&](int n) {
    const auto topics = model_topics();
    for (int i = 0; i < n; ++i) {
      std::string f = make(true);
      REQUIRE(valid_topic_filter(f));
      INFO("filter '" << f << "'");
      std::multiset<std::string> got;
      store.match(f, [&](const MessageRef& m) {
        got.insert(m->topic);
        CHECK(model.at(m->topic).get() == m.get());
      });
      REQUIRE(got == brute(topics, f));
    }
  };

  for (int i = 0; i < 3000; ++i) {
    std::string t = make(false);
    if (pick(6) == 0) {
      MessageRef old = store.erase(t).msg;
      auto it = model.find(t);
      REQUIRE(old.get() == (it == model.end() ? nullptr : it->second.get()));
      if (it != model.end()) model.erase(it);
    } else {
      bool clear = pick(5) == 0;
      MessageRef m = msg(t, clear ? "" : std::to_string(i));
      MessageRef old = store.set(m).msg;
      auto it = model.find(t);
      REQUIRE(old.get() == (it == model.end() ? nullptr : it->second.get()));
      if (clear) {
        if (it != model.end()) model.erase(it);
      } else {
        model[t] = m;
      }
    }
    REQUIRE(store.size() == model.size());
  }
  for (const auto& [t, m] : model) REQUIRE(store.find(t).get() == m.get());
  check_filters(2000);

  for (const auto& t : model_topics()) REQUIRE(store.erase(t));
  CHECK(store.size() == 0);
  CHECK(Access::nodes(store) == 1);
}
