// junction::bench payload stamp — what each published payload carries so
// that subscribers can measure latency and find lost messages without any
// per-message bookkeeping on the way:
//
//   [0, 8)   send time, CLOCK_MONOTONIC ns (uv_hrtime), little endian
//   [8, 12)  run id (random per process; payloads of other runs are "foreign")
//   [12, 16) publisher index
//   [16, 20) publisher sequence number, from 0
//   [20, size) zeros
//
// Payloads shorter than kStampSize carry nothing: no latency, no loss check.
#pragma once

#include <cstdint>
#include <cstring>

namespace junction::bench {

inline constexpr std::uint32_t kStampSize = 20;

struct Stamp {
  std::uint64_t sent_ns = 0;
  std::uint32_t run = 0;
  std::uint32_t publisher = 0;
  std::uint32_t seq = 0;
};

inline void put_le(std::uint8_t* p, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint64_t get_le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

inline void write_stamp(std::uint8_t* p, const Stamp& s) {
  put_le(p, s.sent_ns, 8);
  put_le(p + 8, s.run, 4);
  put_le(p + 12, s.publisher, 4);
  put_le(p + 16, s.seq, 4);
}

inline Stamp read_stamp(const std::uint8_t* p) {
  Stamp s;
  s.sent_ns = get_le(p, 8);
  s.run = static_cast<std::uint32_t>(get_le(p + 8, 4));
  s.publisher = static_cast<std::uint32_t>(get_le(p + 12, 4));
  s.seq = static_cast<std::uint32_t>(get_le(p + 16, 4));
  return s;
}

}  // namespace junction::bench
