#include "lmdb_env.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "records.h"

namespace junction::store::detail {
namespace {

// Returned by open_databases()'s transaction body; LMDB's own codes are
// around -30800 and errno values are positive, so these cannot collide.
constexpr int kNewerFormat = -1;
constexpr int kBadFormat = -2;
constexpr unsigned kMaxDbs = 16;  // room for future tables without a reopen flag day

std::runtime_error open_error(const std::string& path, std::string_view what, std::string_view detail) {
  std::string msg = "junction store '" + path + "': ";
  msg.append(what);
  if (!detail.empty()) {
    msg.append(": ");
    msg.append(detail);
  }
  return std::runtime_error(msg);
}

const char* mdb_open_hint(int rc) {
  switch (rc) {
    case MDB_VERSION_MISMATCH: return " (created by an incompatible LMDB version)";
    case MDB_INVALID: return " (data.mdb is not an LMDB file or its header is corrupt)";
    case EACCES: return " (permission denied)";
    case EAGAIN: return " (lock.mdb is locked by another process)";
    default: return "";
  }
}

double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

MDB_val as_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

std::string_view as_view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

struct TxnAbort {
  void operator()(MDB_txn* t) const { mdb_txn_abort(t); }
};
struct CursorClose {
  void operator()(MDB_cursor* c) const { mdb_cursor_close(c); }
};

}  // namespace

void LmdbEnv::EnvCloser::operator()(MDB_env* env) const { mdb_env_close(env); }

LmdbEnv::LockFd::~LockFd() {
  if (fd >= 0) ::close(fd);
}

LmdbEnv::LmdbEnv(const LmdbOptions& opts)
    : path_(opts.path),
      max_map_size_(opts.max_map_size),
      min_free_disk_bytes_(opts.min_free_disk_bytes),
      page_size_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {
  if (path_.empty()) throw std::runtime_error("junction store: no data directory configured");
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec) throw open_error(path_, "cannot create the data directory", ec.message());
  if (!std::filesystem::is_directory(path_, ec)) throw open_error(path_, "not a directory", "");

  // LMDB lets several processes share an environment; two brokers on one
  // directory would each believe they own the data. flock() dies with its
  // process, so a crash never leaves a stale lock behind.
  const std::string lock_path = path_ + "/junction.lock";
  lock_.fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_.fd < 0) throw open_error(path_, "cannot open junction.lock", std::strerror(errno));
  if (::flock(lock_.fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      throw open_error(path_, "the data directory is in use by another process", "");
    throw open_error(path_, "cannot lock junction.lock", std::strerror(errno));
  }

  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) throw open_error(path_, "mdb_env_create failed", mdb_strerror(rc));
  env_.reset(env);  // also closes it if anything below throws
  mdb_env_set_maxdbs(env, kMaxDbs);
  std::size_t initial = std::max(opts.initial_map_size, page_size_);
  if (max_map_size_ != 0) initial = std::min(initial, std::max(max_map_size_, page_size_));
  initial -= initial % page_size_;
  if ((rc = mdb_env_set_mapsize(env, initial)) != 0)
    throw open_error(path_, "cannot set the map size", mdb_strerror(rc));

  // MDB_NOTLS: read transactions (scan) are not tied to the thread that began
  // them. Batch durability skips the fsync at commit; the writer thread syncs
  // on a timer instead.
  unsigned flags = MDB_NOTLS;
  if (opts.durability == Durability::Batch) flags |= MDB_NOSYNC;
  rc = mdb_env_open(env, path_.c_str(), flags, 0640);
  if (rc != 0) throw open_error(path_, "cannot open the LMDB environment", std::string(mdb_strerror(rc)) + mdb_open_hint(rc));

  // Reader slots of a process killed mid-read would pin old pages forever.
  int dead = 0;
  if ((rc = mdb_reader_check(env, &dead)) != 0)
    throw open_error(path_, "cannot clear stale reader slots", mdb_strerror(rc));
  if (dead > 0)
    std::fprintf(stderr, "junction store '%s': cleared %d stale reader slot(s) of a dead process\n",
                 path_.c_str(), dead);

  MDB_envinfo info;
  mdb_env_info(env, &info);
  map_size_ = info.me_mapsize;
  open_databases();
}

LmdbEnv::~LmdbEnv() = default;

