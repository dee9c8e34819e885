#include "lmdb_store.h"

#include <utility>

#include "lmdb_env.h"
#include "writer_thread.h"

namespace junction::store {

LmdbStore::LmdbStore(const LmdbOptions& opts)
    : opts_(opts),
      env_(std::make_unique<detail::LmdbEnv>(opts_)),
      writer_(std::make_unique<detail::WriterThread>(*env_, opts_)) {}

LmdbStore::~LmdbStore() { close(); }

void LmdbStore::scan(Table t, const std::function<void(std::string_view, std::string_view)>& visit) {
  env_->scan(t, visit);
}

std::size_t LmdbStore::scan_from(Table t, std::string_view from, std::size_t limit,
                                 const std::function<void(std::string_view, std::string_view)>& visit) {
  return env_->scan_from(t, from, limit, visit);
}

bool LmdbStore::get(Table t, std::string_view key, std::string& value) { return env_->get(t, key, value); }

bool LmdbStore::last_key(Table t, std::string& key) { return env_->last_key(t, key); }

StoreSpace LmdbStore::space() { return env_->space(); }

void LmdbStore::submit(Batch&& batch, std::uint64_t seq) { writer_->submit(std::move(batch), seq); }

void LmdbStore::take_completed(std::vector<CommitResult>& out) { writer_->take_completed(out); }

void LmdbStore::set_notifier(std::function<void()> wake) { writer_->set_notifier(std::move(wake)); }

void LmdbStore::flush() { writer_->flush(); }

void LmdbStore::close() { writer_->stop(); }

std::uint64_t LmdbStore::transactions_committed() const { return env_->transactions_committed(); }

std::size_t LmdbStore::map_size() const { return env_->map_size(); }

}  // namespace junction::store
