// The Store conformance suite: every case runs against MemStore and against
// LmdbStore in both durability modes. A new Store must pass it unchanged.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "lmdb_store.h"
#include "mem_store.h"
#include "store.h"
#include "store_test_util.h"
#include "temp_dir.h"

using namespace junction::store;
using namespace junction::store::test;

namespace {

struct MemFixture {
  MemStore impl;
  Store& store() { return impl; }
};

template <Durability D>
struct LmdbFixture {
  TempDir dir;
  LmdbStore impl{LmdbOptions{.path = dir.path(), .durability = D}};
  Store& store() { return impl; }
};
using LmdbSync = LmdbFixture<Durability::Sync>;
using LmdbBatch = LmdbFixture<Durability::Batch>;

Batch put(Table t, std::string_view k, std::string_view v) {
  Batch b;
  b.put(t, k, v);
  return b;
}

}  // namespace

#define STORE_TEST(name) TEMPLATE_TEST_CASE("store conformance: " name, "[store][conformance]", MemFixture, LmdbSync, LmdbBatch)

STORE_TEST("put, overwrite, erase") {
  TestType f;
  Store& s = f.store();
  CHECK(dump(s, Table::Sessions).empty());
  CHECK(commit(s, put(Table::Sessions, "a", "1"), 1) == StoreError::Ok);
  CHECK(dump(s, Table::Sessions) == Rows{{"a", "1"}});
  CHECK(commit(s, put(Table::Sessions, "a", "2"), 2) == StoreError::Ok);
  CHECK(dump(s, Table::Sessions) == Rows{{"a", "2"}});
  Batch e;
  e.erase(Table::Sessions, "a");
  e.erase(Table::Sessions, "never-existed");  // not an error
  CHECK(commit(s, std::move(e), 3) == StoreError::Ok);
  CHECK(dump(s, Table::Sessions).empty());
}

STORE_TEST("binary keys and values, empty value") {
  TestType f;
  Store& s = f.store();
  const std::string key("k\0\xff", 3), value("\0\x01\x80", 3);
  Batch b;
  b.put(Table::InboundHeld, key, value);
  b.put(Table::InboundHeld, "empty", "");
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  CHECK(dump(s, Table::InboundHeld) == Rows{{"empty", ""}, {key, value}});
}

STORE_TEST("later op on the same key in a batch wins") {
  TestType f;
  Store& s = f.store();
  Batch b;
  b.put(Table::Retained, "x", "first");
  b.put(Table::Retained, "x", "second");
  b.put(Table::Retained, "y", "gone");
  b.erase(Table::Retained, "y");
  b.erase(Table::Retained, "z");
  b.put(Table::Retained, "z", "back");
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  CHECK(dump(s, Table::Retained) == Rows{{"x", "second"}, {"z", "back"}});
}

STORE_TEST("tables are separate key spaces") {
  TestType f;
  Store& s = f.store();
  Batch b;
  b.put(Table::Sessions, "same", "session");
  b.put(Table::Retained, "same", "retained");
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  CHECK(dump(s, Table::Sessions) == Rows{{"same", "session"}});
  CHECK(dump(s, Table::Retained) == Rows{{"same", "retained"}});
  CHECK(dump(s, Table::Messages).empty());
}

STORE_TEST("scan visits keys in order; u64 keys sort numerically") {
  TestType f;
  Store& s = f.store();
  Batch b;
  for (std::uint64_t id : {256ULL, 1ULL, 1ULL << 40, 5ULL, 0ULL, ~0ULL}) b.put(Table::Messages, u64_key(id), std::to_string(id));
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  std::vector<std::uint64_t> ids;
  s.scan(Table::Messages, [&](std::string_view k, std::string_view) { ids.push_back(u64_from_key(k)); });
  CHECK(ids == std::vector<std::uint64_t>{0, 1, 5, 256, 1ULL << 40, ~0ULL});
}

