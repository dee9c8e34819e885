// Start-up recovery: rebuilds retained messages, sessions, their
// subscriptions and queued / in-flight deliveries, and incoming QoS 2 state
// from the store. Records that no longer belong anywhere are removed.
#include <unordered_map>

#include "broker.h"
#include "log.h"
#include "records.h"
#include "store.h"
#include "topic.h"

namespace junction::core {

class Restorer {
 public:
  explicit Restorer(Broker& b) : b_(b) {}

  void run() {
    load_messages();
    load_retained();
    load_sessions();
    load_entries();
    load_incoming_qos2();
    b_.queues_.restore(b_.store_, [&](std::uint64_t id) {
      auto it = messages_.find(id);
      return it == messages_.end() ? MessageRef() : it->second;
    });
    collect_garbage();
  }

 private:
  void load_messages() {
    b_.store_.scan(store::Table::Messages, [&](std::string_view key, std::string_view value) {
      store::StoredMessage rec;
      if (key.size() != 8 || !store::decode(value, rec)) {
        log::warning("store: dropping unreadable message record");
        b_.persistence_.erase(store::Table::Messages, key);
        return;
      }
      MessageRef m = from_record(rec);
      if (m->id >= b_.next_message_id_) b_.next_message_id_ = m->id + 1;
      messages_.emplace(m->id, std::move(m));
    });
  }

  MessageRef message(std::string_view id_bytes) {
    if (id_bytes.size() != 8) return {};
    auto it = messages_.find(store::u64_from_key(id_bytes));
    return it == messages_.end() ? MessageRef() : it->second;
  }

  void load_retained() {
    b_.store_.scan(store::Table::Retained, [&](std::string_view key, std::string_view) {
      MessageRef m = message(key);
      if (!m) {
        b_.persistence_.erase(store::Table::Retained, key);
        return;
      }
      // Two records for one topic (a crash between writes cannot cause it,
      // but an old store might): the newer message wins.
      MessageRef old = b_.retained_.find(m->topic);
      if (old && old->id > m->id) {
        b_.persistence_.erase(store::Table::Retained, key);
        return;
      }
      b_.retained_.set(m);
      ++m->persist_refs;
      if (old) {
        b_.persistence_.erase(store::Table::Retained, store::u64_key(old->id));
        --old->persist_refs;
      }
    });
  }

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
      s->stored = true;
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
        s->subscriptions.emplace(sub.filter, o);
      }
      b_.sessions_.emplace(rec.client_id, std::move(owned));
      if (s->expiry_interval_s != 0xFFFFFFFFu) {
        const std::int64_t left = std::int64_t(s->expiry_interval_s) * 1000 - (wall - s->disconnected_wall_ms);
        s->expires_at_ms = now + std::max<std::int64_t>(left, 0);
        b_.expiries_.insert({s->expires_at_ms, s});
      }
      ++sessions_;
    });
  }

  void load_entries() {
    b_.store_.scan(store::Table::SessionEntries, [&](std::string_view key, std::string_view value) {
      std::string_view client;
      std::uint64_t seq = 0;
      store::StoredEntry rec;
      Session* s = nullptr;
      MessageRef m;
      if (store::split_session_entry_key(key, client, seq) && store::decode(value, rec)) {
        s = b_.find_session(client);
        auto it = messages_.find(rec.msg_id);
        if (it != messages_.end()) m = it->second;
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
      e.subscription_ids = rec.subscription_ids;
      ++m->persist_refs;
      if (seq >= s->next_seq) s->next_seq = seq + 1;
      if (e.state == 0) {
        e.packet_id = 0;
        s->pending.push_back(std::move(e));
      } else {
        if (e.packet_id >= s->next_packet_id) s->next_packet_id = static_cast<std::uint16_t>(e.packet_id + 1);
        if (s->next_packet_id == 0) s->next_packet_id = 1;
        s->inflight.push_back(std::move(e));
      }
      ++entries_;
    });
  }

  void load_incoming_qos2() {
    b_.store_.scan(store::Table::IncomingQos2, [&](std::string_view key, std::string_view) {
      std::string_view client;
      std::uint16_t pid = 0;
      Session* s = store::split_incoming_qos2_key(key, client, pid) ? b_.find_session(client) : nullptr;
      if (!s) {
        b_.persistence_.erase(store::Table::IncomingQos2, key);
        return;
      }
      s->incoming_qos2.push_back(pid);
    });
  }

  void collect_garbage() {
    std::size_t dropped = 0;
    for (auto& [id, m] : messages_) {
      if (m->persist_refs == 0) {
        b_.persistence_.erase(store::Table::Messages, store::u64_key(id));
        m->persisted = false;
        ++dropped;
      }
    }
    log::info("restored %zu retained messages, %zu sessions, %zu queued deliveries, %zu queues "
              "(%zu messages; %zu unreferenced removed)",
              b_.retained_.size(), sessions_, entries_, b_.queues_.queue_count(), messages_.size() - dropped, dropped);
  }

  Broker& b_;
  std::unordered_map<std::uint64_t, MessageRef> messages_;
  std::size_t sessions_ = 0;
  std::size_t entries_ = 0;
};

void Broker::restore() {
  Restorer(*this).run();
  // Expired sessions and garbage records are cleaned on the first tick/flush.
  persistence_.flush();
}

}  // namespace junction::core
