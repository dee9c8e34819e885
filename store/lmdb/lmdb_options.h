// Options of the LMDB store (filled from the config's `store:` section).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace junction::store {

enum class Durability : std::uint8_t {
  // fsync on every commit: an acknowledged write survives power loss.
  Sync,
  // Commit without fsync (MDB_NOSYNC), mdb_env_sync every sync_interval_ms on
  // the writer thread: survives a process crash (kill -9: the data is in the
  // OS page cache); power loss may undo the commits of the last interval
  // (LMDB keeps integrity only on filesystems that preserve write order).
  Batch,
};

struct LmdbOptions {
  std::string path;  // directory; created if missing
  Durability durability = Durability::Sync;
  std::uint32_t sync_interval_ms = 1000;           // Batch mode only
  std::size_t initial_map_size = 64u << 20;        // bytes
  std::size_t max_map_size = 0;                    // 0 = grow while the disk has room
  // The map never grows into the last this many bytes of the filesystem
  // (half of store.min_free_disk_bytes): past that, commits fail as when full.
  std::uint64_t min_free_disk_bytes = 0;
  std::size_t max_batch_ops = 0;                   // ops per group transaction; 0 = no cap
};

}  // namespace junction::store
