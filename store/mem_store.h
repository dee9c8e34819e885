// junction::store::MemStore — the `memory` durability mode and the reference
// implementation for the conformance suite (test/unit/store).
//
// One ordered map per table. submit() applies the batch at once, records its
// CommitResult and calls the notifier before returning (completes_inline()).
// All methods are thread-safe; the notifier runs on the submitting thread
// with no store lock held, so it may call take_completed().
//
// Failure simulation, so the core can test its "store full" path without a
// disk: a byte budget (max_bytes) after which batches fail with Full and apply
// nothing, and fail_next() to fail the next batches with a chosen error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store.h"

namespace junction::store {

struct MemStoreOptions {
  // Budget for the sum of key + value bytes over all tables; 0 = unlimited.
  // A batch that would end above it fails with StoreError::Full as a whole.
  std::size_t max_bytes = 0;
};

class MemStore final : public Store {
 public:
  explicit MemStore(MemStoreOptions opts = {});

  void scan(Table t, const std::function<void(std::string_view key, std::string_view value)>& visit) override;
  std::size_t scan_from(Table t, std::string_view from, std::size_t limit,
                        const std::function<void(std::string_view key, std::string_view value)>& visit) override;
  bool get(Table t, std::string_view key, std::string& value) override;
  bool last_key(Table t, std::string& key) override;
  void submit(Batch&& batch, std::uint64_t seq) override;
  void take_completed(std::vector<CommitResult>& out) override;
  void set_notifier(std::function<void()> wake) override;
  void flush() override {}
  bool completes_inline() const override { return true; }
  const char* name() const override { return "memory"; }

  // Bytes currently held (keys + values), as counted against max_bytes.
  std::size_t bytes_used() const;
  void set_max_bytes(std::size_t max_bytes);
  // The next `count` submitted batches fail with `e` and apply nothing.
  void fail_next(StoreError e, std::size_t count = 1);

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  static constexpr std::size_t kTables = static_cast<std::size_t>(Table::Count);

  StoreError check(const Batch& batch) const;  // needs mu_
  void apply(const Batch& batch);              // needs mu_

  mutable std::mutex mu_;
  std::array<Map, kTables> tables_;
  std::size_t bytes_used_ = 0;
  std::size_t max_bytes_ = 0;
  StoreError injected_ = StoreError::Ok;
  std::size_t injected_count_ = 0;
  std::vector<CommitResult> completed_;

  // Held while the notifier runs, so that after set_notifier() returns the
  // old notifier is not running and never will again.
  std::mutex notify_mu_;
  std::function<void()> notifier_;
};

}  // namespace junction::store
