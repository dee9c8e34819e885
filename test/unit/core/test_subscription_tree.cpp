// junction::core::SubscriptionTree: wildcard rules, merging of overlapping
// subscriptions, no-local, shared groups, pruning, allocation-free matching,
// and a randomized cross-check against topic_matches().
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "subscription_tree.h"
#include "topic.h"

namespace junction::core {
// Friend of SubscriptionTree (declared in the header) for white-box checks.
struct SubscriptionTreeTestAccess {
  static std::size_t nodes(const SubscriptionTree& t) { return t.node_count(); }
  static std::pair<std::size_t, std::size_t> scratch_capacity(const SubscriptionTree& t) {
    return {t.frontier_.capacity(), t.next_.capacity()};
  }
};
}  // namespace junction::core

using namespace junction::core;
using Access = SubscriptionTreeTestAccess;

namespace {

struct TestSub : Subscriber {
  explicit TestSub(std::string n) : name(std::move(n)) {}
  std::string name;
};

struct Got {
  std::uint8_t qos = 0;
  bool rap = false;
  std::vector<std::uint32_t> ids;  // sorted
  bool operator==(const Got&) const = default;
};

SubscriptionOptions opts(std::uint8_t qos, std::uint32_t id = 0, bool no_local = false, bool rap = false) {
  SubscriptionOptions o;
  o.qos = qos;
  o.subscription_id = id;
  o.no_local = no_local;
  o.retain_as_published = rap;
  return o;
}

// The result as a map; fails if a subscriber appears twice or has duplicate ids.
std::map<const Subscriber*, Got> collect(const MatchResult& r) {
  std::map<const Subscriber*, Got> out;
  bool unique = true;  // one assertion per call keeps the randomized test fast
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Match& m = r[i];
    Got g{m.qos, m.retain_as_published, m.subscription_ids};
    std::sort(g.ids.begin(), g.ids.end());
    unique = unique && std::adjacent_find(g.ids.begin(), g.ids.end()) == g.ids.end();
    unique = unique && out.emplace(m.subscriber, g).second;
  }
  CHECK(unique);
  return out;
}

std::set<std::string> names(SubscriptionTree& tree, std::string_view topic, const Subscriber* publisher = nullptr) {
  MatchResult r;
  tree.match(topic, publisher, r);
  std::set<std::string> out;
  for (std::size_t i = 0; i < r.size(); ++i) {
    bool inserted = out.insert(static_cast<const TestSub*>(r[i].subscriber)->name).second;
    CHECK(inserted);
  }
  return out;
}

// (filter, group) of each matched group; fails on duplicates.
std::set<std::pair<std::string, std::string>> group_keys(const MatchResult& r) {
  std::set<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < r.group_count(); ++i) {
    bool inserted = out.emplace(r.group(i).filter, r.group(i).group).second;
    CHECK(inserted);
  }
  return out;
}

// One subscriber per filter, named after its filter.
struct FilterFixture {
  SubscriptionTree tree;
  std::vector<std::unique_ptr<TestSub>> subs;
  explicit FilterFixture(const std::vector<std::string>& filters) {
    for (const auto& f : filters) {
      subs.push_back(std::make_unique<TestSub>(f));
      REQUIRE(tree.subscribe(f, "", subs.back().get(), opts(0)));
    }
  }
  std::set<std::string> brute(std::string_view topic) const {
    std::set<std::string> out;
    for (const auto& s : subs)
      if (topic_matches(s->name, topic)) out.insert(s->name);
    return out;
  }
};

using Names = std::set<std::string>;

}  // namespace

