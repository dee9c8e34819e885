// Helpers shared by the store tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "store.h"

namespace junction::store::test {

using Rows = std::vector<std::pair<std::string, std::string>>;

inline Rows dump(Store& s, Table t) {
  Rows rows;
  s.scan(t, [&](std::string_view k, std::string_view v) { rows.emplace_back(std::string(k), std::string(v)); });
  return rows;
}

// Waits for everything submitted and returns the results not yet taken.
inline std::vector<CommitResult> drain(Store& s) {
  s.flush();
  std::vector<CommitResult> out;
  s.take_completed(out);
  return out;
}

inline StoreError commit(Store& s, Batch b, std::uint64_t seq) {
  s.submit(std::move(b), seq);
  const auto results = drain(s);
  REQUIRE(results.size() == 1);
  CHECK(results[0].seq == seq);
  return results[0].error;
}

}  // namespace junction::store::test
