// LMDB-only behaviour: persistence, group commit, map growth, full map,
// format version and start-up errors.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lmdb_store.h"
#include "records.h"
#include "store.h"
#include "store_test_util.h"
#include "temp_dir.h"

using namespace junction::store;
using namespace junction::store::test;
using Catch::Matchers::Contains;

namespace {

// Holds the writer thread inside its first notifier call, so the test can
// queue batches behind it and know exactly how the next group is formed.
class Gate {
 public:
  void on_notify() {
    std::unique_lock lk(mu_);
    if (used_) return;
    used_ = true;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_; });
  }
  void wait_entered() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return used_; });
  }
  void release() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool used_ = false;
  bool open_ = false;
};

Batch put(Table t, std::string_view k, std::string_view v) {
  Batch b;
  b.put(t, k, v);
  return b;
}

LmdbOptions opts(const TempDir& dir, Durability d = Durability::Sync) {
  return LmdbOptions{.path = dir.path(), .durability = d};
}

}  // namespace

TEST_CASE("LmdbStore: data survives close and reopen", "[store][lmdb]") {
  const Durability d = GENERATE(Durability::Sync, Durability::Batch);
  TempDir dir;
  {
    LmdbStore s(opts(dir, d));
    Batch b;
    for (std::uint64_t id = 1; id <= 100; ++id) b.put(Table::Messages, u64_key(id), "body" + std::to_string(id));
    b.put(Table::Sessions, "client", "state");
    s.submit(std::move(b), 1);
    s.submit(put(Table::Messages, u64_key(50), "changed"), 2);
    // No flush: the destructor must commit and sync what is queued.
  }
  LmdbStore s(opts(dir, d));
  const Rows messages = dump(s, Table::Messages);
  REQUIRE(messages.size() == 100);
  CHECK(u64_from_key(messages.front().first) == 1);
  CHECK(messages[49].second == "changed");
  CHECK(dump(s, Table::Sessions) == Rows{{"client", "state"}});
}