TEST_CASE("tree: spec wildcard examples", "[core][trie]") {
  FilterFixture fx({"sport/tennis/player1/#", "sport/tennis/player1", "sport/#", "sport/tennis/+", "sport/+", "+/+", "/+",
                    "+", "#", "+/tennis/#", "$SYS/#", "$SYS/monitor/+", "+/monitor/Clients", "sport/tennis/player1/ranking"});

  CHECK(names(fx.tree, "sport/tennis/player1") ==
        Names{"sport/tennis/player1/#", "sport/tennis/player1", "sport/#", "sport/tennis/+", "#", "+/tennis/#"});
  CHECK(names(fx.tree, "sport/tennis/player1/ranking") ==
        Names{"sport/tennis/player1/#", "sport/#", "#", "+/tennis/#", "sport/tennis/player1/ranking"});
  CHECK(names(fx.tree, "sport/tennis/player1/score/wimbledon") ==
        Names{"sport/tennis/player1/#", "sport/#", "#", "+/tennis/#"});
  CHECK(names(fx.tree, "sport/tennis/player2") == Names{"sport/#", "sport/tennis/+", "#", "+/tennis/#"});
  CHECK(names(fx.tree, "sport") == Names{"sport/#", "+", "#"});
  CHECK(names(fx.tree, "sport/") == Names{"sport/#", "sport/+", "+/+", "#"});
  CHECK(names(fx.tree, "/finance") == Names{"+/+", "/+", "#"});
  CHECK(names(fx.tree, "finance") == Names{"+", "#"});
  // [MQTT-4.7.2-1]
  CHECK(names(fx.tree, "$SYS/monitor/Clients") == Names{"$SYS/#", "$SYS/monitor/+"});
  CHECK(names(fx.tree, "$SYS") == Names{"$SYS/#"});
  CHECK(names(fx.tree, "$SYS/x/y") == Names{"$SYS/#"});
  CHECK(names(fx.tree, "$other/tennis") == Names{});
  CHECK(names(fx.tree, "x/monitor/Clients") == Names{"+/monitor/Clients", "#"});

  for (const char* t : {"sport/tennis/player1", "sport", "sport/", "/finance", "$SYS", "$SYS/monitor/Clients", "/", "a/b/c"}) {
    INFO(t);
    CHECK(names(fx.tree, t) == fx.brute(t));
  }
}

TEST_CASE("tree: empty levels are real levels", "[core][trie]") {
  FilterFixture fx({"a//b", "a/+/b", "a/+", "a/#", "/a", "+/a", "a/", "a", "+/+/+", "/", "/#", "+", "//"});
  CHECK(names(fx.tree, "a//b") == Names{"a//b", "a/+/b", "a/#", "+/+/+"});
  CHECK(names(fx.tree, "/a") == Names{"/a", "+/a", "/#"});
  CHECK(names(fx.tree, "a/") == Names{"a/+", "a/#", "a/"});
  CHECK(names(fx.tree, "a") == Names{"a/#", "a", "+"});
  CHECK(names(fx.tree, "/") == Names{"/", "/#"});
  CHECK(names(fx.tree, "//") == Names{"+/+/+", "/#", "//"});
  for (const char* t : {"a//b", "/a", "a/", "a", "/", "//", "a/b/", "/a/b"}) {
    INFO(t);
    CHECK(names(fx.tree, t) == fx.brute(t));
  }
}

TEST_CASE("tree: overlapping subscriptions are delivered once", "[core][trie]") {
  SubscriptionTree tree;
  TestSub s("s"), other("other");
  REQUIRE(tree.subscribe("a/#", "", &s, opts(0, 1)));
  REQUIRE(tree.subscribe("a/+", "", &s, opts(2, 2)));
  REQUIRE(tree.subscribe("a/b", "", &s, opts(1, 0, false, true)));
  REQUIRE(tree.subscribe("#", "", &s, opts(1, 7)));
  REQUIRE(tree.subscribe("a/b", "", &other, opts(1, 9)));
  CHECK(tree.subscription_count() == 5);

  MatchResult r;
  tree.match("a/b", nullptr, r);
  auto got = collect(r);
  REQUIRE(got.size() == 2);
  CHECK(got[&s] == Got{2, true, {1, 2, 7}});    // max QoS, any RAP, every id
  CHECK(got[&other] == Got{1, false, {9}});

  tree.match("a", nullptr, r);  // "a/#" and "#" only
  got = collect(r);
  REQUIRE(got.size() == 1);
  CHECK(got[&s] == Got{1, false, {1, 7}});

  tree.match("a/b/c", nullptr, r);
  got = collect(r);
  REQUIRE(got.size() == 1);
  CHECK(got[&s] == Got{1, false, {1, 7}});

  SECTION("the same identifier on two filters is reported once") {
    SubscriptionTree t2;
    TestSub x("x");
    t2.subscribe("q/+", "", &x, opts(0, 5));
    t2.subscribe("q/#", "", &x, opts(1, 5));
    t2.match("q/r", nullptr, r);
    got = collect(r);
    CHECK(got[&x] == Got{1, false, {5}});
  }
}

