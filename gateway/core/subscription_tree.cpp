// SubscriptionTree: see the header for the wildcard rules.
//
// Invariants:
//  * Every node other than the root is on the path of at least one live
//    subscription: unsubscribe() prunes nodes left with no subscribers, no
//    groups and no children. The root is never removed.
//  * A node's `literal` / `shared` pointers are null whenever the container
//    would be empty, so a leaf costs seven words plus its map entry.
//  * `#` nodes are always leaves (valid filters end at `#`), and frontier
//    walks only follow literal and `+` edges, so each node is visited at most
//    once per match(): every SharedGroup is reached at most once, and no
//    duplicate check is needed for groups_.
//  * Nothing recurses over levels (a 64 KiB filter has 32768 levels), including
//    destruction.
#include "subscription_tree.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <unordered_map>

#include "topic.h"

namespace junction::core {

namespace {

// Transparent hash: with std::equal_to<> this enables the C++20
// heterogeneous find(string_view), so matching never builds a std::string.
// (std::string converts to string_view, so one overload serves both.)
struct LevelHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Entry {
  Subscriber* subscriber;
  SubscriptionOptions options;
};

constexpr std::size_t npos = std::string_view::npos;

// Same level splitting as for_each_level(), but resumable so loops can stop
// early. `pos` becomes npos after the last level.
std::string_view next_level(std::string_view s, std::size_t& pos) {
  std::size_t slash = s.find('/', pos);
  std::string_view level;
  if (slash == npos) {
    level = s.substr(pos);
    pos = npos;
  } else {
    level = s.substr(pos, slash - pos);
    pos = slash + 1;
  }
  return level;
}

}  // namespace

struct SubscriptionTree::Node {
  using Children = std::unordered_map<std::string, std::unique_ptr<Node>, LevelHash, std::equal_to<>>;
  using Groups = std::vector<std::unique_ptr<SharedGroup>>;  // unique_ptr: SharedGroup* handed out stays valid

  std::unique_ptr<Children> literal;  // lazily allocated: most nodes are leaves
  std::unique_ptr<Node> plus;
  std::unique_ptr<Node> pound;
  std::vector<Entry> subs;         // non-shared subscriptions; grows on demand only
  std::unique_ptr<Groups> shared;  // $share groups on exactly this filter; rare

  bool empty() const {
    return subs.empty() && (!shared || shared->empty()) && (!literal || literal->empty()) && !plus && !pound;
  }

  Node* child(std::string_view level) const {
    if (level == "+") return plus.get();
    if (level == "#") return pound.get();
    if (!literal) return nullptr;
    auto it = literal->find(level);
    return it == literal->end() ? nullptr : it->second.get();
  }

  Node* child_or_create(std::string_view level) {
    if (level == "+") {
      if (!plus) plus = std::make_unique<Node>();
      return plus.get();
    }
    if (level == "#") {
      if (!pound) pound = std::make_unique<Node>();
      return pound.get();
    }
    if (!literal) literal = std::make_unique<Children>();
    auto it = literal->find(level);
    if (it == literal->end()) it = literal->emplace(std::string(level), std::make_unique<Node>()).first;
    return it->second.get();
  }

  void remove_child(std::string_view level) {
    if (level == "+") {
      plus.reset();
    } else if (level == "#") {
      pound.reset();
    } else if (literal) {
      // No heterogeneous erase(key) before C++23: find, then erase the iterator.
      auto it = literal->find(level);
      if (it != literal->end()) literal->erase(it);
      if (literal->empty()) literal.reset();
    }
  }

  SharedGroup* find_group(std::string_view name) const {
    if (!shared) return nullptr;
    for (const auto& g : *shared)
      if (g->group == name) return g.get();
    return nullptr;
  }

