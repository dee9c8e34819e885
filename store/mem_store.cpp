#include "mem_store.h"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace junction::store {

MemStore::MemStore(MemStoreOptions opts) : max_bytes_(opts.max_bytes) {}

void MemStore::scan(Table t, const std::function<void(std::string_view, std::string_view)>& visit) {
  const auto i = static_cast<std::size_t>(t);
  if (i >= kTables) return;
  // Visit a snapshot (like LMDB's read transaction) so the visitor may
  // submit batches, even ones that erase what it is looking at.
  Map snapshot;
  {
    std::lock_guard lk(mu_);
    snapshot = tables_[i];
  }
  for (const auto& [k, v] : snapshot) visit(k, v);
}

std::size_t MemStore::scan_from(Table t, std::string_view from, std::size_t limit,
                                const std::function<void(std::string_view, std::string_view)>& visit) {
  const auto i = static_cast<std::size_t>(t);
  if (i >= kTables || limit == 0) return 0;
  std::vector<std::pair<std::string, std::string>> chunk;
  {
    std::lock_guard lk(mu_);
    for (auto it = tables_[i].lower_bound(from); it != tables_[i].end() && chunk.size() < limit; ++it)
      chunk.emplace_back(it->first, it->second);
  }
  for (const auto& [k, v] : chunk) visit(k, v);
  return chunk.size();
}

bool MemStore::get(Table t, std::string_view key, std::string& value) {
  const auto i = static_cast<std::size_t>(t);
  if (i >= kTables) return false;
  std::lock_guard lk(mu_);
  auto it = tables_[i].find(key);
  if (it == tables_[i].end()) return false;
  value = it->second;
  return true;
}

bool MemStore::last_key(Table t, std::string& key) {
  const auto i = static_cast<std::size_t>(t);
  if (i >= kTables) return false;
  std::lock_guard lk(mu_);
  if (tables_[i].empty()) return false;
  key = tables_[i].rbegin()->first;
  return true;
}

StoreError MemStore::check(const Batch& batch) const {
  // Walk the batch as it would apply, tracking each touched key's size in an
  // overlay, to learn the byte total afterwards without mutating anything.
  std::map<std::pair<std::size_t, std::string_view>, std::optional<std::size_t>> overlay;
  std::int64_t delta = 0;
  for (const Op& op : batch.ops()) {
    const auto t = static_cast<std::size_t>(op.table);
    if (t >= kTables || !valid_key(op.key)) return StoreError::Io;
    if (max_bytes_ == 0) continue;
    const auto slot = std::make_pair(t, std::string_view(op.key));
    std::optional<std::size_t> before;
    if (auto o = overlay.find(slot); o != overlay.end()) {
      before = o->second;
    } else if (auto it = tables_[t].find(op.key); it != tables_[t].end()) {
      before = it->first.size() + it->second.size();
    }
    std::optional<std::size_t> after;
    if (!op.erase) after = op.key.size() + op.value.size();
    delta += static_cast<std::int64_t>(after.value_or(0)) - static_cast<std::int64_t>(before.value_or(0));
    overlay[slot] = after;
  }
  if (max_bytes_ != 0 && delta > 0 &&
      bytes_used_ + static_cast<std::size_t>(delta) > max_bytes_)
    return StoreError::Full;
  return StoreError::Ok;
}

void MemStore::apply(const Batch& batch) {
  for (const Op& op : batch.ops()) {
    Map& m = tables_[static_cast<std::size_t>(op.table)];
    auto it = m.find(op.key);
    if (it != m.end()) {
      bytes_used_ -= it->first.size() + it->second.size();
      if (op.erase) {
        m.erase(it);
        continue;
      }
      it->second = op.value;
    } else {
      if (op.erase) continue;
      m.emplace(op.key, op.value);
    }
    bytes_used_ += op.key.size() + op.value.size();
  }
}

void MemStore::submit(Batch&& batch, std::uint64_t seq) {
  {
    std::lock_guard lk(mu_);
    StoreError e = StoreError::Ok;
    if (injected_count_ > 0) {
      e = injected_;
      --injected_count_;
    } else {
      e = check(batch);
    }
    if (e == StoreError::Ok) apply(batch);
    completed_.push_back(CommitResult{seq, e});
  }
  std::lock_guard nlk(notify_mu_);
  if (notifier_) notifier_();
}

void MemStore::take_completed(std::vector<CommitResult>& out) {
  std::lock_guard lk(mu_);
  out.insert(out.end(), completed_.begin(), completed_.end());
  completed_.clear();
}

void MemStore::set_notifier(std::function<void()> wake) {
  std::lock_guard nlk(notify_mu_);
  notifier_ = std::move(wake);
}

std::size_t MemStore::bytes_used() const {
  std::lock_guard lk(mu_);
  return bytes_used_;
}

void MemStore::set_max_bytes(std::size_t max_bytes) {
  std::lock_guard lk(mu_);
  max_bytes_ = max_bytes;
}

void MemStore::fail_next(StoreError e, std::size_t count) {
  std::lock_guard lk(mu_);
  injected_ = e;
  injected_count_ = e == StoreError::Ok ? 0 : count;
}

}  // namespace junction::store
