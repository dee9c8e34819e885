// junction::core::SubscriptionTree — who gets a topic.
//
// A trie with one node per topic level; each node has literal children plus
// dedicated `+` and `#` children (NATS pwc/fwc, FlashMQ childrenPlus/Pound),
// so matching walks only the branches that can match and never scans all
// subscriptions. Matching splits the topic into string_views: no copies.
//
// Wildcard rules [MQTT-4.7]:
//  * `#` matches the parent level and any number of child levels, and must be
//    the last level ("a/#" matches "a", "a/b", "a/b/c").
//  * `+` matches exactly one level, including an empty one ("a/+" matches "a/").
//  * Filters starting with `+` or `#` do not match topics starting with `$`
//    [MQTT-4.7.2-1]; "$SYS/#" does.
//  * Shared subscriptions "$share/<group>/<filter>" are stored per (filter,
//    group); a match yields the group once and the caller picks one member.
//
// One session matched through several overlapping filters appears once in a
// MatchResult, with the highest QoS and every subscription identifier
// [MQTT-3.3.4-2, -3.3.4-4, -3.3.4-5]. A no-local subscription does not match
// messages published by its own session [MQTT-3.8.3-3].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace junction::core {

struct SubscriptionOptions {
  std::uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint8_t retain_handling = 0;    // 0 send retained, 1 only if new, 2 never
  std::uint32_t subscription_id = 0;   // 0 = none
};

// Anything that can subscribe (a core Session). The match bookkeeping fields
// let the tree merge overlapping matches in O(1) without a hash set.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  std::uint64_t match_epoch_ = 0;
  std::uint32_t match_slot_ = 0;
};

struct SharedMember {
  Subscriber* subscriber = nullptr;
  SubscriptionOptions options;
};

// One $share group on one filter. `next` is the round-robin cursor the
// caller advances when it picks a member.
struct SharedGroup {
  std::string group;
  std::string filter;
  std::vector<SharedMember> members;
  std::uint32_t next = 0;            // round robin
  const Subscriber* sticky = nullptr;  // the sticky strategy's choice (checked against members)
};

struct Match {
  Subscriber* subscriber = nullptr;
  std::uint8_t qos = 0;
  bool retain_as_published = false;  // true if any matching subscription has it
  std::vector<std::uint32_t> subscription_ids;
};

// Reused across calls: after warm-up, matching allocates nothing.
class MatchResult {
 public:
  const std::vector<Match>& matches() const { return matches_; }
  const std::vector<SharedGroup*>& groups() const { return groups_; }
  std::size_t size() const { return used_; }
  const Match& operator[](std::size_t i) const { return matches_[i]; }
  std::size_t group_count() const { return groups_.size(); }
  SharedGroup& group(std::size_t i) const { return *groups_[i]; }
  void clear() { used_ = 0; groups_.clear(); }

 private:
  friend class SubscriptionTree;
  std::vector<Match> matches_;  // first used_ entries are valid
  std::size_t used_ = 0;
  std::vector<SharedGroup*> groups_;
};

class SubscriptionTree {
 public:
  SubscriptionTree();
  ~SubscriptionTree();
  SubscriptionTree(const SubscriptionTree&) = delete;
  SubscriptionTree& operator=(const SubscriptionTree&) = delete;

  // `filter` is the plain filter (after any "$share/<group>/" prefix was
  // split off); `group` is empty for a non-shared subscription. The filter
  // must be valid (see topic.h). Returns true if the subscription is new,
  // false if it replaced the same subscriber's options on the same filter.
  bool subscribe(std::string_view filter, std::string_view group, Subscriber* s, const SubscriptionOptions& o);
  // Returns true if a subscription was removed. Empty nodes are pruned.
  bool unsubscribe(std::string_view filter, std::string_view group, Subscriber* s);

  // Fills `out` (cleared first) with the subscribers for `topic` (a valid
  // topic name). `publisher` is used for no-local; may be null.
  void match(std::string_view topic, const Subscriber* publisher, MatchResult& out);

  std::size_t subscription_count() const { return count_; }

 private:
  struct Node;
  friend struct SubscriptionTreeTestAccess;  // unit tests: node_count()
  void collect(Node* n, const Subscriber* publisher, MatchResult& out);
  std::size_t node_count() const;

  std::unique_ptr<Node> root_;
  std::size_t count_ = 0;
  std::uint64_t epoch_ = 0;
  // match() scratch: the nodes reached by the levels seen so far, and the
  // next level's. Kept across calls so a warm match() allocates nothing.
  std::vector<Node*> frontier_;
  std::vector<Node*> next_;
};

}  // namespace junction::core
