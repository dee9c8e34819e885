// junction::core::DelayedMessages — messages held back until a due time
// (`$delayed/<seconds>/<topic>`, the `x-delay` property or header).
//
// Each one is a record of the store's Delayed table, keyed (due ms, message
// id) big-endian, so that a scan reads them in due order. Memory holds a
// window of the next due ones, bodies and all; the rest stay on disk and
// are read back in key order as the window drains. The invariant that makes
// this simple: the window holds exactly the delayed messages whose key is
// at or below `bound_`; all others are on disk with larger keys, or still
// in a batch on its way there (`uncommitted_`, until that commit). A new
// message below the bound joins the window (which sheds its largest keys
// when it doubles); one above goes to disk only. A refill reads the keys
// after the bound and takes in the uncommitted ones it passed.
//
// A delivered message's record is erased in the batch of the iteration that
// routes it, so a crash before that commit delivers it again (at least
// once, as everything else in the store); none is ever delivered early.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "message.h"
#include "persistence.h"

namespace junction::core {

// What a topic says about delaying: `$delayed/<seconds>/<topic>`.
enum class DelayedTopic : std::uint8_t { No, Yes, Malformed };
// `delay_s` and `target` are set for Yes. Malformed: the prefix without a
// non-negative integer, a '/' and a non-empty topic after it.
DelayedTopic parse_delayed_topic(std::string_view topic, std::uint64_t& delay_s, std::string_view& target);
inline constexpr std::string_view kDelayedTopicPrefix = "$delayed/";
// The MQTT 5 user property / STOMP header naming a delay in milliseconds
// (consumed: never delivered).
inline constexpr std::string_view kDelayProperty = "x-delay";

class DelayedMessages final : public BatchContributor, public CommitWaiter {
 public:
  using Deliver = std::function<void(const MessageRef&)>;
  static constexpr std::size_t kDefaultWindow = 1024;

  DelayedMessages(Persistence& persistence, Deliver deliver, std::size_t window = kDefaultWindow);

  // Start-up: the counters from the Meta record and the first window.
  // Returns the highest message id held (the broker's id counter goes past it).
  std::uint64_t restore();

  // Keeps `msg` (its topic is where it goes when due) until `due_ms` (wall clock).
  void schedule(const MessageRef& msg, std::int64_t due_ms);
  // Routes what is due at `now_ms`, at most `budget` messages, in due order.
  std::size_t run(std::int64_t now_ms, std::size_t budget);

  // The due time of the next message in memory, or kNever (none, or the next
  // ones wait on disk behind an uncommitted write: the commit wakes us).
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  std::int64_t next_due_ms() const { return window_.empty() ? kNever : window_.begin()->first.due_ms; }
  // Told whenever next_due_ms() may have moved earlier (the app arms its timer).
  void set_wakeup(std::function<void(std::int64_t due_ms)> wakeup) { wakeup_ = std::move(wakeup); }

  std::uint64_t pending() const { return count_; }
  std::size_t in_memory() const { return window_.size() + uncommitted_.size(); }

  void before_flush() override;
  void on_commit() override;

  // The operator's side (the admin API): up to `limit` delayed messages in
  // due order (the window, then the disk range; ones not committed yet past
  // the window are not listed), and cancelling one by message id.
  struct Listed {
    std::int64_t due_ms = 0;
    MessageRef msg;
  };
  std::vector<Listed> list(std::size_t limit);
  bool cancel(std::uint64_t msg_id);

 private:
  struct Key {
    std::int64_t due_ms = 0;
    std::uint64_t id = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Entry {
    MessageRef msg;
    std::uint64_t ticket = 0;  // the batch that writes its record (0: read from disk)
  };
  void trim();
  void refill();
  void wake();

  Persistence& persistence_;
  Deliver deliver_;
  std::function<void(std::int64_t)> wakeup_;
  std::size_t window_cap_;
  std::map<Key, Entry> window_;
  // Past the bound and not committed yet: a scan would miss them, so they
  // are held until their commit (then dropped: the scan finds them).
  std::map<Key, Entry> uncommitted_;
  // Cancelled records on disk whose erasure is not committed yet: a refill
  // meanwhile must not take them (value: the erasing batch's ticket).
  std::map<Key, std::uint64_t> cancelled_;
  Key bound_{};                // with disk_more_: the window is every key <= bound_
  bool disk_more_ = false;     // records with keys above bound_ may be on disk
  std::uint64_t count_ = 0;    // delayed messages held (memory and disk)
  std::uint64_t max_msg_id_ = 0;
  bool meta_dirty_ = false;
};

}  // namespace junction::core
