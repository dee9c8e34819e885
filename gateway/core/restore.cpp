// Start-up recovery: rebuilds retained messages, sessions, their
// subscriptions and queued / in-flight deliveries, and incoming QoS 2 state
// from the store. Records that no longer belong anywhere are removed.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "broker.h"
#include "log.h"
#include "records.h"
#include "store.h"
#include "topic.h"

namespace junction::core {

namespace {
struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
}  // namespace

// Messages by id, loaded from the store on first use: only what sessions
// and queues reference is read at start-up.
class MessageCache {
 public:
  explicit MessageCache(Broker& b) : b_(b) {}

  MessageRef get(std::uint64_t id) {
    auto it = map_.find(id);
    if (it != map_.end()) return it->second;
    const std::string key = store::u64_key(id);
    if (!b_.store_.get(store::Table::Messages, key, buf_)) return {};
    store::StoredMessage rec;
    if (!store::decode(buf_, rec)) {
      log::warning("store: dropping unreadable message record %llu", static_cast<unsigned long long>(id));
      b_.persistence_.erase(store::Table::Messages, key);
      return {};
    }
    MessageRef m = from_record(rec);
    map_.emplace(id, m);
    return m;
  }
  std::unordered_map<std::uint64_t, MessageRef> take() { return std::move(map_); }

 private:
  Broker& b_;
  std::unordered_map<std::uint64_t, MessageRef> map_;
  std::string buf_;
};

// The synchronous part of start-up: everything but retained messages.
class Restorer {
 public:
  explicit Restorer(Broker& b) : b_(b), messages_(b) {}

  std::unordered_map<std::uint64_t, MessageRef> run() {
    std::string last;
    if (b_.store_.last_key(store::Table::Messages, last) && last.size() == 8)
      b_.next_message_id_ = std::max(b_.next_message_id_, store::u64_from_key(last) + 1);
    load_sessions();
    load_entries();
    if (rewritten_ != 0) {
      // A window reads these back: they must be on disk in their new form first.
      b_.persistence_.flush();
      b_.store_.flush();
      b_.persistence_.on_completed();
    }
    load_inbound_held();
    const std::uint64_t queued_max = b_.queues_.restore([&](std::uint64_t id) { return messages_.get(id); });
    b_.next_message_id_ = std::max(b_.next_message_id_, queued_max + 1);
    // Delayed messages: counters and the first window only (the rest stays on disk).
    const std::uint64_t delayed_max = b_.delayed_.restore();
    b_.dedup_.restore(b_.clock_.wall_ms());
    b_.next_message_id_ = std::max(b_.next_message_id_, delayed_max + 1);
    log::info("restored %zu sessions, %zu queued deliveries, %zu queues, %llu delayed messages; retained messages "
              "load next", sessions_, entries_, b_.queues_.queue_count(),
              static_cast<unsigned long long>(b_.delayed_.pending()));
    return messages_.take();
  }

 private:
  void load_sessions() {
    const std::int64_t wall = b_.clock_.wall_ms();
    const std::int64_t now = b_.clock_.now_ms();
    b_.store_.scan(store::Table::Sessions, [&](std::string_view key, std::string_view value) {
      store::StoredSession rec;
      if (!store::decode(value, rec) || rec.client_id != key) {
        log::warning("store: dropping unreadable session record");
        b_.persistence_.erase(store::Table::Sessions, key);
        return;
      }
      auto owned = std::make_unique<Session>(rec.client_id);
      Session* s = owned.get();
      s->expiry_interval_s = rec.expiry_interval_s;
      s->protocol_version = rec.protocol_version;
      s->next_packet_id = rec.next_packet_id ? rec.next_packet_id : 1;
      s->stored_ = true;
      // A session that was connected when the broker stopped counts as
      // disconnected now.
      s->disconnected_wall_ms = rec.disconnected_ms ? rec.disconnected_ms : wall;
      for (const auto& sub : rec.subscriptions) {
        SubscriptionOptions o{sub.qos, sub.no_local, sub.retain_as_published, sub.retain_handling, sub.subscription_id};
        std::string_view group, filter;
        const SharedParse sp = split_shared(sub.filter, group, filter);
        if (sp == SharedParse::Invalid) continue;
        if (sp == SharedParse::NotShared) {
          filter = sub.filter;
          group = {};
          if (!valid_topic_filter(filter)) continue;
        }
        b_.tree_.subscribe(filter, group, s, o);
        s->subscriptions_.emplace(sub.filter, o);
      }
      b_.sessions_.insert(std::move(owned));
      if (s->expiry_interval_s != 0xFFFFFFFFu) {
        const std::int64_t left = std::int64_t(s->expiry_interval_s) * 1000 - (wall - s->disconnected_wall_ms);
        s->expires_at_ms = now + std::max<std::int64_t>(left, 0);
        b_.expiries_.insert({s->expires_at_ms, s});
      }
      ++sessions_;
    });
  }

