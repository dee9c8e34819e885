// UTF-8 validation for MQTT strings (v5 1.5.4) and for payloads marked as
// character data (Payload Format Indicator 1, v5 3.3.2.3.2).
//
// Control characters and non-characters are accepted: [MQTT-1.5.4-3] only
// says a receiver MAY reject them, and topics with them are legal.
#include "mqtt_internal.h"

#include <cstring>

namespace junction::mqtt {

namespace detail {

namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
constexpr std::uint64_t kLowBits = 0x0101010101010101ull;

// Classic "has a zero byte" test; exact when every byte is < 0x80.
bool has_zero_byte(std::uint64_t w) { return ((w - kLowBits) & ~w & kHighBits) != 0; }

}  // namespace

bool utf8_well_formed(std::string_view s, bool allow_nul) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto* const end = p + s.size();
  while (p < end) {
    // Topics and most payloads are ASCII: take eight bytes at a time.
    if (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & kHighBits) == 0) {
        if (!allow_nul && has_zero_byte(w)) return false;
        p += 8;
        continue;
      }
    }
    const std::uint8_t c = *p;
    if (c < 0x80) {
      if (c == 0 && !allow_nul) return false;  // [MQTT-1.5.4-2]
      ++p;
      continue;
    }
    std::size_t n;       // continuation bytes
    std::uint32_t cp;    // code point being assembled
    if (c >= 0xC2 && c <= 0xDF) {  // 0xC0/0xC1 could only start overlongs
      n = 1;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {  // above 0xF4 is beyond U+10FFFF
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;  // stray continuation byte or invalid lead byte
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;  // truncated sequence
    for (std::size_t i = 1; i <= n; ++i) {
      const std::uint8_t b = p[i];
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;  // overlong, surrogate [MQTT-1.5.4-1]
    if (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;                  // overlong, out of range
    p += n + 1;
  }
  return true;
}

}  // namespace detail

bool valid_utf8(std::string_view s) { return detail::utf8_well_formed(s, false); }

}  // namespace junction::mqtt
