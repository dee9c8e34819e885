// Client-side WebSocket bytes for tests of the server layer: masked frames
// built by hand (RFC 6455 §5.2) and a parser for the server's frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ws_testkit {

inline const char* const kUpgrade =
    "GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

// A client frame; masked unless told otherwise.
inline std::string frame(std::uint8_t opcode, const std::string& payload, bool fin = true, bool masked = true,
                         std::uint8_t rsv = 0) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | opcode));
  std::uint8_t mask_bit = masked ? 0x80 : 0;
  std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(mask_bit | n));
  } else if (n < 65536) {
    f.push_back(static_cast<char>(mask_bit | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff));
  }
  const std::uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) f.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < n; ++i)
    f.push_back(static_cast<char>(masked ? payload[i] ^ static_cast<char>(key[i % 4]) : payload[i]));
  return f;
}

struct ServerFrame {
  bool fin = false;
  std::uint8_t opcode = 0;
  bool masked = false;
  std::string payload;
};

// Parses one server frame from the front of `wire` and removes it.
inline std::optional<ServerFrame> take_frame(std::string& wire) {
  if (wire.size() < 2) return std::nullopt;
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(wire[i]); };
  ServerFrame f;
  f.fin = (b(0) & 0x80) != 0;
  f.opcode = b(0) & 0x0f;
  f.masked = (b(1) & 0x80) != 0;
  std::uint64_t n = b(1) & 0x7f;
  std::size_t at = 2;
  if (n == 126) {
    if (wire.size() < 4) return std::nullopt;
    n = (std::uint64_t{b(2)} << 8) | b(3);
    at = 4;
  } else if (n == 127) {
    if (wire.size() < 10) return std::nullopt;
    n = 0;
    for (int i = 0; i < 8; ++i) n = (n << 8) | b(2 + i);
    at = 10;
  }
  if (f.masked) at += 4;
  if (wire.size() < at + n) return std::nullopt;
  f.payload = wire.substr(at, n);
  wire.erase(0, at + n);
  return f;
}

inline std::uint16_t close_code(const ServerFrame& f) {
  if (f.payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(f.payload[0]) << 8) | static_cast<std::uint8_t>(f.payload[1]));
}

}  // namespace ws_testkit