void LmdbEnv::open_databases() {
  std::array<MDB_dbi, kTables> dbi{};
  unsigned found = 0;
  const int rc = run_write([&](MDB_txn* txn) {
    for (std::size_t i = 0; i < kTables; ++i) {
      if (int r = mdb_dbi_open(txn, table_name(static_cast<Table>(i)), MDB_CREATE, &dbi[i])) return r;
    }
    const MDB_dbi meta = dbi[static_cast<std::size_t>(Table::Meta)];
    MDB_val key = as_val(kMetaFormatKey);
    MDB_val val;
    const int r = mdb_get(txn, meta, &key, &val);
    char v = static_cast<char>(kStoreFormat);
    MDB_val nv{1, &v};
    if (r == MDB_NOTFOUND) return mdb_put(txn, meta, &key, &nv, 0);
    if (r != 0) return r;
    if (val.mv_size != 1) return kBadFormat;
    found = *static_cast<const unsigned char*>(val.mv_data);
    if (found == 0) return kBadFormat;
    // Abort before touching anything a newer build wrote.
    if (found > kStoreFormat) return kNewerFormat;
    // An older store is read as it is (decoders keep every version) and from
    // now on holds newer records: an older build must refuse it.
    if (found < kStoreFormat) return mdb_put(txn, meta, &key, &nv, 0);
    return 0;
  });
  if (rc == kNewerFormat)
    throw open_error(path_, "refusing to open a newer data format",
                     "format " + std::to_string(found) + " on disk, this build reads up to " +
                         std::to_string(kStoreFormat) + "; upgrade Junction or use another directory");
  if (rc == kBadFormat) throw open_error(path_, "malformed format marker in table meta", "");
  if (rc != 0) throw open_error(path_, "cannot open the databases", mdb_strerror(rc));
  dbi_ = dbi;
}

int LmdbEnv::run_write(const std::function<int(MDB_txn*)>& body) {
  for (;;) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_.get(), nullptr, 0, &txn);
    if (rc != 0) return rc;
    rc = body(txn);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);  // frees the txn, on failure too
    } else {
      mdb_txn_abort(txn);
    }
    // MAP_FULL can come from a put or from the commit's freelist save; either
    // way the txn is gone, so the map may be resized and the work redone.
    if (rc != MDB_MAP_FULL || !grow()) return rc;
  }
}

std::size_t LmdbEnv::disk_limit() const {
  // The data file can grow by at most the free space of its filesystem.
  struct statvfs fs;
  if (::statvfs(path_.c_str(), &fs) != 0) return std::numeric_limits<std::size_t>::max();
  const auto avail = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
  struct stat st;
  const std::string data = path_ + "/data.mdb";
  const unsigned long long used = ::stat(data.c_str(), &st) == 0 ? static_cast<unsigned long long>(st.st_size) : 0;
  // The reserve (store.min_free_disk_bytes) is the operator's, not the map's.
  const unsigned long long room = avail > min_free_disk_bytes_ ? avail - min_free_disk_bytes_ : 0;
  const unsigned long long limit = used + room;
  return limit > std::numeric_limits<std::size_t>::max() ? std::numeric_limits<std::size_t>::max()
                                                         : static_cast<std::size_t>(limit);
}

bool LmdbEnv::grow() {
  const std::size_t cur = map_size_.load();
  const std::size_t limit = max_map_size_ != 0 ? max_map_size_ : disk_limit();
  std::size_t want = cur > std::numeric_limits<std::size_t>::max() / 2 ? std::numeric_limits<std::size_t>::max() : cur * 2;
  want = std::min(want, limit);
  want -= want % page_size_;
  if (want <= cur) {
    if (!full_logged_) {
      std::fprintf(stderr,
                   "junction store '%s': store full at %.1f MiB (%s); refusing durable writes until space is freed\n",
                   path_.c_str(), mib(cur), max_map_size_ != 0 ? "max_map_size reached" : "no free disk space to grow");
      full_logged_ = true;
    }
    return false;
  }
  int rc;
  {
    // No transaction may be active in the process during a resize: the
    // writer has none (it just aborted), scan() holds this lock shared.
    std::unique_lock lk(map_mu_);
    rc = mdb_env_set_mapsize(env_.get(), want);
  }
  if (rc != 0) {
    log_error_once(rc, "cannot grow the map");
    return false;
  }
  MDB_envinfo info;
  mdb_env_info(env_.get(), &info);
  map_size_ = info.me_mapsize;
  full_logged_ = false;
  std::fprintf(stderr, "junction store '%s': grew map from %.2f MiB to %.2f MiB\n", path_.c_str(), mib(cur),
               mib(info.me_mapsize));
  return true;
}