TEST_CASE("tree: no-local [MQTT-3.8.3-3]", "[core][trie]") {
  SubscriptionTree tree;
  TestSub s("s"), other("other");
  tree.subscribe("a/b", "", &s, opts(1, 0, true));
  tree.subscribe("a/b", "", &other, opts(1, 0, true));

  CHECK(names(tree, "a/b", &s) == Names{"other"});
  CHECK(names(tree, "a/b", &other) == Names{"s"});
  CHECK(names(tree, "a/b", nullptr) == Names{"s", "other"});

  // A second, local-allowed subscription of the same session still delivers,
  // with only that subscription's options.
  tree.subscribe("a/+", "", &s, opts(0, 3));
  MatchResult r;
  tree.match("a/b", &s, r);
  auto got = collect(r);
  REQUIRE(got.size() == 2);
  CHECK(got[&s] == Got{0, false, {3}});
  tree.match("a/b", nullptr, r);
  got = collect(r);
  CHECK(got[&s] == Got{1, false, {3}});
}

TEST_CASE("tree: shared groups", "[core][trie]") {
  SubscriptionTree tree;
  TestSub s1("s1"), s2("s2"), s3("s3"), plain("plain");
  REQUIRE(tree.subscribe("a/+", "g1", &s1, opts(1)));
  REQUIRE(tree.subscribe("a/+", "g1", &s2, opts(2)));
  REQUIRE(tree.subscribe("a/+", "g2", &s3, opts(0)));
  REQUIRE(tree.subscribe("a/+", "", &s1, opts(0)));  // separate, non-shared subscription
  CHECK(tree.subscription_count() == 4);

  MatchResult r;
  tree.match("a/b", nullptr, r);
  CHECK(group_keys(r) == std::set<std::pair<std::string, std::string>>{{"a/+", "g1"}, {"a/+", "g2"}});
  REQUIRE(r.size() == 1);
  CHECK(r[0].subscriber == &s1);
  SharedGroup* g1 = nullptr;
  for (std::size_t i = 0; i < r.group_count(); ++i)
    if (r.group(i).group == "g1") g1 = &r.group(i);
  REQUIRE(g1 != nullptr);
  REQUIRE(g1->members.size() == 2);
  CHECK(g1->members[0].subscriber == &s1);
  CHECK(g1->members[1].subscriber == &s2);
  CHECK(g1->members[1].options.qos == 2);

  SECTION("the same group name on another filter is another shared subscription") {
    REQUIRE(tree.subscribe("a/#", "g1", &s3, opts(1)));
    tree.match("a/b", nullptr, r);
    CHECK(group_keys(r) ==
          std::set<std::pair<std::string, std::string>>{{"a/+", "g1"}, {"a/+", "g2"}, {"a/#", "g1"}});
    tree.match("a", nullptr, r);  // only through "a/#", reached once
    REQUIRE(r.group_count() == 1);
    CHECK(r.group(0).filter == "a/#");
    CHECK(r.size() == 0);
    tree.match("a/b/c", nullptr, r);
    CHECK(group_keys(r) == std::set<std::pair<std::string, std::string>>{{"a/#", "g1"}});
  }

  SECTION("root wildcard groups follow the $ rule") {
    REQUIRE(tree.subscribe("#", "all", &s1, opts(0)));
    tree.match("$SYS/x", nullptr, r);
    CHECK(r.group_count() == 0);
    tree.match("x", nullptr, r);
    CHECK(group_keys(r) == std::set<std::pair<std::string, std::string>>{{"#", "all"}});
  }

  SECTION("SharedGroup pointers stay valid while groups are added") {
    for (int i = 0; i < 40; ++i) tree.subscribe("a/+", "extra" + std::to_string(i), &s3, opts(0));
    tree.match("a/b", nullptr, r);
    CHECK(r.group_count() == 42);
    bool found = false;
    for (std::size_t i = 0; i < r.group_count(); ++i) found = found || &r.group(i) == g1;
    CHECK(found);
    CHECK(g1->members.size() == 2);
  }

  SECTION("resubscribing a member replaces its options") {
    CHECK_FALSE(tree.subscribe("a/+", "g1", &s2, opts(0, 11)));
    CHECK(tree.subscription_count() == 4);
    REQUIRE(g1->members.size() == 2);
    CHECK(g1->members[1].options.qos == 0);
    CHECK(g1->members[1].options.subscription_id == 11);
  }

  SECTION("unsubscribing members keeps the round-robin cursor and drops empty groups") {
    REQUIRE(tree.subscribe("a/+", "g1", &s3, opts(0)));  // members s1 s2 s3
    g1->next = 2;                                       // s3 is due
    CHECK_FALSE(tree.unsubscribe("a/+", "g9", &s1));
    CHECK_FALSE(tree.unsubscribe("a/+", "g1", &plain));
    CHECK(tree.unsubscribe("a/+", "g1", &s1));
    REQUIRE(g1->members.size() == 2);
    CHECK(g1->members[g1->next].subscriber == &s3);
    CHECK(tree.unsubscribe("a/+", "g1", &s3));
    CHECK(g1->next == 0);
    CHECK(tree.unsubscribe("a/+", "g1", &s2));  // g1 is destroyed here
    tree.match("a/b", nullptr, r);
    CHECK(group_keys(r) == std::set<std::pair<std::string, std::string>>{{"a/+", "g2"}});
    CHECK(tree.unsubscribe("a/+", "g2", &s3));
    CHECK(tree.unsubscribe("a/+", "", &s1));
    CHECK(tree.subscription_count() == 0);
    CHECK(Access::nodes(tree) == 1);
  }
}

