// FlatStringMap: the same map in its array form and, past kSmallMax
// entries, its std::map form (and back below kSmallMin): key order, find,
// emplace keeping an existing entry, erase, values changed through
// iterators, against std::map as the reference.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "flat_map.h"

using junction::core::FlatStringMap;

namespace {

std::vector<std::pair<std::string, int>> contents(const FlatStringMap<int>& m) {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [k, v] : m) out.emplace_back(k, v);
  return out;
}

std::vector<std::pair<std::string, int>> contents(const std::map<std::string, int>& m) {
  return {m.begin(), m.end()};
}

}  // namespace

TEST_CASE("flat map: array form, map form and back agree with std::map", "[flat_map]") {
  FlatStringMap<int> m;
  std::map<std::string, int> ref;
  std::mt19937 rng(7);
  const int n = GENERATE(10, 70, 1000);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < n; ++i) {
      const std::string k = "k/" + std::to_string(rng() % (2 * n));
      auto [it, added] = m.emplace(k, i);
      auto [rit, radded] = ref.emplace(k, i);
      REQUIRE(added == radded);
      REQUIRE(it->first == k);
      REQUIRE(it->second == rit->second);
    }
    REQUIRE(m.size() == ref.size());
    REQUIRE(contents(m) == contents(ref));
    for (auto it = m.begin(); it != m.end(); ++it) it->second += 1;
    for (auto& [k, v] : ref) v += 1;
    REQUIRE(contents(m) == contents(ref));
    // Erase most of them again (crossing back under kSmallMin).
    for (int i = 0; i < 2 * n; ++i) {
      if (i % 7 == 0) continue;
      const std::string k = "k/" + std::to_string(i);
      auto it = m.find(k);
      REQUIRE((it != m.end()) == (ref.count(k) == 1));
      if (it != m.end()) {
        m.erase(it);
        ref.erase(k);
      }
    }
    REQUIRE(contents(m) == contents(ref));
    const FlatStringMap<int>& cm = m;
    for (const auto& [k, v] : ref) REQUIRE(cm.find(k)->second == v);
    REQUIRE(cm.find("absent") == cm.end());
  }
  m.clear();
  CHECK(m.empty());
  CHECK(m.begin() == m.end());
}

TEST_CASE("flat map: crossing the threshold keeps every entry", "[flat_map]") {
  FlatStringMap<int> m;
  constexpr int kMax = static_cast<int>(FlatStringMap<int>::kSmallMax);
  for (int i = kMax + 5; i-- > 0;) m.emplace("f" + std::to_string(1000 + i), i);
  REQUIRE(m.size() == kMax + 5);
  int expect = 0;
  for (const auto& [k, v] : m) {
    CHECK(k == "f" + std::to_string(1000 + expect));
    CHECK(v == expect++);
  }
  while (m.size() > 1) m.erase(m.begin());
  CHECK(m.begin()->first == "f" + std::to_string(1000 + kMax + 4));
  m.erase(m.find("f" + std::to_string(1000 + kMax + 4)));
  CHECK(m.empty());
}
