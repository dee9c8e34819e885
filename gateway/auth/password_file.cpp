#include "password_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "auth_file_error.h"

namespace junction::auth {

namespace {

constexpr std::size_t kHashSize = 64;
constexpr std::uint32_t kMaxIterations = 10'000'000;  // keeps a hostile file from stalling connects

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_dollar(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t p = s.find('$', start);
    parts.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return parts;
}

// FNV-1a: only compares an entry with itself across reloads.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

PasswordEntry parse_entry(std::string_view user, std::string_view hash, const std::string& source, int line) {
  PasswordEntry e;
  e.user.assign(user);
  e.hash_text.assign(hash);
  e.line = line;
  const std::string who = "user '" + e.user + "': ";
  if (hash.empty()) fail_at(source, line, who + "missing password hash");
  const std::vector<std::string_view> parts = split_dollar(hash);
  if (parts.size() < 2 || !parts[0].empty())
    fail_at(source, line, who + "password hash must start with $6$ or $7$ (a plain-text password? hash the file with mosquitto_passwd -U, or set it again with junction passwd)");
  std::string_view salt_b64, hash_b64;
  if (parts[1] == "6") {
    if (parts.size() != 4) fail_at(source, line, who + "a $6$ hash has the form $6$<salt>$<hash>");
    e.kind = PasswordEntry::Kind::Sha512;
    salt_b64 = parts[2];
    hash_b64 = parts[3];
  } else if (parts[1] == "7") {
    if (parts.size() != 5) fail_at(source, line, who + "a $7$ hash has the form $7$<iterations>$<salt>$<hash>");
    e.kind = PasswordEntry::Kind::Pbkdf2Sha512;
    const std::string_view it = parts[2];
    const auto r = std::from_chars(it.data(), it.data() + it.size(), e.iterations);
    if (r.ec != std::errc() || r.ptr != it.data() + it.size() || e.iterations < 1 || e.iterations > kMaxIterations)
      fail_at(source, line, who + "iterations must be a number between 1 and " + std::to_string(kMaxIterations));
    salt_b64 = parts[3];
    hash_b64 = parts[4];
  } else {
    fail_at(source, line, who + "unknown password hash type $" + std::string(parts[1]) + "$ (expected $6$ or $7$)");
  }
  auto salt = base64_decode(salt_b64);
  if (!salt || salt->empty()) fail_at(source, line, who + "salt is not valid base64");
  auto digest = base64_decode(hash_b64);
  if (!digest || digest->size() != kHashSize) fail_at(source, line, who + "hash is not 64 bytes of base64");
  e.salt = std::move(*salt);
  e.hash = std::move(*digest);
  return e;
}

Bytes digest_of(const PasswordEntry& e, std::span<const std::uint8_t> password) {
  if (e.kind == PasswordEntry::Kind::Sha512) return sha512_salted(password, e.salt);
  return pbkdf2_sha512(password, e.salt, e.iterations);
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw AuthFileError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw AuthFileError(path + ": cannot read: " + std::strerror(errno));
  return text.str();
}

const char* PasswordFile::invalid_user(std::string_view user) {
  if (user.empty()) return "the user name is empty";
  if (user.size() > 65535) return "the user name is longer than 65535 bytes";
  for (char c : user) {
    if (c == ':') return "a user name cannot contain ':'";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "a user name cannot contain control characters";
  }
  if (user.front() == '#') return "a user name cannot start with '#' (it would be a comment)";
  if (trim(user) != user) return "a user name cannot start or end with blanks";
  return nullptr;
}

PasswordFile PasswordFile::parse(std::string_view text, const std::string& source) {
  PasswordFile f;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') {
      f.lines_.push_back(Line{std::string(raw.substr(0, raw.size() - (raw.ends_with('\r') ? 1 : 0))), -1});
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) fail_at(source, line_no, "expected user:password-hash");
    const std::string_view user = trim(line.substr(0, colon));
    if (user.empty()) fail_at(source, line_no, "empty user name");
    PasswordEntry e = parse_entry(user, trim(line.substr(colon + 1)), source, line_no);
    if (auto it = f.index_.find(e.user); it != f.index_.end())
      fail_at(source, line_no, "user '" + e.user + "' is already defined on line " +
                                   std::to_string(f.entries_[it->second].line));
    f.index_.emplace(e.user, f.entries_.size());
    f.lines_.push_back(Line{{}, int(f.entries_.size())});
    f.entries_.push_back(std::move(e));
  }
  return f;
}

