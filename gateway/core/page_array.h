// junction::core::PageArray — a fixed-size, zero-filled array of trivially
// copyable slots in its own anonymous mapping, on huge pages when it is
// large enough.
//
// For big open-addressing tables (the duplicate-detection index: 64 MB for
// a million ids) every lookup lands on a random page: with 4 KiB pages that
// is a TLB miss and a page walk on top of the cache miss; with 2 MiB pages
// the walk mostly stays in cache. Memory comes zeroed from the kernel, so
// "all zero" must mean "empty slot".
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace junction::core {

template <class T>
class PageArray {
  static_assert(std::is_trivially_copyable_v<T>, "slots are moved and zeroed as bytes");

 public:
  PageArray() = default;
  explicit PageArray(std::size_t n) : size_(n) {
    if (n == 0) return;
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHuge) {
      base_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base_ == MAP_FAILED) throw std::bad_alloc();
      mapped_ = bytes;
      data_ = static_cast<T*>(base_);
      return;
    }
    // Over-map by one huge page and trim, so the array starts on a 2 MiB boundary.
    const std::size_t want = (bytes + kHuge - 1) & ~(kHuge - 1);
    void* raw = ::mmap(nullptr, want + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + kHuge - 1) & ~std::uintptr_t(kHuge - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    const std::uintptr_t end = start + want + kHuge;
    if (end > aligned + want) ::munmap(reinterpret_cast<void*>(aligned + want), end - (aligned + want));
    base_ = reinterpret_cast<void*>(aligned);
    mapped_ = want;
    ::madvise(base_, mapped_, MADV_HUGEPAGE);  // advice only: without THP, plain pages
    data_ = static_cast<T*>(base_);
  }
  ~PageArray() { release(); }
  PageArray(const PageArray&) = delete;
  PageArray& operator=(const PageArray&) = delete;
  PageArray(PageArray&& o) noexcept { swap(o); }
  PageArray& operator=(PageArray&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  void swap(PageArray& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(mapped_, o.mapped_);
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  // Bytes mapped (touched or not).
  std::size_t mapped_bytes() const { return mapped_; }

 private:
  static constexpr std::size_t kHuge = std::size_t(2) << 20;
  void release() {
    if (base_) ::munmap(base_, mapped_);
    base_ = nullptr;
    data_ = nullptr;
    mapped_ = size_ = 0;
  }
  void* base_ = nullptr;
  std::size_t mapped_ = 0;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace junction::core
