// RetainedStore: see the header.
//
// Invariants:
//  * A node other than the root holds a message (resident: msg; cold:
//    cold_id, never both) or has children; set() with an empty payload
//    prunes the nodes it leaves empty.
//  * The root stands for "no level yet" and never holds a message (every
//    topic has at least one level; "" is one empty level).
//  * count_ is the number of nodes holding a message, cold_ of those cold.
//  * Nothing recurses over levels (a 64 KiB topic has 32768 levels).
#include "retained_store.h"

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "topic.h"

namespace junction::core {

namespace {

// Transparent hash for heterogeneous find(string_view) (C++20).
struct LevelHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

constexpr std::size_t npos = std::string_view::npos;

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

struct RetainedStore::Node {
  using Children = std::unordered_map<std::string, std::unique_ptr<Node>, LevelHash, std::equal_to<>>;

  std::unique_ptr<Children> children;  // lazily allocated: most nodes are leaves
  MessageRef msg;                      // resident
  std::uint64_t cold_id = 0;           // cold: the body is in the store

  bool holds() const { return msg || cold_id != 0; }
  bool empty() const { return !holds() && (!children || children->empty()); }

  Node* child(std::string_view level) const {
    if (!children) return nullptr;
    auto it = children->find(level);
    return it == children->end() ? nullptr : it->second.get();
  }

  Node* child_or_create(std::string_view level) {
    if (!children) children = std::make_unique<Children>();
    auto it = children->find(level);
    if (it == children->end()) it = children->emplace(std::string(level), std::make_unique<Node>()).first;
    return it->second.get();
  }

  void remove_child(std::string_view level) {
    if (!children) return;
    auto it = children->find(level);
    if (it != children->end()) children->erase(it);
    if (children->empty()) children.reset();
  }

  static void destroy(std::unique_ptr<Node> root) {
    std::vector<std::unique_ptr<Node>> stack;
    stack.push_back(std::move(root));
    while (!stack.empty()) {
      std::unique_ptr<Node> n = std::move(stack.back());
      stack.pop_back();
      if (n && n->children)
        for (auto& kv : *n->children) stack.push_back(std::move(kv.second));
    }
  }