void LmdbEnv::log_error_once(int rc, const char* what) {
  // One line per distinct error in a row: a failing disk must not flood stderr.
  if (rc == last_logged_rc_) return;
  last_logged_rc_ = rc;
  std::fprintf(stderr, "junction store '%s': %s: %s\n", path_.c_str(), what, mdb_strerror(rc));
}

StoreError LmdbEnv::classify(int rc) {
  switch (rc) {
    case MDB_MAP_FULL:  // grow() has logged why it could not grow
      return StoreError::Full;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      if (!full_logged_) {
        std::fprintf(stderr, "junction store '%s': disk full (%s); refusing durable writes until space is freed\n",
                     path_.c_str(), mdb_strerror(rc));
        full_logged_ = true;
      }
      return StoreError::Full;
    default:
      log_error_once(rc, "commit failed");
      return StoreError::Io;
  }
}

bool LmdbEnv::check(const Batch& batch) const {
  // Checked up front so a bad key fails its own batch cleanly with a precise
  // message (LMDB would say MDB_BAD_VALSIZE), as MemStore does.
  for (const Op& op : batch.ops()) {
    if (static_cast<std::size_t>(op.table) >= kTables || !valid_key(op.key)) {
      std::fprintf(stderr, "junction store '%s': rejected a batch: key of %zu bytes for table %s (keys are 1..%zu bytes)\n",
                   path_.c_str(), op.key.size(), table_name(op.table), kMaxKeySize);
      return false;
    }
  }
  return true;
}

StoreError LmdbEnv::commit(std::span<const Batch* const> batches) {
  bool any = false;
  for (const Batch* b : batches) {
    if (!check(*b)) return StoreError::Io;
    any = any || !b->empty();
  }
  if (!any) return StoreError::Ok;  // no transaction for nothing
  const int rc = run_write([&](MDB_txn* txn) {
    // Most puts add keys past the end of their table (message ids, a queue's
    // or session's next entry). MDB_APPEND then fills pages instead of
    // splitting them in half: half the pages to write and keep for a backlog
    // on disk. A key that is not the greatest gets MDB_KEYEXIST; it is put
    // the ordinary way, and that table appends no more in this transaction.
    std::array<bool, kTables> append{};
    append.fill(true);
    for (const Batch* b : batches) {
      for (const Op& op : b->ops()) {
        const auto t = static_cast<std::size_t>(op.table);
        const MDB_dbi dbi = dbi_[t];
        MDB_val key = as_val(op.key);
        int r;
        if (op.erase) {
          r = mdb_del(txn, dbi, &key, nullptr);
          if (r == MDB_NOTFOUND) r = 0;  // erasing a missing key is not an error
        } else {
          MDB_val val = as_val(op.value);
          r = append[t] ? mdb_put(txn, dbi, &key, &val, MDB_APPEND) : MDB_KEYEXIST;
          if (r == MDB_KEYEXIST) {
            append[t] = false;
            val = as_val(op.value);
            r = mdb_put(txn, dbi, &key, &val, 0);
          }
        }
        if (r != 0) return r;
      }
    }
    return 0;
  });
  if (rc == 0) {
    txns_.fetch_add(1, std::memory_order_relaxed);
    last_logged_rc_ = 0;
    return StoreError::Ok;
  }
  return classify(rc);
}

StoreError LmdbEnv::sync() {
  const int rc = mdb_env_sync(env_.get(), 1);
  if (rc == 0) return StoreError::Ok;
  log_error_once(rc, "sync failed");
  return rc == ENOSPC ? StoreError::Full : StoreError::Io;
}

// One read-only transaction with a cursor on table `t`, under the map lock
// shared (a writer growing the map waits). The cursor closes before the txn.
struct LmdbEnv::ReadCursor {
  std::shared_lock<std::shared_mutex> lock;
  std::unique_ptr<MDB_txn, TxnAbort> txn;
  std::unique_ptr<MDB_cursor, CursorClose> cursor;

