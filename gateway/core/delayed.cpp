#include "delayed.h"

#include <iterator>
#include <optional>

#include "log.h"
#include "records.h"

namespace junction::core {

DelayedMessages::DelayedMessages(Persistence& persistence, Deliver deliver, std::size_t window)
    : persistence_(persistence), deliver_(std::move(deliver)), window_cap_(window < 2 ? 2 : window) {
  persistence_.add_contributor(this);
}

std::uint64_t DelayedMessages::restore() {
  std::string bytes;
  store::StoredDelayedMeta meta;
  if (persistence_.store().get(store::Table::Meta, store::kMetaDelayedKey, bytes) && !store::decode(bytes, meta)) {
    log::warning("store: the delayed-delivery counters are unreadable; counting from the records");
    meta = {};
  }
  count_ = meta.count;
  max_msg_id_ = meta.max_msg_id;
  // Key (0, 0) is never written (message ids start at 1): the bound before
  // every record.
  bound_ = Key{};
  disk_more_ = true;
  refill();
  if (count_ < window_.size()) count_ = window_.size();
  for (const auto& [k, e] : window_) max_msg_id_ = std::max(max_msg_id_, k.id);
  return max_msg_id_;
}

void DelayedMessages::schedule(const MessageRef& msg, std::int64_t due_ms) {
  const Key k{due_ms, msg->id};
  persistence_.put_with(store::Table::Delayed, store::delayed_key(due_ms, msg->id),
                        [&](std::string& out) { store::append_message(out, view_of(*msg)); });
  const std::uint64_t ticket = persistence_.ticket();
  ++count_;
  if (msg->id > max_msg_id_) max_msg_id_ = msg->id;
  meta_dirty_ = true;
  if (disk_more_ && bound_ < k) {
    // Past the window: read back from disk in its turn; until its record is
    // committed a scan would not see it, so it waits here.
    uncommitted_.emplace(k, Entry{msg, ticket});
    if (!waiting_) persistence_.wait(this);
    return;
  }
  const bool first = window_.empty() || k < window_.begin()->first;
  window_.emplace(k, Entry{msg, ticket});
  if (window_.size() >= 2 * window_cap_) trim();
  if (first) wake();
}

void DelayedMessages::trim() {
  while (window_.size() > window_cap_) {
    auto last = std::prev(window_.end());
    if (!persistence_.committed(last->second.ticket)) {
      uncommitted_.emplace(last->first, std::move(last->second));
      if (!waiting_) persistence_.wait(this);
    }
    window_.erase(last);
  }
  bound_ = std::prev(window_.end())->first;
  disk_more_ = true;
}

std::size_t DelayedMessages::run(std::int64_t now_ms, std::size_t budget) {
  std::size_t n = 0;
  while (n < budget && !window_.empty() && window_.begin()->first.due_ms <= now_ms) {
    auto it = window_.begin();
    const Key k = it->first;
    MessageRef msg = std::move(it->second.msg);
    window_.erase(it);
    persistence_.erase(store::Table::Delayed, store::delayed_key(k.due_ms, k.id));
    --count_;
    meta_dirty_ = true;
    ++n;
    deliver_(msg);
    if (disk_more_ && window_.size() <= window_cap_ / 2) refill();
  }
  if (disk_more_ && window_.size() <= window_cap_ / 2) refill();
  wake();
  return n;
}

void DelayedMessages::refill() {
  const std::size_t want = window_cap_ - std::min(window_cap_, window_.size());
  if (want == 0) return;
  // The first key after the bound; records erased in batches not committed
  // yet are all at or below it (they came from the window).
  const std::string from = store::delayed_key(bound_.due_ms, bound_.id + 1);
  Key last = bound_;
  std::size_t bad = 0;
  const std::size_t got = persistence_.store().scan_from(
      store::Table::Delayed, from, want, [&](std::string_view key, std::string_view value) {
        Key k;
        store::StoredMessage rec;
        if (!store::split_delayed_key(key, k.due_ms, k.id) || !store::decode(value, rec)) {
          // Unreadable: dropped (and erased) rather than blocking every later one.
          persistence_.erase(store::Table::Delayed, key);
          ++bad;
          return;
        }
        last = k;
        if (cancelled_.count(k) != 0) return;  // its erasure is on its way
        window_.emplace(k, Entry{from_record(rec), 0});
      });
  if (bad != 0) {
    log::error("store: %zu unreadable delayed message record(s) dropped", bad);
    count_ -= std::min<std::uint64_t>(count_, bad);
    meta_dirty_ = true;
  }
  if (got < want) {
    // Everything committed past the bound is in; what is not committed yet
    // waits in uncommitted_ (a record committed meanwhile was read twice:
    // emplace keeps one).
    for (auto& [k, e] : uncommitted_) window_.emplace(k, std::move(e));
    uncommitted_.clear();
    disk_more_ = false;
    if (window_.size() >= 2 * window_cap_) trim();
    return;
  }
  bound_ = last;
  while (!uncommitted_.empty() && !(bound_ < uncommitted_.begin()->first)) {
    window_.emplace(uncommitted_.begin()->first, std::move(uncommitted_.begin()->second));
    uncommitted_.erase(uncommitted_.begin());
  }
}

void DelayedMessages::on_commit() {
  // Records now committed are readable by the next refill: no need to hold them.
  for (auto it = uncommitted_.begin(); it != uncommitted_.end();) {
    it = persistence_.committed(it->second.ticket) ? uncommitted_.erase(it) : std::next(it);
  }
  for (auto it = cancelled_.begin(); it != cancelled_.end();) {
    it = persistence_.committed(it->second) ? cancelled_.erase(it) : std::next(it);
  }
  if (!uncommitted_.empty() || !cancelled_.empty()) persistence_.wait(this);
}

void DelayedMessages::before_flush() {
  if (!meta_dirty_) return;
  meta_dirty_ = false;
  store::StoredDelayedMeta meta;
  meta.count = count_;
  meta.max_msg_id = max_msg_id_;
  persistence_.put(store::Table::Meta, store::kMetaDelayedKey, store::encode(meta));
}

void DelayedMessages::wake() {
  if (wakeup_ && !window_.empty()) wakeup_(window_.begin()->first.due_ms);
}

std::vector<DelayedMessages::Listed> DelayedMessages::list(std::size_t limit) {
  std::vector<Listed> out;
  for (auto it = window_.begin(); it != window_.end() && out.size() < limit; ++it)
    out.push_back(Listed{it->first.due_ms, it->second.msg});
  if (out.size() < limit && disk_more_) {
    persistence_.store().scan_from(store::Table::Delayed, store::delayed_key(bound_.due_ms, bound_.id + 1),
                                   limit - out.size(), [&](std::string_view key, std::string_view value) {
                                     Key k;
                                     store::StoredMessage rec;
                                     if (!store::split_delayed_key(key, k.due_ms, k.id) || !store::decode(value, rec))
                                       return;
                                     if (cancelled_.count(k) != 0) return;
                                     out.push_back(Listed{k.due_ms, from_record(rec)});
                                   });
  }
  return out;
}

bool DelayedMessages::cancel(std::uint64_t msg_id) {
  auto erase_record = [&](const Key& k) {
    persistence_.erase(store::Table::Delayed, store::delayed_key(k.due_ms, k.id));
    --count_;
    meta_dirty_ = true;
  };
  for (auto* m : {&window_, &uncommitted_}) {
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (it->first.id != msg_id) continue;
      erase_record(it->first);
      m->erase(it);
      return true;
    }
  }
  if (!disk_more_) return false;
  // On disk past the window: found by a scan (an operator's call, not a hot path).
  std::optional<Key> found;
  std::string from = store::delayed_key(bound_.due_ms, bound_.id + 1);
  for (;;) {
    Key last{};
    const std::size_t got = persistence_.store().scan_from(
        store::Table::Delayed, from, 4096, [&](std::string_view key, std::string_view) {
          Key k;
          if (found || !store::split_delayed_key(key, k.due_ms, k.id)) return;
          last = k;
          if (k.id == msg_id && cancelled_.count(k) == 0) found = k;
        });
    if (found || got < 4096) break;
    from = store::delayed_key(last.due_ms, last.id + 1);
  }
  if (!found) return false;
  erase_record(*found);
  cancelled_.emplace(*found, persistence_.ticket());
  persistence_.wait(this);
  return true;
}

}  // namespace junction::core

