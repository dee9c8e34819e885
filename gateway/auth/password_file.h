// junction::auth::PasswordFile — Mosquitto's password file, read and written.
//
// One entry per line, `user:hash`, where hash is
//   $7$<iterations>$<salt base64>$<hash base64>   PBKDF2-HMAC-SHA512 of the password
//                                                (what mosquitto_passwd 2.x writes)
//   $6$<salt base64>$<hash base64>                SHA-512 of password then salt (1.x)
// and the hash is 64 bytes. Lines starting with '#' and blank lines are kept
// as they are when the file is rewritten. Anything else is an error naming
// the file and line (Mosquitto logs and drops such lines; we refuse to start,
// so a typo never silently locks a user out or lets one in).
//
// New entries are $7$ with 101 iterations and a 12-byte random salt, as
// mosquitto_passwd writes them, so either tool can read the other's files.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth_crypto.h"

namespace junction::auth {

inline constexpr std::uint32_t kDefaultIterations = 101;
inline constexpr std::size_t kSaltSize = 12;

struct PasswordEntry {
  enum class Kind : std::uint8_t { Sha512, Pbkdf2Sha512 };
  std::string user;
  std::string hash_text;  // the part after ':' as written in the file
  Kind kind = Kind::Pbkdf2Sha512;
  std::uint32_t iterations = 0;  // $7$ only
  Bytes salt;
  Bytes hash;
  int line = 0;
};

class PasswordFile {
 public:
  enum class Verdict : std::uint8_t { Ok, UnknownUser, WrongPassword };

  // Throws AuthFileError ("FILE:LINE: ...").
  static PasswordFile parse(std::string_view text, const std::string& source);
  static PasswordFile load(const std::string& path);

  // Constant-time comparison; an unknown user costs the same hashing as a
  // known one, so timing does not tell which user names exist.
  Verdict verify(std::string_view user, std::span<const std::uint8_t> password) const;
  const PasswordEntry* find(std::string_view user) const;
  // Identifies the entry's current hash (changes when the password does); 0: no such user.
  std::uint64_t fingerprint(std::string_view user) const;
  std::size_t size() const { return index_.size(); }

  // Adds or replaces `user` with a new $7$ hash of `password`. Throws
  // std::invalid_argument for a user name the format cannot hold.
  void set(std::string_view user, std::string_view password, std::uint32_t iterations = kDefaultIterations);
  bool remove(std::string_view user);

  std::string serialize() const;
  // Writes atomically (temporary file in the same directory, fsync, rename)
  // with mode 0600. Throws AuthFileError.
  void save(const std::string& path) const;

  // Why `user` cannot be stored, or nullptr.
  static const char* invalid_user(std::string_view user);

 private:
  struct Line {
    std::string text;   // comment or blank line, kept verbatim
    int entry = -1;     // index into entries_, or -1
  };
  std::vector<Line> lines_;
  std::vector<PasswordEntry> entries_;  // removed ones have an empty user
  std::unordered_map<std::string, std::size_t> index_;
};

// "$7$<iterations>$<salt>$<hash>" for `password` with the given salt.
std::string make_pbkdf2_hash(std::string_view password, std::span<const std::uint8_t> salt, std::uint32_t iterations);

}  // namespace junction::auth
