// junction::core::RetainedStore — the last retained message of each topic.
//
// A trie keyed by topic level (same shape as SubscriptionTree, but the
// messages sit at nodes and the *filter* is what walks the tree), so that a
// subscription to "a/+/c" visits only the matching branches instead of every
// retained topic. An empty retained payload clears the topic [MQTT-3.3.1-6].
// The $-rule applies: "#" and "+/..." do not return "$..." topics.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "message.h"

namespace junction::core {

class RetainedStore {
 public:
  RetainedStore();
  ~RetainedStore();
  RetainedStore(const RetainedStore&) = delete;
  RetainedStore& operator=(const RetainedStore&) = delete;

  // Stores `msg` as the retained message of msg->topic, or clears the topic
  // when the payload is empty. Returns the message it replaced (may be null).
  MessageRef set(const MessageRef& msg);
  // Removes the retained message of `topic` (e.g. expired); returns it.
  MessageRef erase(std::string_view topic);
  MessageRef find(std::string_view topic) const;

  // Visits every retained message whose topic matches `filter` (a valid
  // filter, not $share). The visitor sees a snapshot taken before the first
  // call, so it may modify the store (e.g. a will published mid-delivery).
  void match(std::string_view filter, const std::function<void(const MessageRef&)>& visit) const;
  // Visits everything (start-up checks, tests); a snapshot, as match().
  void for_each(const std::function<void(const MessageRef&)>& visit) const;

  std::size_t size() const { return count_; }

 private:
  struct Node;
  friend struct RetainedStoreTestAccess;  // unit tests: node_count()
  std::size_t node_count() const;

  std::unique_ptr<Node> root_;
  std::size_t count_ = 0;
};

}  // namespace junction::core
