#include "session.h"

namespace junction::core {

void Session::assign_packet_id(OutEntry& e) {
  // Ids are handed out in sequence, so every id taken in this cycle of the
  // counter is below the next one: only an entry from an earlier cycle (a
  // message the client has not acknowledged for 65,535 ids, or one restored)
  // can hold it, and only then is the window scanned.
  for (;;) {
    const std::uint16_t id = next_packet_id++;
    if (next_packet_id == 0) {
      next_packet_id = 1;
      if (!inflight_.empty() || extras_) {
        SessionExtras& x = extras_or_create();
        ++x.id_cycle;
        // Everything numbered and in flight now is from an earlier cycle (a
        // recount: errors can only be too high, which costs scans, never a
        // reuse). `e` itself may already sit in the window, unnumbered: it
        // gets an id of the new cycle and is not counted.
        std::uint32_t old = 0;
        for (std::size_t i = 0; i < inflight_.size(); ++i) old += inflight_[i].packet_id != 0;
        x.old_cycle_inflight = old;
      }
    }
    if (id == 0) continue;
    const bool may_collide = extras_ && extras_->old_cycle_inflight != 0;
    if (!may_collide || find_inflight(id) == nullptr) {
      e.packet_id = id;
      e.id_cycle = extras_ ? extras_->id_cycle : 0;
      return;
    }
  }
}

void Session::note_restored_inflight(OutEntry& e) {
  SessionExtras& x = extras_or_create();
  e.id_cycle = static_cast<std::uint8_t>(x.id_cycle - 1);
  ++x.old_cycle_inflight;
}

OutEntry* Session::find_inflight(std::uint16_t packet_id) {
  // Acks nearly always come in order: the oldest entry is checked first.
  const std::size_t n = inflight_.size();
  for (std::size_t i = 0; i < n; ++i) {
    OutEntry& e = inflight_[i];
    if (e.packet_id == packet_id) return &e;
  }
  return nullptr;
}

const ClientIdentity& Session::anonymous_identity() {
  static const ClientIdentity anonymous;
  return anonymous;
}

void Session::set_identity(const ClientIdentity& id) {
  const bool plain_anonymous = id.anonymous && id.user.empty() && !id.from_certificate && id.credential == 0;
  if (plain_anonymous) {
    access_.reset();
    return;
  }
  SessionAccess& a = access_or_create();
  a.identity = id;
  a.acl_generation = 0;
}

SessionAccess& Session::access_or_create() {
  if (!access_) access_ = std::make_unique<SessionAccess>();
  return *access_;
}

SessionExtras& Session::extras_or_create() {
  if (!extras_) extras_ = std::make_unique<SessionExtras>();
  return *extras_;
}

OutEntry& Session::push_pending(OutEntry e) {
  queued_bytes_ += entry_bytes(e);
  pending_.push_back(std::move(e));
  return pending_.back();
}

OutEntry& Session::push_pending_counted(OutEntry e) {
  pending_.push_back(std::move(e));
  return pending_.back();
}

OutEntry& Session::push_inflight(OutEntry e) {
  queued_bytes_ += entry_bytes(e);
  inflight_.push_back(std::move(e));
  return inflight_.back();
}

void Session::pop_pending() {
  queued_bytes_ -= entry_bytes(pending_.front());
  pending_.pop_front();
}

void Session::erase_inflight(std::size_t i) {
  queued_bytes_ -= entry_bytes(inflight_[i]);
  if (extras_ && extras_->old_cycle_inflight != 0 && inflight_[i].id_cycle != extras_->id_cycle) {
    --extras_->old_cycle_inflight;
  }
  if (i == 0) {
    inflight_.pop_front();
  } else {
    inflight_.erase(i);
  }
}

void Session::pending_to_inflight() {
  inflight_.push_back(std::move(pending_.front()));
  pending_.pop_front();
}

bool Session::queued_bytes_consistent() const {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) sum += entry_bytes(pending_[i]);
  for (std::size_t i = 0; i < inflight_.size(); ++i) sum += entry_bytes(inflight_[i]);
  if (extras_) {
    for (std::size_t i = 0; i < extras_->spilled.size(); ++i) sum += entry_bytes(extras_->spilled[i].entry);
    sum += extras_->disk_bytes;
  }
  return sum == queued_bytes_;
}

}  // namespace junction::core

// One Session per client (10,000 idle clients must stay small,
// docs/PERFORMANCE.md): a new member
// must find room in an existing word or replace one.
static_assert(sizeof(void*) != 8 || sizeof(junction::core::Session) <= 200);
