// SubscriptionTree: see the header for the wildcard rules.
//
// Invariants:
//  * Every node other than the root is on the path of at least one live
//    subscription: unsubscribe() prunes nodes left with no subscribers, no
//    groups and no children. The root is never removed.
//  * A node's `literal` / `rare` pointers are null whenever what they hold
//    would be empty, so a leaf with one subscriber is one map entry (key,
//    five words, chain link) and nothing else.
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

// The non-shared subscriptions of one node. Most nodes of a broker with many
// clients are leaves with exactly one subscriber (each device its own
// topic), so one entry lives inline and only a second one allocates.
class EntryList {
 public:
  EntryList() = default;
  EntryList(const EntryList&) = delete;
  EntryList& operator=(const EntryList&) = delete;
  EntryList(EntryList&& o) noexcept { take(o); }
  EntryList& operator=(EntryList&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ~EntryList() { release(); }

  bool empty() const { return size_ == 0; }
  Entry* begin() { return data(); }
  Entry* end() { return data() + size_; }
  const Entry* begin() const { return const_cast<EntryList*>(this)->data(); }
  const Entry* end() const { return begin() + size_; }

  void push_back(const Entry& e) {
    if (size_ == 0 && cap_ == 0) {
      u_.one = e;
      size_ = 1;
      return;
    }
    if (size_ == capacity()) regrow(std::max<std::uint32_t>(4, capacity() * 2));
    data()[size_++] = e;
  }
  // Order within a node carries no meaning: the last entry fills the gap.
  void remove(Entry* it) {
    *it = data()[size_ - 1];
    --size_;
    // Give memory back after a crowd leaves a popular filter.
    if (cap_ != 0 && size_ <= cap_ / 4) regrow(size_);
  }

 private:
  std::uint32_t capacity() const { return cap_ == 0 ? 1 : cap_; }
  Entry* data() { return cap_ == 0 ? &u_.one : u_.many; }
  // To `n` slots: inline when n <= 1.
  void regrow(std::uint32_t n) {
    Entry* old = data();
    if (n <= 1) {
      Entry keep = size_ ? old[0] : Entry{};
      delete[] u_.many;
      cap_ = 0;
      u_.one = keep;
      return;
    }
    Entry* fresh = new Entry[n];
    std::copy(old, old + size_, fresh);
    if (cap_ != 0) delete[] u_.many;
    u_.many = fresh;
    cap_ = n;
  }
  void release() {
    if (cap_ != 0) delete[] u_.many;
    cap_ = 0;
    size_ = 0;
  }
  void take(EntryList& o) {
    size_ = o.size_;
    cap_ = o.cap_;
    if (cap_ == 0) {
      u_.one = o.u_.one;
    } else {
      u_.many = o.u_.many;
    }
    o.cap_ = 0;
    o.size_ = 0;
  }

  union Slot {
    Slot() : many(nullptr) {}
    Entry one;    // cap_ == 0
    Entry* many;  // cap_ > 1
  } u_;
  std::uint32_t size_ = 0;
  std::uint32_t cap_ = 0;  // 0: the inline slot
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
  // Children by value in the map: one allocation per level, not two.
  using Children = std::unordered_map<std::string, Node, LevelHash, std::equal_to<>>;
  using Groups = std::vector<std::unique_ptr<SharedGroup>>;  // unique_ptr: SharedGroup* handed out stays valid
  // What few nodes have: wildcard children and $share groups.
  struct Rare {
    std::unique_ptr<Node> plus;
    std::unique_ptr<Node> pound;
    Groups shared;  // $share groups on exactly this filter
    bool empty() const { return !plus && !pound && shared.empty(); }
  };

  std::unique_ptr<Children> literal;  // lazily allocated: most nodes are leaves
  std::unique_ptr<Rare> rare;         // null while it would be empty
  EntryList subs;                     // non-shared subscriptions

  Node* plus() const { return rare ? rare->plus.get() : nullptr; }
  Node* pound() const { return rare ? rare->pound.get() : nullptr; }
  const Groups* shared() const { return rare && !rare->shared.empty() ? &rare->shared : nullptr; }

  bool empty() const { return subs.empty() && !rare && (!literal || literal->empty()); }

  Node* child(std::string_view level) const {
    if (level == "+") return plus();
    if (level == "#") return pound();
    if (!literal) return nullptr;
    auto it = literal->find(level);
    return it == literal->end() ? nullptr : &it->second;
  }

  Node* child_or_create(std::string_view level) {
    if (level == "+" || level == "#") {
      if (!rare) rare = std::make_unique<Rare>();
      std::unique_ptr<Node>& w = level == "+" ? rare->plus : rare->pound;
      if (!w) w = std::make_unique<Node>();
      return w.get();
    }
    if (!literal) literal = std::make_unique<Children>();
    auto it = literal->find(level);
    if (it == literal->end()) it = literal->emplace(std::string(level), Node{}).first;
    return &it->second;
  }

  void drop_rare_if_empty() {
    if (rare && rare->empty()) rare.reset();
  }

  void remove_child(std::string_view level) {
    if (level == "+" || level == "#") {
      if (rare) (level == "+" ? rare->plus : rare->pound).reset();
      drop_rare_if_empty();
    } else if (literal) {
      // No heterogeneous erase(key) before C++23: find, then erase the iterator.
      auto it = literal->find(level);
      if (it != literal->end()) literal->erase(it);
      if (literal->empty()) literal.reset();
    }
  }

  SharedGroup* find_group(std::string_view name) const {
    if (const Groups* groups = shared()) {
      for (const auto& g : *groups)
        if (g->group == name) return g.get();
    }
    return nullptr;
  }

  // Destroys a subtree without recursing once per level: children are moved
  // out onto an explicit stack before their parent goes, so every destructor
  // that runs is shallow.
  static void destroy(Node&& top) {
    std::vector<Node> stack;
    stack.push_back(std::move(top));
    while (!stack.empty()) {
      Node n = std::move(stack.back());
      stack.pop_back();
      if (n.rare) {
        if (n.rare->plus) stack.push_back(std::move(*n.rare->plus));
        if (n.rare->pound) stack.push_back(std::move(*n.rare->pound));
      }
      if (n.literal)
        for (auto& kv : *n.literal) stack.push_back(std::move(kv.second));
    }
  }
};

SubscriptionTree::SubscriptionTree() : root_(std::make_unique<Node>()) {
  // 10,000+ sessions each with a private filter means mostly leaf nodes,
  // each one map entry: its key, five words of node and the hash chain link.
  static_assert(sizeof(void*) != 8 || sizeof(Node) <= 40);
}

SubscriptionTree::~SubscriptionTree() { Node::destroy(std::move(*root_)); }

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
      if (!n->rare) n->rare = std::make_unique<Node::Rare>();
      n->rare->shared.push_back(std::move(fresh));
      g = n->rare->shared.back().get();
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
      n->subs.remove(it);
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
        auto& groups = n->rare->shared;
        auto git = std::find_if(groups.begin(), groups.end(), [g](const auto& p) { return p.get() == g; });
        *git = std::move(groups.back());
        groups.pop_back();
        n->drop_rare_if_empty();
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
  if (const Node::Groups* groups = n->shared()) {
    for (const auto& g : *groups) {
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
        if (n->rare) {
          if (Node* p = n->rare->pound.get()) collect(p, publisher, out);
          if (Node* p = n->rare->plus.get()) next_.push_back(p);
        }
      }
      if (n->literal) {
        auto it = n->literal->find(level);
        if (it != n->literal->end()) next_.push_back(&it->second);
      }
    }
    frontier_.swap(next_);
    first = false;
  }
  // The topic is used up (or nothing is left to match): frontier_ holds the
  // exact matches, and their `#` children match the parent level.
  for (Node* n : frontier_) {
    collect(n, publisher, out);
    if (Node* p = n->pound()) collect(p, publisher, out);
  }
}

std::size_t SubscriptionTree::node_count() const {
  std::size_t count = 0;
  std::vector<const Node*> stack{root_.get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++count;
    if (Node* p = n->plus()) stack.push_back(p);
    if (Node* p = n->pound()) stack.push_back(p);
    if (n->literal)
      for (const auto& kv : *n->literal) stack.push_back(&kv.second);
  }
  return count;
}

}  // namespace junction::core
