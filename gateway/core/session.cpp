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

}  // namespace junction::core