  // In key order, so each session's entries come in its order. A session
  // keeps its in-flight entries and a window of pending ones in memory; the
  // rest of its backlog stays on disk, counted (reference entries there
  // are rewritten with their message inline: nothing in memory will hold
  // a persist ref for them).
  void load_entries() {
    b_.store_.scan(store::Table::SessionEntries, [&](std::string_view key, std::string_view value) {
      std::string_view client;
      std::uint64_t seq = 0;
      store::StoredEntry rec;
      Session* s = nullptr;
      MessageRef m;
      if (store::split_session_entry_key(key, client, seq) && store::decode(value, rec)) {
        s = b_.find_session(client);
        if (s && rec.has_message) {
          m = from_record(rec.message);
          m->persisted = false;
        } else if (s) {
          m = messages_.get(rec.msg_id);
        }
      }
      if (!s || !m) {
        b_.persistence_.erase(store::Table::SessionEntries, key);
        return;
      }
      OutEntry e;
      e.msg = m;
      e.seq = seq;
      e.qos = rec.qos;
      e.state = rec.state;
      e.packet_id = rec.packet_id;
      e.retain = rec.retain;
      e.dup = rec.state != 0;
      e.inline_body = rec.has_message;
      e.subscription_ids = std::move(rec.subscription_ids);
      if (seq >= b_.next_entry_seq_) b_.next_entry_seq_ = seq + 1;
      ++entries_;
      if (e.state == 0 && (s->backlog() != 0 || s->pending_.size() >= Broker::kOfflineSessionWindow)) {
        if (!e.inline_body) {
          e.inline_body = true;
          b_.persist_entry(s, e);
          ++rewritten_;
        }
        SessionExtras& x = s->extras_or_create();
        if (x.disk_count == 0) x.disk_next_seq = seq;
        ++x.disk_count;
        x.disk_bytes += Session::entry_bytes(e);
        s->queued_bytes_ += Session::entry_bytes(e);
        return;
      }
      if (!e.inline_body) ++m->persist_refs;
      if (e.state == 0) {
        e.packet_id = 0;
        s->push_pending(std::move(e));
      } else {
        if (e.packet_id >= s->next_packet_id) s->next_packet_id = static_cast<std::uint16_t>(e.packet_id + 1);
        if (s->next_packet_id == 0) s->next_packet_id = 1;
        s->note_restored_inflight(e);
        s->push_inflight(std::move(e));
      }
    });
  }

  void load_inbound_held() {
    b_.store_.scan(store::Table::InboundHeld, [&](std::string_view key, std::string_view) {
      std::string_view client;
      std::uint16_t pid = 0;
      Session* s = store::split_inbound_held_key(key, client, pid) ? b_.find_session(client) : nullptr;
      if (!s) {
        b_.persistence_.erase(store::Table::InboundHeld, key);
        return;
      }
      s->extras_or_create().inbound_held.push_back(pid);
    });
  }

