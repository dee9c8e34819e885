// junction::core::parse_decimal — a whole non-negative number in plain
// decimal digits, as clients send them in headers, properties and topics
// (x-delay, expires, $delayed/<seconds>/...). No sign, no spaces, no
// exponent; at most `max_digits` digits, so the value always fits.
#pragma once

#include <cstdint>
#include <string_view>

namespace junction::core {

inline bool parse_decimal(std::string_view text, std::size_t max_digits, std::uint64_t& out) {
  if (text.empty() || text.size() > max_digits || max_digits > 19) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + std::uint64_t(c - '0');
  }
  out = v;
  return true;
}

}  // namespace junction::core
