// A map from string keys for what a session holds (its subscriptions): most
// sessions hold a handful, some (gateways, bridges, benchmarks) hold 100,000.
//
// Up to kSmallMax entries it is one sorted array (no node per entry, and 24
// bytes in the owner instead of std::map's 48: 10,000 idle sessions with one
// subscription each is a benchmark case, docs/PERFORMANCE.md). Past that it
// moves into a std::map, because inserting into a sorted array is O(n): a
// client subscribing 100,000 filters one by one cost O(n^2) (9 s measured,
// issue 18). It goes back to the array below kSmallMin (hysteresis, so a
// session hovering at the edge does not convert on every change).
//
// Lookups take any key comparable with std::string_view. Iteration is in key
// order in both forms. The element is seen through a (first, second) pair of
// references, so `for (auto& [key, value] : map)` and `it->second = v` work
// whichever form holds it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace junction::core {

template <class V>
class FlatStringMap {
  using Small = std::pair<std::string, V>;
  using Large = std::map<std::string, V, std::less<>>;

 public:
  static constexpr std::uint32_t kSmallMax = 64;
  static constexpr std::uint32_t kSmallMin = 16;

  template <class Value>
  struct Ref {
    const std::string& first;
    Value& second;
  };
  template <class Value>
  struct Arrow {
    Ref<Value> ref;
    const Ref<Value>* operator->() const { return &ref; }
  };

  template <class Value>
  class Iter {
   public:
    Ref<Value> operator*() const { return p_ ? Ref<Value>{p_->first, p_->second} : Ref<Value>{it_->first, it_->second}; }
    Arrow<Value> operator->() const { return Arrow<Value>{**this}; }
    Iter& operator++() {
      if (p_) {
        ++p_;
      } else {
        ++it_;
      }
      return *this;
    }
    bool operator==(const Iter& o) const { return p_ == o.p_ && (p_ || it_ == o.it_); }
    bool operator!=(const Iter& o) const { return !(*this == o); }

   private:
    friend class FlatStringMap;
    Iter(Small* p, typename Large::iterator it) : p_(p), it_(it) {}
    Small* p_ = nullptr;             // the array form
    typename Large::iterator it_{};  // the map form (p_ null)
  };
  using iterator = Iter<V>;
  using const_iterator = Iter<const V>;

  FlatStringMap() = default;
  FlatStringMap(const FlatStringMap&) = delete;
  FlatStringMap& operator=(const FlatStringMap&) = delete;
  ~FlatStringMap() { clear(); }

  std::size_t size() const { return large_ ? large_->size() : size_; }
  bool empty() const { return size() == 0; }

  iterator begin() { return large_ ? iterator(nullptr, large_->begin()) : iterator(data_, {}); }
  iterator end() { return large_ ? iterator(nullptr, large_->end()) : iterator(data_ + size_, {}); }
  const_iterator begin() const { return constify(const_cast<FlatStringMap*>(this)->begin()); }
  const_iterator end() const { return constify(const_cast<FlatStringMap*>(this)->end()); }

  iterator find(std::string_view key) {
    if (large_) return iterator(nullptr, large_->find(key));
    Small* it = lower(key);
    return it != data_ + size_ && it->first == key ? iterator(it, {}) : end();
  }
  const_iterator find(std::string_view key) const { return constify(const_cast<FlatStringMap*>(this)->find(key)); }

  // Inserts when absent; like std::map::emplace, an existing entry is kept.
  std::pair<iterator, bool> emplace(std::string key, V value) {
    if (!large_ && size_ >= kSmallMax && find(key) == end()) to_large();
    if (large_) {
      auto [it, added] = large_->emplace(std::move(key), std::move(value));
      return {iterator(nullptr, it), added};
    }
    Small* at = lower(key);
    if (at != data_ + size_ && at->first == key) return {iterator(at, {}), false};
    const std::size_t index = static_cast<std::size_t>(at - data_);
    if (size_ == capacity_) grow();
    at = data_ + index;
    // Shift the tail up one slot: the last element is moved into raw memory,
    // the others move-assigned backwards.
    if (index == size_) {
      new (data_ + size_) Small(std::move(key), std::move(value));
    } else {
      new (data_ + size_) Small(std::move(data_[size_ - 1]));
      std::move_backward(at, data_ + size_ - 1, data_ + size_);
      *at = Small(std::move(key), std::move(value));
    }
    ++size_;
    return {iterator(at, {}), true};
  }

  void erase(iterator it) {
    if (large_) {
      large_->erase(it.it_);
      if (large_->size() < kSmallMin) to_small();
      return;
    }
    std::move(it.p_ + 1, data_ + size_, it.p_);
    data_[--size_].~Small();
    if (size_ == 0) release();
  }

  void clear() {
    large_.reset();
    for (std::uint32_t i = 0; i < size_; ++i) data_[i].~Small();
    size_ = 0;
    release();
  }

 private:
  static const_iterator constify(iterator it) { return const_iterator(it.p_, it.it_); }

  Small* lower(std::string_view key) {
    return std::lower_bound(data_, data_ + size_, key,
                            [](const Small& e, std::string_view k) { return std::string_view(e.first) < k; });
  }
  void grow() {
    const std::uint32_t cap = capacity_ ? capacity_ * 2 : 1;
    Small* fresh = static_cast<Small*>(::operator new(sizeof(Small) * cap));
    for (std::uint32_t i = 0; i < size_; ++i) {
      new (fresh + i) Small(std::move(data_[i]));
      data_[i].~Small();
    }
    ::operator delete(data_);
    data_ = fresh;
    capacity_ = cap;
  }
  void release() {
    ::operator delete(data_);
    data_ = nullptr;
    capacity_ = 0;
  }
  void to_large() {
    auto big = std::make_unique<Large>();
    for (std::uint32_t i = 0; i < size_; ++i) big->emplace_hint(big->end(), std::move(data_[i].first), std::move(data_[i].second));
    clear();
    large_ = std::move(big);
  }
  void to_small() {
    std::unique_ptr<Large> big = std::move(large_);
    data_ = static_cast<Small*>(::operator new(sizeof(Small) * big->size()));
    capacity_ = static_cast<std::uint32_t>(big->size());
    for (auto& [k, v] : *big) new (data_ + size_++) Small(k, std::move(v));
  }

  // 24 bytes in the owner, as the std::vector this replaces.
  Small* data_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
  std::unique_ptr<Large> large_;
};

}  // namespace junction::core
