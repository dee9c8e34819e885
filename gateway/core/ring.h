// A growable FIFO ring on one contiguous array. Unlike std::deque (which
// allocates a 512-byte block as soon as it exists), an empty Ring owns no
// memory: idle sessions must stay small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace junction::core {

template <class T>
class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  Ring(Ring&& o) noexcept { swap(o); }
  Ring& operator=(Ring&& o) noexcept { Ring tmp(std::move(o)); swap(tmp); return *this; }
  ~Ring() { clear(); }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return slot(0); }
  T& back() { return slot(size_ - 1); }
  const T& front() const { return (*this)[0]; }
  const T& back() const { return (*this)[size_ - 1]; }
  T& operator[](std::size_t i) { return slot(i); }
  const T& operator[](std::size_t i) const { return const_cast<Ring*>(this)->slot(i); }

  void push_back(T v) {
    if (size_ == cap_) grow();
    new (&data_[(head_ + size_) & (cap_ - 1)]) T(std::move(v));
    ++size_;
  }
  void push_front(T v) {
    if (size_ == cap_) grow();
    head_ = (head_ + cap_ - 1) & (cap_ - 1);
    new (&data_[head_]) T(std::move(v));
    ++size_;
  }
  void pop_front() {
    slot(0).~T();
    head_ = (head_ + 1) & (cap_ - 1);
    --size_;
  }
  // Removes element i keeping order (O(n); used for out-of-order acks in a small window).
  void erase(std::size_t i) {
    for (std::size_t k = i; k + 1 < size_; ++k) slot(k) = std::move(slot(k + 1));
    slot(size_ - 1).~T();
    --size_;
  }
  // Gives the array back once empty (called from slow paths, not per message,
  // so a busy session does not allocate per delivery).
  void shrink_if_empty() {
    if (size_ == 0) release();
  }
  void clear() {
    while (size_) { slot(size_ - 1).~T(); --size_; }
    release();
  }

 private:
  T& slot(std::size_t i) { return data_[(head_ + i) & (cap_ - 1)]; }
  void grow() {
    std::uint32_t ncap = cap_ ? cap_ * 2 : 4;
    T* nd = static_cast<T*>(::operator new(ncap * sizeof(T)));
    for (std::size_t i = 0; i < size_; ++i) {
      new (&nd[i]) T(std::move(slot(i)));
      slot(i).~T();
    }
    ::operator delete(data_);
    data_ = nd;
    cap_ = ncap;
    head_ = 0;
  }
  void release() {
    ::operator delete(data_);
    data_ = nullptr;
    cap_ = 0;
    head_ = 0;
  }
  void swap(Ring& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(cap_, o.cap_);
    std::swap(head_, o.head_);
    std::swap(size_, o.size_);
  }

  // 32-bit indices: a ring never holds 4 billion entries (sessions are
  // capped far below), and every idle session has two of these.
  T* data_ = nullptr;
  std::uint32_t cap_ = 0;  // power of two
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace junction::core