STORE_TEST("scan_from resumes in chunks from a key; get reads one record") {
  TestType f;
  Store& s = f.store();
  Batch b;
  for (std::uint64_t id = 1; id <= 25; ++id) b.put(Table::Retained, u64_key(id * 2), std::to_string(id));
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  std::vector<std::uint64_t> ids;
  std::string from;  // empty: from the first key
  for (int rounds = 0; rounds < 10; ++rounds) {
    std::uint64_t last = 0;
    std::size_t n = s.scan_from(Table::Retained, from, 10, [&](std::string_view k, std::string_view) {
      last = u64_from_key(k);
      ids.push_back(last);
    });
    if (n < 10) break;
    from = u64_key(last + 1);  // the next key, which need not exist
  }
  REQUIRE(ids.size() == 25);
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(ids[i] == (i + 1) * 2);
  // From a key between records, and past the end.
  std::vector<std::uint64_t> tail;
  CHECK(s.scan_from(Table::Retained, u64_key(47), 100, [&](std::string_view k, std::string_view) {
    tail.push_back(u64_from_key(k));
  }) == 2);
  CHECK(tail == std::vector<std::uint64_t>{48, 50});
  CHECK(s.scan_from(Table::Retained, u64_key(51), 100, [](std::string_view, std::string_view) {}) == 0);
  CHECK(s.scan_from(Table::Messages, {}, 100, [](std::string_view, std::string_view) {}) == 0);

  std::string v;
  CHECK(s.get(Table::Retained, u64_key(8), v));
  CHECK(v == "4");
  CHECK_FALSE(s.get(Table::Retained, u64_key(7), v));
  CHECK_FALSE(s.get(Table::Messages, u64_key(8), v));
  std::string last;
  CHECK(s.last_key(Table::Retained, last));
  CHECK(last == u64_key(50));
  CHECK_FALSE(s.last_key(Table::Messages, last));
}

STORE_TEST("batches complete in seq order") {
  TestType f;
  Store& s = f.store();
  for (std::uint64_t seq = 1; seq <= 20; ++seq) s.submit(put(Table::Messages, u64_key(seq), "m"), seq);
  std::vector<CommitResult> results;
  results.push_back(CommitResult{0, StoreError::Io});  // take_completed appends
  s.flush();
  s.take_completed(results);
  REQUIRE(results.size() == 21);
  for (std::uint64_t seq = 1; seq <= 20; ++seq) {
    CHECK(results[seq].seq == seq);
    CHECK(results[seq].error == StoreError::Ok);
  }
  std::vector<CommitResult> again;
  s.take_completed(again);
  CHECK(again.empty());
}

STORE_TEST("notifier fires; a cleared notifier does not") {
  TestType f;
  Store& s = f.store();
  std::atomic<int> calls{0};
  s.set_notifier([&] { calls.fetch_add(1); });
  s.submit(put(Table::Meta, "k", "v"), 1);
  s.flush();
  CHECK(calls.load() >= 1);
  s.set_notifier({});
  const int before = calls.load();
  s.submit(put(Table::Meta, "k", "w"), 2);
  CHECK(drain(s).size() == 2);
  CHECK(calls.load() == before);
}

STORE_TEST("many batches submitted quickly are all committed") {
  TestType f;
  Store& s = f.store();
  constexpr std::uint64_t kBatches = 2000;
  for (std::uint64_t seq = 1; seq <= kBatches; ++seq) {
    Batch b;
    b.put(Table::SessionEntries, "c" + u64_key(seq), "e");
    b.put(Table::Messages, u64_key(seq), "m");
    s.submit(std::move(b), seq);
  }
  const auto results = drain(s);
  REQUIRE(results.size() == kBatches);
  bool in_order = true, all_ok = true;
  for (std::uint64_t i = 0; i < kBatches; ++i) {
    in_order = in_order && results[i].seq == i + 1;
    all_ok = all_ok && results[i].error == StoreError::Ok;
  }
  CHECK(in_order);
  CHECK(all_ok);
  CHECK(dump(s, Table::Messages).size() == kBatches);
  CHECK(dump(s, Table::SessionEntries).size() == kBatches);
}

STORE_TEST("empty batch completes") {
  TestType f;
  Store& s = f.store();
  CHECK(commit(s, Batch{}, 7) == StoreError::Ok);
}

