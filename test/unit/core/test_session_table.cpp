#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <string>

#include "session_table.h"

using namespace junction::core;

TEST_CASE("session table: insert, find, erase and iterate against a model", "[core][sessions]") {
  SessionTable table;
  std::set<std::string> model;
  std::mt19937 rng(GENERATE(1u, 2u));
  auto id = [&] { return "c" + std::to_string(std::uniform_int_distribution<int>(0, 3000)(rng)); };

  for (int step = 0; step < 20000; ++step) {
    const std::string k = id();
    const bool present = model.count(k) != 0;
    REQUIRE((table.find(k) != nullptr) == present);
    if (!present) {
      Session* s = table.insert(std::make_unique<Session>(k));
      REQUIRE(s->client_id == k);
      REQUIRE(table.find(k) == s);
      model.insert(k);
    } else if (step % 3 == 0) {
      table.erase(table.find(k));
      REQUIRE(table.find(k) == nullptr);
      model.erase(k);
    }
    REQUIRE(table.size() == model.size());
  }
  // Iteration visits every session exactly once (also across rehashes).
  std::set<std::string> seen;
  for (Session* s : table) REQUIRE(seen.insert(s->client_id).second);
  CHECK(seen == model);

  table.clear();
  CHECK(table.empty());
  CHECK(table.begin() == table.end());
  CHECK(table.find("c1") == nullptr);
  // Usable again after clear().
  table.insert(std::make_unique<Session>("again"));
  CHECK(table.find("again") != nullptr);
}

TEST_CASE("session table: ids that differ only late, empty id, long ids", "[core][sessions]") {
  SessionTable table;
  const std::string long_a(300, 'a');
  std::string long_b = long_a;
  long_b.back() = 'b';
  for (const std::string& k : {std::string(), std::string("x"), long_a, long_b}) table.insert(std::make_unique<Session>(k));
  CHECK(table.size() == 4);
  CHECK(table.find("")->client_id.empty());
  CHECK(table.find(long_b)->client_id == long_b);
  table.erase(table.find(long_a));
  CHECK(table.find(long_a) == nullptr);
  CHECK(table.find(long_b) != nullptr);
  std::size_t n = 0;
  for (Session* s : table) n += s != nullptr;
  CHECK(n == 3);
}
