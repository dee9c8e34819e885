#include "auth_crypto.h"

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha512.h>

#include <stdexcept>

namespace junction::auth {

namespace {
constexpr std::size_t kSha512Size = 64;
}

Bytes pbkdf2_sha512(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt,
                    std::uint32_t iterations) {
  Bytes out(kSha512Size);
  mbedtls_md_context_t ctx;
  mbedtls_md_init(&ctx);
  int rc = mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA512), 1);
  if (rc == 0) {
    rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, password.data(), password.size(), salt.data(), salt.size(), iterations,
                                   static_cast<std::uint32_t>(out.size()), out.data());
  }
  mbedtls_md_free(&ctx);
  if (rc != 0) throw std::runtime_error("PBKDF2-SHA512 failed");
  return out;
}

Bytes sha512_salted(std::span<const std::uint8_t> password, std::span<const std::uint8_t> salt) {
  Bytes out(kSha512Size);
  mbedtls_sha512_context ctx;
  mbedtls_sha512_init(&ctx);
  int rc = mbedtls_sha512_starts_ret(&ctx, 0);
  if (rc == 0) rc = mbedtls_sha512_update_ret(&ctx, password.data(), password.size());
  if (rc == 0) rc = mbedtls_sha512_update_ret(&ctx, salt.data(), salt.size());
  if (rc == 0) rc = mbedtls_sha512_finish_ret(&ctx, out.data());
  mbedtls_sha512_free(&ctx);
  if (rc != 0) throw std::runtime_error("SHA-512 failed");
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  std::size_t n = 0;
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &n, data.data(), data.size()) !=
      0)
    throw std::runtime_error("base64 encoding failed");
  out.resize(n);
  return out;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  if (text.empty()) return Bytes{};
  // mbedTLS tolerates line breaks inside base64; a password field has none.
  for (char c : text)
    if (c == '\r' || c == '\n' || c == ' ') return std::nullopt;
  Bytes out(text.size());
  std::size_t n = 0;
  if (mbedtls_base64_decode(out.data(), out.size(), &n, reinterpret_cast<const unsigned char*>(text.data()),
                            text.size()) != 0)
    return std::nullopt;
  out.resize(n);
  return out;
}

Bytes random_bytes(std::size_t n) {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_init(&drbg);
  static constexpr char kPersonal[] = "junction-passwd";
  int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                 reinterpret_cast<const unsigned char*>(kPersonal), sizeof kPersonal - 1);
  Bytes out(n);
  if (rc == 0) rc = mbedtls_ctr_drbg_random(&drbg, out.data(), out.size());
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  if (rc != 0) throw std::runtime_error("no random bytes: the entropy source failed");
  return out;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  volatile std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = diff | std::uint8_t(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace junction::auth