STORE_TEST("a batch with an invalid key fails alone and applies nothing") {
  TestType f;
  Store& s = f.store();
  Batch bad;
  bad.put(Table::Retained, "ok", "1");
  bad.put(Table::Retained, std::string(kMaxKeySize + 1, 't'), "2");
  Batch empty_key;
  empty_key.erase(Table::Retained, "");
  s.submit(put(Table::Retained, "before", "b"), 1);
  s.submit(std::move(bad), 2);
  s.submit(std::move(empty_key), 3);
  s.submit(put(Table::Retained, std::string(kMaxKeySize, 'm'), "max"), 4);
  const auto r = drain(s);
  REQUIRE(r.size() == 4);
  CHECK(r[0].error == StoreError::Ok);
  CHECK(r[1].error == StoreError::Io);
  CHECK(r[2].error == StoreError::Io);
  CHECK(r[3].error == StoreError::Ok);
  CHECK(dump(s, Table::Retained) == Rows{{"before", "b"}, {std::string(kMaxKeySize, 'm'), "max"}});
}

STORE_TEST("a batch is atomic across tables") {
  TestType f;
  Store& s = f.store();
  Batch b;
  b.put(Table::Messages, u64_key(1), "m");
  b.put(Table::SessionEntries, "c" + u64_key(1), "e");
  b.put(Table::Sessions, "c", "s");
  b.put(Table::Meta, "next_id", u64_key(2));
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  CHECK(dump(s, Table::Messages).size() == 1);
  CHECK(dump(s, Table::SessionEntries).size() == 1);
  CHECK(dump(s, Table::Sessions).size() == 1);
  bool found = false;
  s.scan(Table::Meta, [&](std::string_view k, std::string_view v) { found = found || (k == "next_id" && v == u64_key(2)); });
  CHECK(found);
}

TEST_CASE("MemStore: byte budget refuses whole batches with Full", "[store][mem]") {
  MemStore s(MemStoreOptions{.max_bytes = 100});
  CHECK(s.completes_inline());
  CHECK(commit(s, put(Table::Messages, "a", std::string(60, 'x')), 1) == StoreError::Ok);
  CHECK(s.bytes_used() == 61);
  Batch big;
  big.put(Table::Messages, "b", "small");
  big.put(Table::Messages, "c", std::string(60, 'x'));
  CHECK(commit(s, std::move(big), 2) == StoreError::Full);
  CHECK(dump(s, Table::Messages).size() == 1);  // nothing of the batch applied
  CHECK(s.bytes_used() == 61);
  // Overwriting with a smaller value, or replacing within the batch, fits.
  Batch swap;
  swap.erase(Table::Messages, "a");
  swap.put(Table::Messages, "c", std::string(90, 'y'));
  CHECK(commit(s, std::move(swap), 3) == StoreError::Ok);
  CHECK(s.bytes_used() == 91);
  s.set_max_bytes(0);
  CHECK(commit(s, put(Table::Messages, "d", std::string(500, 'z')), 4) == StoreError::Ok);
}

TEST_CASE("MemStore: results are ready when submit returns; injected failures", "[store][mem]") {
  MemStore s;
  int calls = 0;
  s.set_notifier([&] { ++calls; });
  s.submit(put(Table::Sessions, "a", "1"), 1);
  CHECK(calls == 1);
  std::vector<CommitResult> r;
  s.take_completed(r);  // no flush needed
  REQUIRE(r.size() == 1);
  s.fail_next(StoreError::Io, 2);
  s.submit(put(Table::Sessions, "b", "1"), 2);
  s.submit(put(Table::Sessions, "c", "1"), 3);
  s.submit(put(Table::Sessions, "d", "1"), 4);
  r.clear();
  s.take_completed(r);
  REQUIRE(r.size() == 3);
  CHECK(r[0].error == StoreError::Io);
  CHECK(r[1].error == StoreError::Io);
  CHECK(r[2].error == StoreError::Ok);
  CHECK(dump(s, Table::Sessions) == Rows{{"a", "1"}, {"d", "1"}});
}

TEST_CASE("MemStore: scan visits a snapshot, so the visitor may submit", "[store][mem]") {
  MemStore s;
  Batch b;
  for (int i = 0; i < 10; ++i) b.put(Table::Sessions, std::to_string(i), "x");
  s.submit(std::move(b), 1);
  int seen = 0;
  std::uint64_t seq = 2;
  s.scan(Table::Sessions, [&](std::string_view k, std::string_view) {
    ++seen;
    Batch e;
    e.erase(Table::Sessions, k);
    s.submit(std::move(e), seq++);
  });
  CHECK(seen == 10);
  CHECK(dump(s, Table::Sessions).empty());
}
