// A stored session's backlog past its in-memory window (session.h,
// SessionExtras): entries written with their message inline as they come
// (spill), counted as on disk once committed (settle), read back in key
// order as the window drains (refill), and erased with the session.
// Order is always pending, disk range, spilled; only stored sessions spill.
#include <algorithm>

#include "broker.h"
#include "log.h"
#include "records.h"
#include "store.h"

namespace junction::core {

std::size_t Broker::session_window(const Session* s) {
  return s->online() ? kSessionWindow : kOfflineSessionWindow;
}

bool Broker::past_window(const Session* s) const {
  // Only stored sessions can keep entries on disk; once anything is past the
  // window, every newer entry is too (order: pending, disk, spilled).
  return s->stored_ && (s->backlog() != 0 || s->pending_.size() >= session_window(s));
}

void Broker::spill(Session* s, OutEntry e) {
  // Written with its message inline: once dropped from memory, nothing
  // holds a persist ref for it.
  e.seq = next_entry_seq_++;
  e.inline_body = true;
  persist_entry(s, e);
  s->queued_bytes_ += Session::entry_bytes(e);
  SessionExtras& x = s->extras_or_create();
  x.spilled.push_back(SessionExtras::Spilled{std::move(e), persistence_.ticket()});
  if (!x.awaiting_settle) {
    x.awaiting_settle = true;
    unsettled_.push_back(s);
  }
  settle(s);
}

void Broker::settle_all() {
  std::size_t kept = 0;
  for (Session* s : unsettled_) {
    settle(s);
    SessionExtras* x = s->extras();
    if (!x->spilled.empty()) {
      unsettled_[kept++] = s;
    } else {
      x->awaiting_settle = false;
    }
  }
  unsettled_.resize(kept);
}

void Broker::settle(Session* s) {
  SessionExtras* x = s->extras();
  if (x == nullptr) return;
  while (!x->spilled.empty() && persistence_.committed(x->spilled.front().ticket)) {
    SessionExtras::Spilled& sp = x->spilled.front();
    const std::uint64_t bytes = Session::entry_bytes(sp.entry);
    if (persistence_.failed(sp.ticket)) {
      s->queued_bytes_ -= bytes;  // never reached the disk; its publisher was refused
    } else {
      if (x->disk_count == 0) x->disk_next_seq = sp.entry.seq;
      ++x->disk_count;
      x->disk_bytes += bytes;
    }
    x->spilled.pop_front();
  }
  x->spilled.shrink_if_empty();
}

bool Broker::refill(Session* s, std::size_t target) {
  SessionExtras* x = s->extras();
  if (x == nullptr || s->backlog() == 0) return false;
  settle(s);
  const std::size_t before = s->pending_.size();
  while (s->pending_.size() < target) {
    if (x->disk_count != 0) {
      const std::uint64_t stop = x->spilled.empty() ? UINT64_MAX : x->spilled.front().entry.seq;
      std::size_t visited = 0;
      std::uint64_t last = 0;
      bool beyond = false;
      try {
        store_.scan_from(
            store::Table::SessionEntries, store::session_entry_key(s->client_id, x->disk_next_seq),
            std::min<std::uint64_t>(target - s->pending_.size(), x->disk_count),
            [&](std::string_view k, std::string_view v) {
              std::string_view client;
              std::uint64_t seq = 0;
              if (beyond || !store::split_session_entry_key(k, client, seq) || client != s->client_id ||
                  seq >= stop) {
                beyond = true;
                return;
              }
              ++visited;
              last = seq;
              --x->disk_count;
              store::StoredEntry rec;
              MessageRef m;
              if (store::decode(v, rec)) {
                if (rec.has_message) {
                  m = from_record(rec.message);
                  m->persisted = false;
                } else {
                  // Entries past the window are written inline (start-up
                  // rewrites the others); should a reference one be here,
                  // its body is read and the record kept until restart's
                  // sweep rather than lost.
                  std::string body;
                  store::StoredMessage mr;
                  if (store_.get(store::Table::Messages, store::u64_key(rec.msg_id), body) &&
                      store::decode(body, mr)) {
                    m = from_record(mr);
                    m->persisted = false;
                  }
                }
              }
              if (!m) {
                log::warning("session %s: dropping unreadable entry %llu", s->client_id.c_str(),
                             static_cast<unsigned long long>(seq));
                persistence_.erase(store::Table::SessionEntries, k);
                return;
              }
              OutEntry e;
              e.msg = std::move(m);
              e.seq = seq;
              e.qos = rec.qos;
              e.retain = rec.retain;
              e.inline_body = true;
              e.subscription_ids = std::move(rec.subscription_ids);
              x->disk_bytes -= std::min<std::uint64_t>(x->disk_bytes, Session::entry_bytes(e));
              s->push_pending_counted(std::move(e));
            });
      } catch (const std::exception& ex) {
        log::error("session %s: cannot read its backlog from the store: %s", s->client_id.c_str(), ex.what());
        break;
      }
      if (last != 0) x->disk_next_seq = last + 1;
      if (visited == 0) {
        log::warning("session %s: %llu entries counted on disk are not there; counter corrected",
                     s->client_id.c_str(), static_cast<unsigned long long>(x->disk_count));
        s->queued_bytes_ -= std::min(s->queued_bytes_, x->disk_bytes);
        x->disk_count = 0;
        x->disk_bytes = 0;
      }
      continue;
    }
    if (x->spilled.empty()) break;
    s->push_pending_counted(std::move(x->spilled.front().entry));
    x->spilled.pop_front();
  }
  return s->pending_.size() > before;
}

void Broker::erase_backlog(Session* s) {
  SessionExtras* x = s->extras();
  if (x == nullptr) return;
  if (x->awaiting_settle) {  // the session may be about to go: no pointer to it may stay
    x->awaiting_settle = false;
    unsettled_.erase(std::remove(unsettled_.begin(), unsettled_.end(), s), unsettled_.end());
  }
  if (s->backlog() == 0) return;
  for (std::size_t i = 0; i < x->spilled.size(); ++i) {
    const OutEntry& e = x->spilled[i].entry;
    persistence_.erase(store::Table::SessionEntries, store::session_entry_key(s->client_id, e.seq));
    s->queued_bytes_ -= Session::entry_bytes(e);
  }
  x->spilled.clear();
  x->spilled.shrink_if_empty();
  const std::uint64_t stop = UINT64_MAX;
  while (x->disk_count != 0) {
    std::size_t visited = 0;
    std::uint64_t last = 0;
    store_.scan_from(store::Table::SessionEntries, store::session_entry_key(s->client_id, x->disk_next_seq),
                     std::min<std::uint64_t>(x->disk_count, 4096), [&](std::string_view k, std::string_view) {
                       std::string_view client;
                       std::uint64_t seq = 0;
                       if (!store::split_session_entry_key(k, client, seq) || client != s->client_id || seq >= stop)
                         return;
                       persistence_.erase(store::Table::SessionEntries, k);
                       ++visited;
                       last = seq;
                     });
    if (visited == 0) break;
    x->disk_count -= std::min<std::uint64_t>(x->disk_count, visited);
    x->disk_next_seq = last + 1;
  }
  s->queued_bytes_ -= std::min(s->queued_bytes_, x->disk_bytes);
  x->disk_count = 0;
  x->disk_bytes = 0;
}

}  // namespace junction::core
