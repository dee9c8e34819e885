#include "session.h"

namespace junction::core {

std::uint16_t Session::allocate_packet_id() {
  // Ids are handed out in sequence; one still in flight after a full wrap
  // (a message the client never acknowledged) is skipped. The window is
  // small, so the scan only runs when something is in flight.
  for (;;) {
    std::uint16_t id = next_packet_id++;
    if (next_packet_id == 0) next_packet_id = 1;
    if (id == 0) continue;
    if (inflight.empty() || find_inflight(id) == nullptr) return id;
  }
}

OutEntry* Session::find_inflight(std::uint16_t packet_id) {
  // Acks nearly always come in order: the oldest entry is checked first.
  const std::size_t n = inflight.size();
  for (std::size_t i = 0; i < n; ++i) {
    OutEntry& e = inflight[i];
    if (e.packet_id == packet_id) return &e;
  }
  return nullptr;
}

OutEntry& Session::push_pending(OutEntry e) {
  queued_bytes += entry_bytes(e);
  pending.push_back(std::move(e));
  return pending.back();
}

OutEntry& Session::push_inflight(OutEntry e) {
  queued_bytes += entry_bytes(e);
  inflight.push_back(std::move(e));
  return inflight.back();
}

void Session::pop_pending() {
  queued_bytes -= entry_bytes(pending.front());
  pending.pop_front();
}

void Session::erase_inflight(std::size_t i) {
  queued_bytes -= entry_bytes(inflight[i]);
  if (i == 0) {
    inflight.pop_front();
  } else {
    inflight.erase(i);
  }
}

void Session::pending_to_inflight() {
  inflight.push_back(std::move(pending.front()));
  pending.pop_front();
}

bool Session::queued_bytes_consistent() const {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) sum += entry_bytes(pending[i]);
  for (std::size_t i = 0; i < inflight.size(); ++i) sum += entry_bytes(inflight[i]);
  return sum == queued_bytes;
}

}  // namespace junction::core