  Broker& b_;
  MessageCache messages_;
  std::size_t sessions_ = 0;
  std::size_t entries_ = 0;
  std::size_t rewritten_ = 0;
};

// Retained messages, loaded in steps while the broker already serves
// clients, so that start-up with a million of them takes milliseconds
// (docs/PERFORMANCE.md). Both tables are keyed by message id, so one pass in id order
// joins them: a Messages record is retained when the Retained table has its
// id, kept when a session or queue holds it, and otherwise garbage. Ids at
// or above the cutoff were made by this run and are not looked at.
//
// While it runs: a topic whose retained message changes live is "touched"
// and its stored message is dropped (the live one is newer); subscriptions
// that want retained messages get them when the load completes.
class RetainedLoader {
 public:
  RetainedLoader(Broker& b, std::unordered_map<std::uint64_t, MessageRef> referenced, std::uint64_t cutoff)
      : b_(b), referenced_(std::move(referenced)), cutoff_(cutoff), started_ms_(b.clock_.now_ms()) {}

  // False once everything is loaded.
  bool step(std::size_t budget) {
    budget = std::max<std::size_t>(budget, 1);
    if (next_id_ >= cutoff_) return false;
    rids_.clear();
    const std::size_t nr =
        b_.store_.scan_from(store::Table::Retained, store::u64_key(next_id_), budget,
                            [&](std::string_view k, std::string_view) {
                              if (k.size() != 8) b_.persistence_.erase(store::Table::Retained, k);
                              // Ids from the cutoff on belong to this run.
                              else if (std::uint64_t id = store::u64_from_key(k); id < cutoff_) rids_.push_back(id);
                            });
    const bool retained_done = nr < budget;
    // Look at messages up to the last retained id of this chunk (all the way
    // to the cutoff once the Retained table is exhausted).
    const std::uint64_t upto = retained_done || rids_.empty() ? cutoff_ - 1 : rids_.back();
    std::size_t ri = 0;
    std::uint64_t last = 0;
    bool beyond = false;
    const std::size_t nm =
        b_.store_.scan_from(store::Table::Messages, store::u64_key(next_id_), budget,
                            [&](std::string_view k, std::string_view v) {
                              if (beyond) return;
                              const std::uint64_t id = k.size() == 8 ? store::u64_from_key(k) : 0;
                              if (k.size() != 8 || id > upto) {
                                beyond = k.size() == 8;
                                return;
                              }
                              last = id;
                              while (ri < rids_.size() && rids_[ri] < id) drop_retained_id(rids_[ri++]);
                              const bool retained = ri < rids_.size() && rids_[ri] == id;
                              if (retained) ++ri;
                              visit(id, k, v, retained);
                            });
    if (beyond || nm < budget) {
      // Everything up to `upto` was seen: retained ids left have no message.
      for (; ri < rids_.size() && rids_[ri] <= upto; ++ri) drop_retained_id(rids_[ri]);
      next_id_ = upto + 1;
    } else {
      next_id_ = last + 1;  // the message budget ran out first; retained ids past `last` come again
    }
    if (next_id_ < cutoff_) return true;
    finish();
    return false;
  }

  void touched(std::string_view topic) { touched_.emplace(topic); }

  void defer(Session* s, std::string_view full_filter, std::string_view filter, const SubscriptionOptions& o) {
    deferred_.push_back(Deferred{s->client_id, std::string(full_filter), std::string(filter), o});
  }

 private:
  struct Deferred {
    std::string client_id, full_filter, filter;
    SubscriptionOptions options;
  };

  void drop_retained_id(std::uint64_t id) { b_.persistence_.erase(store::Table::Retained, store::u64_key(id)); }

