// A sorted-vector map for the few entries a session holds (its
// subscriptions): one array instead of one 80-byte tree node per entry, and
// 24 bytes in the owner instead of std::map's 48. 10,000 idle sessions with
// one subscription each is a benchmark case (docs/PERFORMANCE.md). Lookups take any
// key comparable with std::string_view; insertion and erase are O(n), fine
// for the handful of filters a client subscribes to.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::core {

template <class V>
class FlatStringMap {
 public:
  using value_type = std::pair<std::string, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  iterator find(std::string_view key) {
    auto it = lower(key);
    return it != items_.end() && it->first == key ? it : items_.end();
  }
  const_iterator find(std::string_view key) const { return const_cast<FlatStringMap*>(this)->find(key); }

  // Inserts when absent; like std::map::emplace, an existing entry is kept.
  std::pair<iterator, bool> emplace(std::string key, V value) {
    auto it = lower(key);
    if (it != items_.end() && it->first == key) return {it, false};
    it = items_.emplace(it, std::move(key), std::move(value));
    return {it, true};
  }
  void erase(iterator it) {
    items_.erase(it);
    if (items_.empty()) std::vector<value_type>().swap(items_);
  }
  void clear() { std::vector<value_type>().swap(items_); }

 private:
  iterator lower(std::string_view key) {
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [](const value_type& e, std::string_view k) { return std::string_view(e.first) < k; });
  }
  std::vector<value_type> items_;
};

}  // namespace junction::core