TEST_CASE("tree: resubscribe replaces options", "[core][trie]") {
  SubscriptionTree tree;
  TestSub s("s");
  CHECK(tree.subscribe("a/+", "", &s, opts(0, 1)));
  CHECK_FALSE(tree.subscribe("a/+", "", &s, opts(2, 4, false, true)));
  CHECK(tree.subscription_count() == 1);
  MatchResult r;
  tree.match("a/x", nullptr, r);
  REQUIRE(r.size() == 1);
  CHECK(r[0].qos == 2);
  CHECK(r[0].retain_as_published);
  CHECK(r[0].subscription_ids == std::vector<std::uint32_t>{4});
}

TEST_CASE("tree: unsubscribe removes and prunes", "[core][trie]") {
  SubscriptionTree tree;
  TestSub s("s"), t("t");
  CHECK(Access::nodes(tree) == 1);
  tree.subscribe("a/b/c/d", "", &s, opts(0));
  tree.subscribe("a/b", "", &s, opts(0));
  tree.subscribe("a/+/#", "", &t, opts(0));
  tree.subscribe("a/b/c/d", "", &t, opts(0));
  CHECK(tree.subscription_count() == 4);
  const std::size_t full = Access::nodes(tree);
  CHECK(full == 7);  // root a b c d + #

  CHECK_FALSE(tree.unsubscribe("a/b/c", "", &s));     // node exists, no subscription
  CHECK_FALSE(tree.unsubscribe("a/b/c/d/e", "", &s));  // no node
  CHECK_FALSE(tree.unsubscribe("x", "", &s));
  CHECK_FALSE(tree.unsubscribe("a/b", "g", &s));      // shared vs plain are distinct
  CHECK(Access::nodes(tree) == full);

  CHECK(tree.unsubscribe("a/b/c/d", "", &s));
  CHECK_FALSE(tree.unsubscribe("a/b/c/d", "", &s));   // second time: gone
  CHECK(Access::nodes(tree) == full);                 // t still holds the path
  CHECK(names(tree, "a/b/c/d") == Names{"t"});

  CHECK(tree.unsubscribe("a/b/c/d", "", &t));
  CHECK(Access::nodes(tree) == 5);                    // c and d pruned
  CHECK(tree.unsubscribe("a/+/#", "", &t));
  CHECK(Access::nodes(tree) == 3);                    // + and # pruned
  CHECK(names(tree, "a/b") == Names{"s"});
  CHECK(tree.unsubscribe("a/b", "", &s));
  CHECK(Access::nodes(tree) == 1);
  CHECK(tree.subscription_count() == 0);
  CHECK(names(tree, "a/b").empty());

  // The tree is reusable after being emptied.
  CHECK(tree.subscribe("a/b", "", &s, opts(0)));
  CHECK(names(tree, "a/b") == Names{"s"});
}