  void visit(std::uint64_t id, std::string_view key, std::string_view value, bool retained) {
    auto ref = referenced_.find(id);
    const bool held = ref != referenced_.end() && ref->second->persist_refs > 0;
    if (!retained) {
      if (!held) {
        b_.persistence_.erase(store::Table::Messages, key);
        ++garbage_;
      }
      return;
    }
    // A message a session also holds is loaded (it is in memory anyway);
    // one only the retained store holds stays in the store, cold: start-up
    // with 10,000,000 retained messages reads their topics, not their bodies
    // into the heap.
    MessageRef m;
    store::StoredMessage rec;
    if (ref != referenced_.end()) {
      m = ref->second;
    } else if (!store::decode(value, rec)) {
      log::warning("store: dropping unreadable retained message %llu", static_cast<unsigned long long>(id));
      b_.persistence_.erase(store::Table::Messages, key);
      drop_retained_id(id);
      return;
    }
    const std::string_view topic = m ? std::string_view(m->topic) : std::string_view(rec.topic);
    // $SYS values are regenerated by this run (SysTopics) and never stored;
    // one here came from a version that let clients write $SYS: stale.
    if (touched_.find(topic) != touched_.end() || is_sys_topic(topic)) {
      discard(m, key);
      return;
    }
    // Two records for one topic (a crash between writes cannot cause it,
    // but an old store might): the newer message wins.
    if (b_.retained_.find_id(topic) > id) {
      discard(m, key);
      return;
    }
    RetainedStore::Replaced old;
    if (m) {
      old = b_.retained_.set(m);
      ++m->persist_refs;
      b_.note_retained(m);
    } else {
      old = b_.retained_.set_cold(topic, id);
    }
    ++loaded_;
    if (old) {
      b_.drop_replaced_retained(old);
      --loaded_;
    }
  }

  // A stored retained message that lost to a newer one.
  // (m null: a record nothing else holds.)
  void discard(const MessageRef& m, std::string_view key) {
    b_.persistence_.erase(store::Table::Retained, key);
    if (!m || m->persist_refs == 0) {
      b_.persistence_.erase(store::Table::Messages, key);
      if (m) m->persisted = false;
    }
  }

  void finish() {
    referenced_.clear();
    touched_.clear();
    log::write(loaded_ ? log::Level::notice : log::Level::info,
               "retained messages loaded: %zu in %lld ms (%zu unreferenced records removed)", loaded_,
                static_cast<long long>(b_.clock_.now_ms() - started_ms_), garbage_);
    for (const Deferred& d : deferred_) {
      Session* s = b_.find_session(d.client_id);
      if (s == nullptr || !s->online() || s->subscription(d.full_filter) == nullptr) continue;
      b_.deliver_retained(s, d.filter, d.options);
    }
    deferred_.clear();
  }

  Broker& b_;
  std::unordered_map<std::uint64_t, MessageRef> referenced_;
  const std::uint64_t cutoff_;
  std::uint64_t next_id_ = 0;
  std::int64_t started_ms_;
  std::vector<std::uint64_t> rids_;
  std::unordered_set<std::string, StringViewHash, std::equal_to<>> touched_;
  std::vector<Deferred> deferred_;
  std::size_t loaded_ = 0;
  std::size_t garbage_ = 0;
};

void Broker::restore(bool retained_in_background) {
  std::unordered_map<std::uint64_t, MessageRef> referenced = Restorer(*this).run();
  loader_.reset(new RetainedLoader(*this, std::move(referenced), next_message_id_));
  if (!retained_in_background) {
    while (restore_step(1u << 20)) {
    }
  }
  // Expired sessions and garbage records are cleaned on the first tick/flush.
  persistence_.flush();
}

bool Broker::restore_step(std::size_t budget) {
  if (!loader_) return false;
  if (loader_->step(budget)) return true;
  loader_.reset();
  return false;
}

void Broker::retained_touched(std::string_view topic) { loader_->touched(topic); }

void Broker::defer_retained(Session* s, std::string_view full_filter, std::string_view filter,
                            const SubscriptionOptions& o) {
  loader_->defer(s, full_filter, filter, o);
}

void RetainedLoaderDeleter::operator()(RetainedLoader* l) const { delete l; }

}  // namespace junction::core