  // Destroys a subtree without recursing once per level.
  static void destroy(std::unique_ptr<Node> root) {
    std::vector<std::unique_ptr<Node>> stack;
    stack.push_back(std::move(root));
    while (!stack.empty()) {
      std::unique_ptr<Node> n = std::move(stack.back());
      stack.pop_back();
      if (!n) continue;
      if (n->plus) stack.push_back(std::move(n->plus));
      if (n->pound) stack.push_back(std::move(n->pound));
      if (n->literal)
        for (auto& kv : *n->literal) stack.push_back(std::move(kv.second));
      // `n` now owns no children; its destructor is shallow.
    }
  }
};

SubscriptionTree::SubscriptionTree() : root_(std::make_unique<Node>()) {
  // 10,000+ sessions each with a private filter means mostly leaf nodes:
  // keep a node at seven words plus its map entry.
  static_assert(sizeof(void*) != 8 || sizeof(Node) <= 56);
}

SubscriptionTree::~SubscriptionTree() { Node::destroy(std::move(root_)); }

bool SubscriptionTree::subscribe(std::string_view filter, std::string_view group, Subscriber* s,
                                 const SubscriptionOptions& o) {
  assert(s != nullptr);
  assert(valid_topic_filter(filter));
  Node* n = root_.get();
  for_each_level(filter, [&](std::string_view level) { n = n->child_or_create(level); });

  if (group.empty()) {
    for (Entry& e : n->subs) {
      if (e.subscriber == s) {
        e.options = o;  // [MQTT-3.8.4-3]: replace, keep one subscription
        return false;
      }
    }
    n->subs.push_back(Entry{s, o});
  } else {
    SharedGroup* g = n->find_group(group);
    if (g == nullptr) {
      auto fresh = std::make_unique<SharedGroup>();
      fresh->group.assign(group);
      fresh->filter.assign(filter);
      if (!n->shared) n->shared = std::make_unique<Node::Groups>();
      n->shared->push_back(std::move(fresh));
      g = n->shared->back().get();
    }
    for (SharedMember& m : g->members) {
      if (m.subscriber == s) {
        m.options = o;
        return false;
      }
    }
    g->members.push_back(SharedMember{s, o});
  }
  ++count_;
  return true;
}

bool SubscriptionTree::unsubscribe(std::string_view filter, std::string_view group, Subscriber* s) {
  // frontier_ doubles as the path of parents, so unsubscribe allocates
  // nothing once warm either; match() is not running (single-threaded core).
  std::vector<Node*>& path = frontier_;
  path.clear();
  Node* n = root_.get();
  std::size_t pos = 0;
  while (pos != npos) {
    std::string_view level = next_level(filter, pos);
    Node* c = n->child(level);
    if (c == nullptr) return false;
    path.push_back(n);
    n = c;
  }

  bool removed = false;
  if (group.empty()) {
    auto it = std::find_if(n->subs.begin(), n->subs.end(), [s](const Entry& e) { return e.subscriber == s; });
    if (it != n->subs.end()) {
      *it = n->subs.back();  // order within a node carries no meaning
      n->subs.pop_back();
      // Give memory back after a crowd leaves a popular filter.
      if (n->subs.size() <= n->subs.capacity() / 4) n->subs.shrink_to_fit();
      removed = true;
    }
  } else if (SharedGroup* g = n->find_group(group)) {
    auto& members = g->members;
    auto it = std::find_if(members.begin(), members.end(), [s](const SharedMember& m) { return m.subscriber == s; });
    if (it != members.end()) {
      // Erase in place (not swap-pop) so the round-robin order stays fair,
      // and keep `next` pointing at the member that was due next.
      std::size_t idx = static_cast<std::size_t>(it - members.begin());
      members.erase(it);
      if (idx < g->next) --g->next;
      if (g->next >= members.size()) g->next = 0;
      removed = true;
      if (members.empty()) {
        auto& groups = *n->shared;
        auto git = std::find_if(groups.begin(), groups.end(), [g](const auto& p) { return p.get() == g; });
        *git = std::move(groups.back());
        groups.pop_back();
        if (groups.empty()) n->shared.reset();
      }
    }
  }
  if (!removed) return false;
  --count_;

  // Prune bottom-up, recovering each edge's level by scanning the filter
  // from the right.
  std::string_view rest = filter;
  for (std::size_t i = path.size(); i-- > 0 && n->empty();) {
    std::size_t slash = rest.rfind('/');
    std::string_view level = slash == npos ? rest : rest.substr(slash + 1);
    rest = slash == npos ? std::string_view{} : rest.substr(0, slash);
    Node* parent = path[i];
    parent->remove_child(level);  // destroys n
    n = parent;
  }
  path.clear();
  return true;
}

void SubscriptionTree::collect(Node* n, const Subscriber* publisher, MatchResult& out) {
  for (const Entry& e : n->subs) {
    if (e.options.no_local && e.subscriber == publisher) continue;  // [MQTT-3.8.3-3]
    Subscriber* s = e.subscriber;
    // The slot check guards against a Subscriber also used by another tree
    // whose epoch happens to be equal: only trust the mark if it points at us.
    if (s->match_epoch_ == epoch_ && s->match_slot_ < out.used_ && out.matches_[s->match_slot_].subscriber == s) {
      Match& m = out.matches_[s->match_slot_];
      m.qos = std::max(m.qos, e.options.qos);                    // [MQTT-3.3.4-2]
      m.retain_as_published = m.retain_as_published || e.options.retain_as_published;
      std::uint32_t id = e.options.subscription_id;             // [MQTT-3.3.4-4, -3.3.4-5]
      if (id != 0 && std::find(m.subscription_ids.begin(), m.subscription_ids.end(), id) == m.subscription_ids.end())
        m.subscription_ids.push_back(id);
      continue;
    }
    s->match_epoch_ = epoch_;
    s->match_slot_ = static_cast<std::uint32_t>(out.used_);
    if (out.used_ == out.matches_.size()) out.matches_.emplace_back();
    Match& m = out.matches_[out.used_++];
    m.subscriber = s;
    m.qos = e.options.qos;
    m.retain_as_published = e.options.retain_as_published;
    m.subscription_ids.clear();  // keeps capacity from earlier calls
    if (e.options.subscription_id != 0) m.subscription_ids.push_back(e.options.subscription_id);
  }
  if (n->shared) {
    for (const auto& g : *n->shared) {
      assert(std::find(out.groups_.begin(), out.groups_.end(), g.get()) == out.groups_.end());
      out.groups_.push_back(g.get());
    }
  }
}

void SubscriptionTree::match(std::string_view topic, const Subscriber* publisher, MatchResult& out) {
  out.clear();
  ++epoch_;
  // Level-by-level frontier instead of recursion: no stack depth per level,
  // and the two scratch vectors are reused across calls.
  frontier_.clear();
  frontier_.push_back(root_.get());
  // [MQTT-4.7.2-1]: root-level `+` and `#` skip topics starting with '$'.
  const bool dollar = !topic.empty() && topic.front() == '$';
  bool first = true;
  std::size_t pos = 0;
  while (pos != npos && !frontier_.empty()) {
    std::string_view level = next_level(topic, pos);
    next_.clear();
    const bool wildcards = !(first && dollar);
    for (Node* n : frontier_) {
      if (wildcards) {
        // `#` under a node reached so far matches whatever levels remain.
        if (n->pound) collect(n->pound.get(), publisher, out);
        if (n->plus) next_.push_back(n->plus.get());
      }
      if (n->literal) {
        auto it = n->literal->find(level);
        if (it != n->literal->end()) next_.push_back(it->second.get());
      }
    }
    frontier_.swap(next_);
    first = false;
  }
  // The topic is used up (or nothing is left to match): frontier_ holds the
  // exact matches, and their `#` children match the parent level.
  for (Node* n : frontier_) {
    collect(n, publisher, out);
    if (n->pound) collect(n->pound.get(), publisher, out);
  }
}

std::size_t SubscriptionTree::node_count() const {
  std::size_t count = 0;
  std::vector<const Node*> stack{root_.get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++count;
    if (n->plus) stack.push_back(n->plus.get());
    if (n->pound) stack.push_back(n->pound.get());
    if (n->literal)
      for (const auto& kv : *n->literal) stack.push_back(kv.second.get());
  }
  return count;
}

}  // namespace junction::core