PasswordFile PasswordFile::load(const std::string& path) { return parse(read_text_file(path), path); }

const PasswordEntry* PasswordFile::find(std::string_view user) const {
  auto it = index_.find(std::string(user));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::uint64_t PasswordFile::fingerprint(std::string_view user) const {
  const PasswordEntry* e = find(user);
  return e ? fnv1a(e->hash_text) : 0;
}

PasswordFile::Verdict PasswordFile::verify(std::string_view user, std::span<const std::uint8_t> password) const {
  const PasswordEntry* e = find(user);
  if (e == nullptr) {
    // Same work as a default mosquitto_passwd entry, result ignored.
    static const PasswordEntry dummy = [] {
      PasswordEntry d;
      d.iterations = kDefaultIterations;
      d.salt.assign(kSaltSize, 0x5a);
      return d;
    }();
    (void)digest_of(dummy, password);
    return Verdict::UnknownUser;
  }
  const Bytes got = digest_of(*e, password);
  return constant_time_equal(got, e->hash) ? Verdict::Ok : Verdict::WrongPassword;
}

std::string make_pbkdf2_hash(std::string_view password, std::span<const std::uint8_t> salt, std::uint32_t iterations) {
  const Bytes digest = pbkdf2_sha512(as_bytes(password), salt, iterations);
  return "$7$" + std::to_string(iterations) + "$" + base64_encode(salt) + "$" + base64_encode(digest);
}

void PasswordFile::set(std::string_view user, std::string_view password, std::uint32_t iterations) {
  if (const char* why = invalid_user(user)) throw std::invalid_argument(why);
  const Bytes salt = random_bytes(kSaltSize);
  PasswordEntry e = parse_entry(user, make_pbkdf2_hash(password, salt, iterations), "<new entry>", 0);
  if (auto it = index_.find(e.user); it != index_.end()) {
    e.line = entries_[it->second].line;
    entries_[it->second] = std::move(e);
    return;
  }
  index_.emplace(e.user, entries_.size());
  lines_.push_back(Line{{}, int(entries_.size())});
  entries_.push_back(std::move(e));
}

bool PasswordFile::remove(std::string_view user) {
  auto it = index_.find(std::string(user));
  if (it == index_.end()) return false;
  const std::size_t idx = it->second;
  index_.erase(it);
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].entry == int(idx)) {
      lines_.erase(lines_.begin() + std::ptrdiff_t(i));
      break;
    }
  }
  entries_[idx].user.clear();
  return true;
}

std::string PasswordFile::serialize() const {
  std::string out;
  for (const Line& l : lines_) {
    if (l.entry < 0) {
      out.append(l.text);
    } else {
      const PasswordEntry& e = entries_[std::size_t(l.entry)];
      out.append(e.user).push_back(':');
      out.append(e.hash_text);
    }
    out.push_back('\n');
  }
  return out;
}

void PasswordFile::save(const std::string& path) const {
  const std::string data = serialize();
  std::string tmp = path + ".XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw AuthFileError(path + ": cannot create a temporary file beside it: " + std::strerror(errno));
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw AuthFileError(path + ": " + what + ": " + std::strerror(err));
  };
  if (::fchmod(fd, 0600) != 0) fail("cannot set mode 0600");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0) fail("cannot sync");
  if (::close(fd) != 0) {
    fd = -1;
    const int err = errno;
    ::unlink(tmp.c_str());
    throw AuthFileError(path + ": cannot close: " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw AuthFileError(path + ": cannot replace: " + std::strerror(err));
  }
}

}  // namespace junction::auth