TEST_CASE("tree: one filter growing from one subscriber to many and back", "[core][trie]") {
  // A node keeps its first subscriber inline and spills to the heap from the
  // second: every step of growing and shrinking must keep the right set and
  // the right options.
  SubscriptionTree tree;
  std::vector<std::unique_ptr<TestSub>> subs;
  for (int i = 0; i < 9; ++i) subs.push_back(std::make_unique<TestSub>("s" + std::to_string(i)));
  for (int round = 0; round < 3; ++round) {
    Names want;
    for (int i = 0; i < 9; ++i) {
      REQUIRE(tree.subscribe("dev/x", "", subs[i].get(), opts(std::uint8_t(i % 3), std::uint32_t(i + 1))));
      want.insert(subs[i]->name);
      REQUIRE(names(tree, "dev/x") == want);
    }
    // Resubscribing replaces options in place, wherever the entry lives.
    CHECK_FALSE(tree.subscribe("dev/x", "", subs[0].get(), opts(2, 77)));
    MatchResult r;
    tree.match("dev/x", nullptr, r);
    auto got = collect(r);
    CHECK(got[subs[0].get()] == Got{2, false, {77}});
    CHECK(got[subs[8].get()] == Got{2, false, {9}});
    // Remove in an order that depends on the round: first, last, middle.
    std::vector<int> order{0, 8, 4, 1, 7, 2, 6, 3, 5};
    if (round == 1) std::reverse(order.begin(), order.end());
    if (round == 2) std::rotate(order.begin(), order.begin() + 4, order.end());
    for (int i : order) {
      REQUIRE(tree.unsubscribe("dev/x", "", subs[i].get()));
      want.erase(subs[i]->name);
      REQUIRE(names(tree, "dev/x") == want);
    }
    CHECK(Access::nodes(tree) == 1);
  }
}

