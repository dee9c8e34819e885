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
#include <vector>

#include "message.h"

namespace junction::core {

// Messages at rest in the store: once a retained message's record is
// committed and nothing but this store holds the message, its body may go
// "cold": the node keeps only the message id and the body stays in the
// store's (memory-mapped) Messages table, about 110 bytes per retained
// message instead of 450 (issue 18). Reading a cold message brings it back
// (a BodyReader, the broker, reads the record) and it stays resident until
// the broker makes it cold again. The broker decides when (make_cold).
class RetainedStore {
 public:
  class BodyReader {
   public:
    virtual ~BodyReader() = default;
    // Message `id` from the store, with the store's one reference counted
    // (persist_refs 1, persisted); null if unreadable.
    virtual MessageRef read_retained(std::uint64_t id) = 0;
    // A copy of message `id` that the store does not hold (persist_refs 0,
    // not persisted): one delivery's own, gone when the delivery is done.
    virtual MessageRef read_copy(std::uint64_t id) = 0;
  };
  // What set()/set_cold() replaced: a resident message, or the id of a cold
  // one (whose records the caller removes: it had no other holder), or none.
  struct Replaced {
    MessageRef msg;
    std::uint64_t cold_id = 0;
    explicit operator bool() const { return msg || cold_id != 0; }
    std::uint64_t id() const { return msg ? msg->id : cold_id; }
  };

  RetainedStore();
  ~RetainedStore();
  RetainedStore(const RetainedStore&) = delete;
  RetainedStore& operator=(const RetainedStore&) = delete;

  void set_reader(BodyReader* r) { reader_ = r; }

  // Stores `msg` as the retained message of msg->topic, or clears the topic
  // when the payload is empty.
  Replaced set(const MessageRef& msg);
  // Removes the retained message of `topic`.
  Replaced erase(std::string_view topic);
  // Stores message `id` of `topic` as cold (start-up: its record is stored).
  Replaced set_cold(std::string_view topic, std::uint64_t id);
  // The retained message of `topic` (read back if cold); null if none.
  MessageRef find(std::string_view topic);
  // Its id without reading it (0: none).
  std::uint64_t find_id(std::string_view topic) const;
  // Leaves the body of `m` in the store if `m` is still the resident message
  // of its topic, the caller's reference and this store's are the only ones,
  // and `may_drop` agrees; true once nothing is left to do for `m` (it went
  // cold, or its topic holds another message now).
  bool make_cold(const MessageRef& m, const std::function<bool(const Message&)>& may_drop);

  // Visits every retained message whose topic matches `filter` (a valid
  // filter, not $share), reading cold ones back. The visitor sees a snapshot
  // taken before the first call, so it may modify the store (e.g. a will
  // published mid-delivery).
  void match(std::string_view filter, const std::function<void(const MessageRef&)>& visit);
  // As match(), without reading cold messages back: appends the resident
  // matches to `resident` and the ids of the cold ones to `cold`, to read
  // with read_for_delivery() when their turn comes (a subscriber on millions
  // of retained messages is served at the pace of its window).
  void match_lazy(std::string_view filter, std::vector<MessageRef>& resident, std::vector<std::uint64_t>& cold);
  // Cold message `id` for one delivery, if it is still the retained
  // message of its topic: a copy (the node stays cold, so memory follows the
  // subscriber's window), or the resident message if it was read back
  // meanwhile; null if replaced, cleared or unreadable.
  MessageRef read_for_delivery(std::uint64_t id);
  // Visits everything (start-up checks, tests); a snapshot, as match().
  void for_each(const std::function<void(const MessageRef&)>& visit);

  std::size_t size() const { return count_; }
  std::size_t cold_count() const { return cold_; }

 private:
  struct Node;
  friend struct RetainedStoreTestAccess;  // unit tests: node_count()
  std::size_t node_count() const;
  void gather_matching(std::string_view filter, std::vector<Node*>& nodes);
  // The resident message of `n`, reading it back if cold (null if unreadable).
  MessageRef resident(Node* n);

  std::unique_ptr<Node> root_;
  std::size_t count_ = 0;
  std::size_t cold_ = 0;
  BodyReader* reader_ = nullptr;
};

}  // namespace junction::core