TEST_CASE("LmdbStore: kill -9 after acknowledgement loses nothing", "[store][lmdb]") {
  const Durability d = GENERATE(Durability::Sync, Durability::Batch);
  TempDir dir;
  constexpr std::uint64_t kBatches = 300;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: commit, wait for every acknowledgement, then die without any
    // flush or destructor (the periodic sync is far away in Batch mode).
    LmdbOptions o = opts(dir, d);
    o.sync_interval_ms = 600000;
    auto* s = new LmdbStore(o);
    for (std::uint64_t seq = 1; seq <= kBatches; ++seq) s->submit(put(Table::Messages, u64_key(seq), "m"), seq);
    std::vector<CommitResult> acked;
    for (int i = 0; i < 10000 && acked.size() < kBatches; ++i) {
      s->take_completed(acked);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (acked.size() != kBatches) ::_exit(3);
    for (const CommitResult& r : acked)
      if (r.error != StoreError::Ok) ::_exit(4);
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("child status " << status);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  LmdbStore s(opts(dir, d));
  CHECK(dump(s, Table::Messages).size() == kBatches);
}

TEST_CASE("LmdbStore: batches queued behind a commit share one transaction", "[store][lmdb]") {
  TempDir dir;
  const std::size_t cap = GENERATE(std::size_t{0}, std::size_t{10});
  LmdbOptions o = opts(dir);
  o.max_batch_ops = cap;
  LmdbStore s(o);
  Gate gate;
  s.set_notifier([&] { gate.on_notify(); });
  const std::uint64_t before = s.transactions_committed();
  s.submit(put(Table::Messages, u64_key(1), "m"), 1);
  gate.wait_entered();  // the writer has committed batch 1 and is held
  for (std::uint64_t seq = 2; seq <= 100; ++seq) s.submit(put(Table::Messages, u64_key(seq), "m"), seq);
  gate.release();
  const auto results = drain(s);
  REQUIRE(results.size() == 100);
  CHECK(results.back().seq == 100);
  CHECK(dump(s, Table::Messages).size() == 100);
  // Without a cap the 99 queued batches are one group; with 10 ops per group, ten.
  CHECK(s.transactions_committed() - before == (cap == 0 ? 2 : 11));
}

TEST_CASE("LmdbStore: a tiny map grows to fit a large batch", "[store][lmdb]") {
  TempDir dir;
  LmdbOptions o = opts(dir, Durability::Batch);
  o.initial_map_size = 64 * 1024;
  LmdbStore s(o);
  const std::size_t initial = s.map_size();
  Batch b;
  const std::string value(64 * 1024, 'v');
  for (std::uint64_t id = 0; id < 64; ++id) b.put(Table::Messages, u64_key(id), value);
  for (int i = 0; i < 5000; ++i) b.put(Table::Sessions, "client-" + std::to_string(i), "s");
  CHECK(commit(s, std::move(b), 1) == StoreError::Ok);
  CHECK(s.map_size() > initial);
  CHECK(s.map_size() >= 4u << 20);
  CHECK(dump(s, Table::Messages).size() == 64);
  CHECK(dump(s, Table::Sessions).size() == 5000);
}

TEST_CASE("LmdbStore: max_map_size reached gives Full, applies nothing, small batches still work", "[store][lmdb]") {
  TempDir dir;
  LmdbOptions o = opts(dir);
  o.initial_map_size = 64 * 1024;
  o.max_map_size = 1 << 20;
  LmdbStore s(o);
  auto huge = [] {
    Batch b;
    b.put(Table::Sessions, "marker", "must not appear");
    for (std::uint64_t id = 0; id < 32; ++id) b.put(Table::Messages, u64_key(id), std::string(64 * 1024, 'h'));
    return b;
  };
  CHECK(commit(s, huge(), 1) == StoreError::Full);
  CHECK(s.map_size() == std::size_t{1} << 20);
  CHECK(dump(s, Table::Messages).empty());
  CHECK(dump(s, Table::Sessions).empty());
  CHECK(commit(s, put(Table::Sessions, "small", "ok"), 2) == StoreError::Ok);

  SECTION("a huge batch grouped with small ones fails alone") {
    Gate gate;
    s.set_notifier([&] { gate.on_notify(); });
    s.submit(put(Table::Sessions, "a", "1"), 3);
    gate.wait_entered();
    s.submit(put(Table::Sessions, "b", "1"), 4);
    s.submit(huge(), 5);
    s.submit(put(Table::Sessions, "c", "1"), 6);
    gate.release();
    const auto r = drain(s);
    REQUIRE(r.size() == 4);
    CHECK(r[0].error == StoreError::Ok);
    CHECK(r[1].error == StoreError::Ok);
    CHECK(r[2].seq == 5);
    CHECK(r[2].error == StoreError::Full);
    CHECK(r[3].error == StoreError::Ok);
    CHECK(dump(s, Table::Sessions) == Rows{{"a", "1"}, {"b", "1"}, {"c", "1"}, {"small", "ok"}});
    CHECK(dump(s, Table::Messages).empty());
  }
}

TEST_CASE("LmdbStore: close() stops the writer; later batches complete Closed", "[store][lmdb]") {
  TempDir dir;
  LmdbStore s(opts(dir));
  int calls = 0;
  s.set_notifier([&] { ++calls; });
  s.submit(put(Table::Sessions, "a", "1"), 1);
  s.close();
  s.close();  // idempotent
  const int before = calls;
  s.submit(put(Table::Sessions, "b", "1"), 2);
  CHECK(calls == before + 1);
  const auto r = drain(s);  // flush after close returns at once
  REQUIRE(r.size() == 2);
  CHECK(r[0].error == StoreError::Ok);
  CHECK(r[1].seq == 2);
  CHECK(r[1].error == StoreError::Closed);
  CHECK(dump(s, Table::Sessions) == Rows{{"a", "1"}});
}

TEST_CASE("LmdbStore: format version", "[store][lmdb]") {
  TempDir dir;
  {
    LmdbStore s(opts(dir));
    Rows meta = dump(s, Table::Meta);
    REQUIRE(meta.size() == 1);
    CHECK(meta[0].first == kMetaFormatKey);
    CHECK(meta[0].second == std::string(1, static_cast<char>(kStoreFormat)));
  }
  { LmdbStore again(opts(dir)); }  // same version reopens
  {
    LmdbStore s(opts(dir));
    CHECK(commit(s, put(Table::Meta, kMetaFormatKey, std::string(1, static_cast<char>(kStoreFormat + 1))), 1) ==
          StoreError::Ok);
  }
  CHECK_THROWS_WITH(LmdbStore(opts(dir)), Contains("newer") && Contains(dir.path()));
  CHECK_THROWS_WITH(LmdbStore(opts(dir)), Contains("newer"));  // and nothing was rewritten
}

TEST_CASE("LmdbStore: an older store is marked with this format when opened", "[store][lmdb]") {
  TempDir dir;
  {
    LmdbStore s(opts(dir));
    CHECK(commit(s, put(Table::Meta, kMetaFormatKey, std::string(1, '\x01')), 1) == StoreError::Ok);
  }
  LmdbStore s(opts(dir));
  CHECK(dump(s, Table::Meta) == Rows{{std::string(kMetaFormatKey), std::string(1, static_cast<char>(kStoreFormat))}});
}

TEST_CASE("LmdbStore: start-up errors throw with the path", "[store][lmdb]") {
  TempDir dir;
  SECTION("directory cannot be created") {
    std::ofstream(dir.sub("file")) << "x";
    const std::string path = dir.sub("file/store");
    CHECK_THROWS_WITH(LmdbStore(LmdbOptions{.path = path}), Contains(path));
  }
  SECTION("directory in use by another store") {
    LmdbStore first(opts(dir));
    CHECK_THROWS_WITH(LmdbStore(opts(dir)), Contains("in use") && Contains(dir.path()));
  }
  SECTION("not an LMDB file") {
    std::ofstream(dir.sub("data.mdb")) << std::string(16384, 'g');
    CHECK_THROWS_WITH(LmdbStore(opts(dir)), Contains(dir.path()));
  }
  SECTION("missing directories are created") {
    const std::string path = dir.sub("a/b/c");
    LmdbStore s(LmdbOptions{.path = path});
    CHECK(commit(s, put(Table::Sessions, "x", "y"), 1) == StoreError::Ok);
  }
}
