#include "base64.h"

#include <cstdint>

namespace junction::core {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

void base64_encode(std::string_view bytes, std::string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(p[i]) << 16) | (std::uint32_t(p[i + 1]) << 8) | p[i + 2];
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  std::uint32_t v = std::uint32_t(p[i]) << 16;
  if (rest == 2) v |= std::uint32_t(p[i + 1]) << 8;
  out.push_back(kAlphabet[v >> 18]);
  out.push_back(kAlphabet[(v >> 12) & 63]);
  out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
  out.push_back('=');
}

bool base64_decode(std::string_view text, std::string& out, Base64Spaces spaces) {
  const std::size_t mark = out.size();
  auto fail = [&] {
    out.resize(mark);
    return false;
  };
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t digits = 0, pad = 0;
  for (char c : text) {
    if (spaces == Base64Spaces::Skip && is_space(c)) continue;
    if (c == '=') {
      if (++pad > 2) return fail();
      continue;
    }
    if (pad != 0) return fail();  // data after padding
    const int v = value_of(c);
    if (v < 0) return fail();
    ++digits;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (digits % 4 == 1) return fail();
  if (pad != 0 && (digits + pad) % 4 != 0) return fail();
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return fail();
  return true;
}

}  // namespace junction::core