TEST_CASE("tree: warm match() does not allocate", "[core][trie]") {
  SubscriptionTree tree;
  std::vector<std::unique_ptr<TestSub>> subs;
  for (int i = 0; i < 50; ++i) {
    subs.push_back(std::make_unique<TestSub>("s" + std::to_string(i)));
    TestSub* s = subs.back().get();
    tree.subscribe("a/#", "", s, opts(0, 1));
    tree.subscribe("a/+/c", "", s, opts(1, 2));
    tree.subscribe("+/b/+", "", s, opts(2, 3));
    tree.subscribe("a/b/c", "", s, opts(0, 4));
    tree.subscribe("a/b/c", "g" + std::to_string(i % 5), s, opts(1));
  }
  const std::vector<std::string> topics{"a/b/c", "a", "a/x/c", "z/b/q", "a/b/c/d", "nothing", "$SYS/b/c"};
  MatchResult r;
  for (const auto& t : topics) tree.match(t, nullptr, r);  // warm-up

  auto snapshot = [&] {
    std::vector<std::pair<const void*, std::size_t>> v;
    v.emplace_back(r.matches().data(), r.matches().capacity());
    v.emplace_back(r.groups().data(), r.groups().capacity());
    for (const Match& m : r.matches()) v.emplace_back(m.subscription_ids.data(), m.subscription_ids.capacity());
    auto [fc, nc] = Access::scratch_capacity(tree);
    v.emplace_back(nullptr, fc);
    v.emplace_back(nullptr, nc);
    return v;
  };
  const auto before = snapshot();
  for (int round = 0; round < 20; ++round) {
    for (const auto& t : topics) {
      tree.match(t, nullptr, r);
      if (t == "a/b/c") {
        REQUIRE(r.size() == 50);
        CHECK(r.group_count() == 5);
        CHECK(r[0].subscription_ids.size() == 4);
        CHECK(r[0].qos == 2);
      }
    }
  }
  CHECK(snapshot() == before);
}

TEST_CASE("tree: subscribers shared by two trees", "[core][trie]") {
  // Both trees start at epoch 0, so their epochs collide; the slot check
  // must keep a stale mark from merging into someone else's Match.
  SubscriptionTree ta, tb;
  TestSub s1("s1"), s2("s2");
  ta.subscribe("a", "", &s1, opts(0));
  tb.subscribe("x", "", &s2, opts(0));
  tb.subscribe("x", "", &s1, opts(1));
  MatchResult ra, rb;
  ta.match("a", nullptr, ra);
  tb.match("x", nullptr, rb);
  auto got = collect(rb);
  REQUIRE(got.size() == 2);
  CHECK(got[&s1].qos == 1);
  CHECK(got[&s2].qos == 0);
}

TEST_CASE("tree: very deep filters do not recurse per level", "[core][trie]") {
  const int depth = 30000;  // a 64 KiB filter can have 32768 levels
  std::string deep, plusses, topic;
  for (int i = 0; i < depth; ++i) {
    deep += i ? "/a" : "a";
    plusses += i ? "/+" : "+";
  }
  topic = deep;
  SubscriptionTree* tree = new SubscriptionTree;
  TestSub s("s"), t("t"), u("u");
  REQUIRE(tree->subscribe(deep, "", &s, opts(0)));
  REQUIRE(tree->subscribe(plusses, "", &t, opts(1)));
  REQUIRE(tree->subscribe(deep + "/#", "", &u, opts(2)));
  CHECK(names(*tree, topic) == Names{"s", "t", "u"});
  CHECK(tree->unsubscribe(plusses, "", &t));
  CHECK(Access::nodes(*tree) == static_cast<std::size_t>(depth + 2));
  delete tree;  // iterative teardown of the remaining 30,000-level chain
}