  // Appends the nodes holding a message among `n` and all its descendants;
  // at the root, skips '$' children when asked ([MQTT-4.7.2-1] for a
  // leading `#`).
  static void gather_subtree(Node* n, bool skip_dollar_children, std::vector<Node*>& out) {
    std::vector<Node*> stack{n};
    bool top = true;
    while (!stack.empty()) {
      Node* cur = stack.back();
      stack.pop_back();
      if (cur->holds()) out.push_back(cur);
      if (cur->children) {
        for (const auto& kv : *cur->children) {
          if (top && skip_dollar_children && !kv.first.empty() && kv.first.front() == '$') continue;
          stack.push_back(kv.second.get());
        }
      }
      top = false;
    }
  }
};

RetainedStore::RetainedStore() : root_(std::make_unique<Node>()) {}

RetainedStore::~RetainedStore() { Node::destroy(std::move(root_)); }

namespace {

// Takes whatever `n` holds out of it.
template <class Node>
RetainedStore::Replaced take(Node* n, std::size_t& cold) {
  RetainedStore::Replaced old;
  old.msg = std::move(n->msg);
  n->msg = MessageRef();
  old.cold_id = std::exchange(n->cold_id, 0);
  if (old.cold_id != 0) --cold;
  return old;
}

}  // namespace

RetainedStore::Replaced RetainedStore::set(const MessageRef& msg) {
  if (!msg) return {};
  if (msg->payload.empty()) return erase(msg->topic);  // [MQTT-3.3.1-6]
  Node* n = root_.get();
  for_each_level(std::string_view(msg->topic), [&](std::string_view level) { n = n->child_or_create(level); });
  Replaced old = take(n, cold_);
  n->msg = msg;
  if (!old) ++count_;
  return old;
}

RetainedStore::Replaced RetainedStore::erase(std::string_view topic) {
  std::vector<Node*> path;  // parents; erase is not on the publish fast path
  Node* n = root_.get();
  std::size_t pos = 0;
  while (pos != npos) {
    Node* c = n->child(next_level(topic, pos));
    if (c == nullptr) return {};
    path.push_back(n);
    n = c;
  }
  Replaced old = take(n, cold_);
  if (!old) return old;
  --count_;
  std::string_view rest = topic;
  for (std::size_t i = path.size(); i-- > 0 && n->empty();) {
    std::size_t slash = rest.rfind('/');
    std::string_view level = slash == npos ? rest : rest.substr(slash + 1);
    rest = slash == npos ? std::string_view{} : rest.substr(0, slash);
    path[i]->remove_child(level);  // destroys n
    n = path[i];
  }
  return old;
}

RetainedStore::Replaced RetainedStore::set_cold(std::string_view topic, std::uint64_t id) {
  Node* n = root_.get();
  for_each_level(topic, [&](std::string_view level) { n = n->child_or_create(level); });
  Replaced old = take(n, cold_);
  n->cold_id = id;
  ++cold_;
  if (!old) ++count_;
  return old;
}

namespace {

template <class Node>
Node* find_node(Node* root, std::string_view topic) {
  Node* n = root;
  std::size_t pos = 0;
  while (pos != npos) {
    n = n->child(next_level(topic, pos));
    if (n == nullptr) return nullptr;
  }
  return n;
}

}  // namespace

MessageRef RetainedStore::resident(Node* n) {
  if (n->msg || n->cold_id == 0) return n->msg;
  MessageRef m = reader_ ? reader_->read_retained(n->cold_id) : MessageRef();
  if (m) {
    n->msg = m;
    n->cold_id = 0;
    --cold_;
  }
  return m;
}

MessageRef RetainedStore::find(std::string_view topic) {
  Node* n = find_node(root_.get(), topic);
  return n ? resident(n) : MessageRef();
}

std::uint64_t RetainedStore::find_id(std::string_view topic) const {
  const Node* n = find_node<const Node>(root_.get(), topic);
  if (n == nullptr) return 0;
  return n->msg ? n->msg->id : n->cold_id;
}

bool RetainedStore::make_cold(const MessageRef& m, const std::function<bool(const Message&)>& may_drop) {
  Node* n = find_node(root_.get(), std::string_view(m->topic));
  if (n == nullptr || n->msg.get() != m.get()) return true;  // replaced or cleared: not ours any more
  // Two references, the node's and the caller's: nothing else holds the
  // object, so no second one for the same id can ever exist beside the one
  // read back later.
  if (m.use_count() != 2 || !may_drop(*m)) return false;
  n->msg = MessageRef();
  n->cold_id = m->id;
  ++cold_;
  return true;
}

void RetainedStore::gather_matching(std::string_view filter, std::vector<Node*>& nodes) {
  // Walk the filter level by level over a frontier of nodes whose topic
  // prefix matches the filter so far; a tree, so no node appears twice.
  std::vector<Node*> frontier{root_.get()};
  std::vector<Node*> next;
  bool first = true;
  std::size_t pos = 0;
  while (pos != npos && !frontier.empty()) {
    std::string_view level = next_level(filter, pos);
    if (level == "#") {
      // Matches the parent level too ("a/#" returns "a"); the root holds no
      // message, so a bare "#" returns only real topics.
      for (Node* n : frontier) Node::gather_subtree(n, first, nodes);
      frontier.clear();
      break;
    }
    next.clear();
    for (Node* n : frontier) {
      if (!n->children) continue;
      if (level == "+") {
        for (const auto& kv : *n->children) {
          if (first && !kv.first.empty() && kv.first.front() == '$') continue;  // [MQTT-4.7.2-1]
          next.push_back(kv.second.get());
        }
      } else if (Node* c = n->child(level)) {
        next.push_back(c);
      }
    }
    frontier.swap(next);
    first = false;
  }
  for (Node* n : frontier)
    if (n->holds()) nodes.push_back(n);
}

void RetainedStore::match(std::string_view filter, const std::function<void(const MessageRef&)>& visit) {
  // Gather first, then visit: the broker's visitor delivers, a delivery can
  // close a connection, and its will may be a retained publish that set()s
  // into this store. Visiting a snapshot keeps the walk safe from that.
  std::vector<Node*> nodes;
  gather_matching(filter, nodes);
  std::vector<MessageRef> found;
  found.reserve(nodes.size());
  for (Node* n : nodes)
    if (MessageRef m = resident(n)) found.push_back(std::move(m));
  for (const MessageRef& m : found) visit(m);
}

void RetainedStore::match_lazy(std::string_view filter, std::vector<MessageRef>& resident,
                               std::vector<std::uint64_t>& cold) {
  std::vector<Node*> nodes;
  gather_matching(filter, nodes);
  std::size_t n_cold = 0;
  for (const Node* n : nodes) n_cold += n->msg ? 0 : 1;
  cold.reserve(cold.size() + n_cold);
  resident.reserve(resident.size() + nodes.size() - n_cold);
  for (const Node* n : nodes) {
    if (n->msg) {
      resident.push_back(n->msg);
    } else {
      cold.push_back(n->cold_id);
    }
  }
}

MessageRef RetainedStore::read_for_delivery(std::uint64_t id) {
  MessageRef m = reader_ ? reader_->read_copy(id) : MessageRef();
  if (!m) return m;
  Node* n = find_node(root_.get(), std::string_view(m->topic));
  if (n == nullptr) return MessageRef();  // cleared since
  if (n->cold_id == id) return m;
  // Read back meanwhile (another subscriber, a find()), or replaced.
  return n->msg && n->msg->id == id ? n->msg : MessageRef();
}

void RetainedStore::for_each(const std::function<void(const MessageRef&)>& visit) {
  std::vector<Node*> nodes;  // snapshot, as in match()
  nodes.reserve(count_);
  Node::gather_subtree(root_.get(), false, nodes);
  std::vector<MessageRef> all;
  all.reserve(nodes.size());
  for (Node* n : nodes)
    if (MessageRef m = resident(n)) all.push_back(std::move(m));
  for (const MessageRef& m : all) visit(m);
}

std::size_t RetainedStore::node_count() const {
  std::size_t count = 0;
  std::vector<const Node*> stack{root_.get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++count;
    if (n->children)
      for (const auto& kv : *n->children) stack.push_back(kv.second.get());
  }
  return count;
}

}  // namespace junction::core
