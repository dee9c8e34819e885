// junction::core::SessionTable — the broker's sessions by client id.
//
// An intrusive chained hash table: the chain link lives in the Session, so a
// session costs the table one bucket word instead of a separately allocated
// node (32 B with its malloc header; 10,000 idle clients: docs/PERFORMANCE.md). The
// table owns its sessions. Buckets double when the load passes 1, and are
// never fewer than 16.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "session.h"

namespace junction::core {

class SessionTable {
 public:
  SessionTable() = default;
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;
  ~SessionTable() { clear(); }

  Session* find(std::string_view client_id) const noexcept;
  // The client id must not be in the table yet.
  Session* insert(std::unique_ptr<Session> s);
  // Removes and destroys `s` (which must be in the table).
  void erase(Session* s) noexcept;
  void clear() noexcept;
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // Visits every session; the table must not change meanwhile.
  class Iterator {
   public:
    Iterator(const SessionTable* t, std::size_t bucket, Session* at) : t_(t), bucket_(bucket), at_(at) {}
    Session* operator*() const noexcept { return at_; }
    Iterator& operator++() noexcept;
    bool operator==(const Iterator& o) const noexcept { return at_ == o.at_; }

   private:
    const SessionTable* t_;
    std::size_t bucket_;
    Session* at_;
  };
  Iterator begin() const noexcept;
  Iterator end() const noexcept { return Iterator(this, buckets_.size(), nullptr); }

 private:
  std::size_t bucket_of(std::string_view id) const noexcept;
  void rehash(std::size_t buckets);

  std::vector<Session*> buckets_;  // size: 0 or a power of two
  std::size_t size_ = 0;
};

}  // namespace junction::core
