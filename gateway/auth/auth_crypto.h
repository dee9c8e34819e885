// junction::auth — the few primitives the password file needs, on mbedTLS
// 2.28's crypto library: PBKDF2-HMAC-SHA512, SHA-512, base64, random bytes
// and a constant-time comparison. Start-up, connect and `junction passwd`
// only; nothing here is on the message path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::auth {

using Bytes = std::vector<std::uint8_t>;

// PBKDF2 with HMAC-SHA512, 64-byte output (Mosquitto's "$7$").
Bytes pbkdf2_sha512(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt,
                    std::uint32_t iterations);
// SHA-512 of password followed by salt (Mosquitto's "$6$").
Bytes sha512_salted(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt);

// Standard base64 with padding, no line breaks.
std::string base64_encode(std::span<const std::uint8_t> data);
std::optional<Bytes> base64_decode(std::string_view text);

// Cryptographically strong random bytes (mbedTLS CTR-DRBG seeded from the
// system entropy source). Throws std::runtime_error if seeding fails.
Bytes random_bytes(std::size_t n);

// Compares in time that depends only on the lengths.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace junction::auth
