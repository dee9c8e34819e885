#include "session_table.h"

#include <cassert>
#include <functional>

namespace junction::core {

std::size_t SessionTable::bucket_of(std::string_view id) const noexcept {
  return std::hash<std::string_view>{}(id) & (buckets_.size() - 1);
}

Session* SessionTable::find(std::string_view client_id) const noexcept {
  if (buckets_.empty()) return nullptr;
  for (Session* s = buckets_[bucket_of(client_id)]; s != nullptr; s = s->table_next_) {
    if (s->client_id == client_id) return s;
  }
  return nullptr;
}

Session* SessionTable::insert(std::unique_ptr<Session> owned) {
  assert(find(owned->client_id) == nullptr);
  if (size_ + 1 > buckets_.size()) rehash(buckets_.empty() ? 16 : buckets_.size() * 2);
  Session* s = owned.release();
  Session*& head = buckets_[bucket_of(s->client_id)];
  s->table_next_ = head;
  head = s;
  ++size_;
  return s;
}

void SessionTable::erase(Session* s) noexcept {
  Session** link = &buckets_[bucket_of(s->client_id)];
  while (*link != s) {
    assert(*link != nullptr);
    link = &(*link)->table_next_;
  }
  *link = s->table_next_;
  --size_;
  delete s;
}

void SessionTable::clear() noexcept {
  for (Session*& head : buckets_) {
    while (head != nullptr) {
      Session* next = head->table_next_;
      delete head;
      head = next;
    }
  }
  buckets_.clear();
  buckets_.shrink_to_fit();
  size_ = 0;
}

void SessionTable::rehash(std::size_t n) {
  std::vector<Session*> old(n, nullptr);
  old.swap(buckets_);
  for (Session* head : old) {
    while (head != nullptr) {
      Session* next = head->table_next_;
      Session*& b = buckets_[bucket_of(head->client_id)];
      head->table_next_ = b;
      b = head;
      head = next;
    }
  }
}

SessionTable::Iterator SessionTable::begin() const noexcept {
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    if (buckets_[b] != nullptr) return Iterator(this, b, buckets_[b]);
  }
  return end();
}

SessionTable::Iterator& SessionTable::Iterator::operator++() noexcept {
  if (at_->table_next_ != nullptr) {
    at_ = at_->table_next_;
    return *this;
  }
  at_ = nullptr;
  while (++bucket_ < t_->buckets_.size()) {
    if (t_->buckets_[bucket_] != nullptr) {
      at_ = t_->buckets_[bucket_];
      break;
    }
  }
  return *this;
}

}  // namespace junction::core