  ReadCursor(LmdbEnv& env, Table t) : lock(env.map_mu_) {
    const auto i = static_cast<std::size_t>(t);
    if (i >= kTables) throw open_error(env.path_, "scan of an unknown table", "");
    MDB_txn* raw = nullptr;
    int rc = mdb_txn_begin(env.env_.get(), nullptr, MDB_RDONLY, &raw);
    if (rc != 0) throw open_error(env.path_, "cannot begin a read transaction", mdb_strerror(rc));
    txn.reset(raw);
    MDB_cursor* rawc = nullptr;
    if ((rc = mdb_cursor_open(raw, env.dbi_[i], &rawc)) != 0)
      throw open_error(env.path_, std::string("cannot scan table ") + table_name(t), mdb_strerror(rc));
    cursor.reset(rawc);
  }
};

void LmdbEnv::scan(Table t, const std::function<void(std::string_view, std::string_view)>& visit) {
  ReadCursor reader(*this, t);
  MDB_cursor* c = reader.cursor.get();
  MDB_val k, v;
  int rc = 0;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    visit(as_view(k), as_view(v));
  if (rc != MDB_NOTFOUND)
    throw open_error(path_, std::string("scan of table ") + table_name(t) + " failed", mdb_strerror(rc));
}

std::size_t LmdbEnv::scan_from(Table t, std::string_view from, std::size_t limit,
                               const std::function<void(std::string_view, std::string_view)>& visit) {
  if (limit == 0) return 0;
  ReadCursor reader(*this, t);
  MDB_cursor* c = reader.cursor.get();
  MDB_val k{from.size(), const_cast<char*>(from.data())}, v;
  std::size_t n = 0;
  int rc = from.empty() ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
  for (; rc == 0 && n < limit; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    visit(as_view(k), as_view(v));
    ++n;
  }
  if (rc != 0 && rc != MDB_NOTFOUND)
    throw open_error(path_, std::string("scan of table ") + table_name(t) + " failed", mdb_strerror(rc));
  return n;
}

bool LmdbEnv::get(Table t, std::string_view key, std::string& value) {
  if (key.empty()) return false;
  ReadCursor reader(*this, t);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
  int rc = mdb_cursor_get(reader.cursor.get(), &k, &v, MDB_SET_KEY);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) throw open_error(path_, std::string("read of table ") + table_name(t) + " failed", mdb_strerror(rc));
  value.assign(static_cast<const char*>(v.mv_data), v.mv_size);
  return true;
}

bool LmdbEnv::last_key(Table t, std::string& key) {
  ReadCursor reader(*this, t);
  MDB_val k, v;
  int rc = mdb_cursor_get(reader.cursor.get(), &k, &v, MDB_LAST);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) throw open_error(path_, std::string("scan of table ") + table_name(t) + " failed", mdb_strerror(rc));
  key.assign(static_cast<const char*>(k.mv_data), k.mv_size);
  return true;
}

StoreSpace LmdbEnv::space() {
  StoreSpace out;
  out.known = true;
  std::shared_lock lock(map_mu_);
  MDB_txn* raw = nullptr;
  if (mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &raw) != 0) return out;
  std::unique_ptr<MDB_txn, TxnAbort> txn(raw);
  auto pages = [&](MDB_dbi dbi, std::size_t& psize) -> std::uint64_t {
    MDB_stat st;
    if (mdb_stat(raw, dbi, &st) != 0) return 0;
    psize = st.ms_psize;
    return std::uint64_t(st.ms_branch_pages) + st.ms_leaf_pages + st.ms_overflow_pages;
  };
  std::size_t psize = page_size_;
  std::uint64_t records = 0;
  for (MDB_dbi dbi : dbi_) records += pages(dbi, psize);
  // The free list (0) and the table of tables (1) take pages too; with the
  // two meta pages that is everything up to the last page written.
  const std::uint64_t overhead = pages(0, psize) + pages(1, psize) + 2;
  MDB_envinfo info;
  mdb_env_info(env_.get(), &info);
  const std::uint64_t file_pages = std::uint64_t(info.me_last_pgno) + 1;
  out.used_bytes = records * psize;
  out.reusable_bytes = file_pages > records + overhead ? (file_pages - records - overhead) * psize : 0;
  struct statvfs fs;
  out.free_disk_bytes = ::statvfs(path_.c_str(), &fs) == 0 ? std::uint64_t(fs.f_bavail) * fs.f_frsize : UINT64_MAX;
  return out;
}

}  // namespace junction::store::detail