TEST_CASE("tree: randomized cross-check against topic_matches", "[core][trie]") {
  const std::vector<std::string> alphabet{"a", "b", "", "$x"};
  std::mt19937 rng(GENERATE(1u, 2u, 3u));
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

  SubscriptionTree tree;
  std::vector<std::unique_ptr<TestSub>> subs;
  for (int i = 0; i < 150; ++i) subs.push_back(std::make_unique<TestSub>("s" + std::to_string(i)));
  // Model: (filter, group, subscriber) -> options.
  using Key = std::tuple<std::string, std::string, Subscriber*>;
  std::map<Key, SubscriptionOptions> model;
  const std::vector<std::string> groups{"", "", "", "", "g1", "g2"};

  for (int i = 0; i < 3000; ++i) {
    std::string f = make(true);
    REQUIRE(valid_topic_filter(f));
    const std::string& g = groups[pick(groups.size())];
    Subscriber* s = subs[pick(subs.size())].get();
    SubscriptionOptions o = opts(static_cast<std::uint8_t>(pick(3)), static_cast<std::uint32_t>(pick(6)),
                                 g.empty() && pick(4) == 0, pick(2) == 1);
    bool fresh = model.insert_or_assign(Key{f, g, s}, o).second;
    REQUIRE(tree.subscribe(f, g, s, o) == fresh);
  }
  REQUIRE(tree.subscription_count() == model.size());

  MatchResult r;
  auto check_topics = [&](int n) {
    for (int i = 0; i < n; ++i) {
      std::string topic = make(false);
      const Subscriber* publisher = pick(3) == 0 ? subs[pick(subs.size())].get() : nullptr;
      std::map<const Subscriber*, Got> expect;
      std::map<std::pair<std::string, std::string>, std::set<Subscriber*>> expect_groups;
      // The model is ordered by filter first: evaluate each filter once.
      const std::string* last_filter = nullptr;
      bool last_matched = false;
      for (const auto& [key, o] : model) {
        const auto& [f, g, s] = key;
        if (last_filter == nullptr || *last_filter != f) {
          last_filter = &f;
          last_matched = topic_matches(f, topic);
        }
        if (!last_matched) continue;
        if (!g.empty()) {
          expect_groups[{f, g}].insert(s);
          continue;
        }
        if (o.no_local && s == publisher) continue;
        auto [it, fresh] = expect.try_emplace(s);
        Got& e = it->second;
        e.qos = fresh ? o.qos : std::max(e.qos, o.qos);
        e.rap = e.rap || o.retain_as_published;
        if (o.subscription_id && std::find(e.ids.begin(), e.ids.end(), o.subscription_id) == e.ids.end())
          e.ids.push_back(o.subscription_id);
      }
      for (auto& [s, e] : expect) std::sort(e.ids.begin(), e.ids.end());

      tree.match(topic, publisher, r);
      INFO("topic '" << topic << "'");
      REQUIRE(collect(r) == expect);
      std::map<std::pair<std::string, std::string>, std::set<Subscriber*>> got_groups;
      for (std::size_t gi = 0; gi < r.group_count(); ++gi) {
        const SharedGroup& sg = r.group(gi);
        auto& members = got_groups[{sg.filter, sg.group}];
        REQUIRE(members.empty());  // each (filter, group) once
        for (const auto& m : sg.members) members.insert(m.subscriber);
        REQUIRE(members.size() == sg.members.size());
      }
      REQUIRE(got_groups == expect_groups);
    }
  };
  check_topics(1000);

  // Remove about half, checking return values against the model, then recheck.
  std::vector<Key> keys;
  for (const auto& kv : model) keys.push_back(kv.first);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (std::size_t i = 0; i < keys.size() / 2; ++i) {
    const auto& [f, g, s] = keys[i];
    REQUIRE(tree.unsubscribe(f, g, s));
    REQUIRE_FALSE(tree.unsubscribe(f, g, s));
    model.erase(keys[i]);
  }
  // Misses: a random filter/group/subscriber not in the model.
  for (int i = 0; i < 500; ++i) {
    std::string f = make(true);
    const std::string& g = groups[pick(groups.size())];
    Subscriber* s = subs[pick(subs.size())].get();
    if (model.count(Key{f, g, s})) continue;
    REQUIRE_FALSE(tree.unsubscribe(f, g, s));
  }
  REQUIRE(tree.subscription_count() == model.size());
  check_topics(500);

  for (const auto& kv : model) {
    const auto& [f, g, s] = kv.first;
    REQUIRE(tree.unsubscribe(f, g, s));
  }
  CHECK(tree.subscription_count() == 0);
  CHECK(Access::nodes(tree) == 1);
}
