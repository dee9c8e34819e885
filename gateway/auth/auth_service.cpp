#include "auth_service.h"

#include "auth_file_error.h"

namespace junction::auth {

AuthService::AuthService(AuthFiles files) : files_(std::move(files)) {
  if (!files_.password_file.empty()) passwords_ = std::make_unique<PasswordFile>(PasswordFile::load(files_.password_file));
  if (!files_.acl_file.empty()) acl_ = std::make_unique<AclFile>(AclFile::load(files_.acl_file));
}

std::optional<std::string> AuthService::reload() {
  std::unique_ptr<PasswordFile> passwords;
  std::unique_ptr<AclFile> acl;
  try {
    if (!files_.password_file.empty()) passwords = std::make_unique<PasswordFile>(PasswordFile::load(files_.password_file));
    if (!files_.acl_file.empty()) acl = std::make_unique<AclFile>(AclFile::load(files_.acl_file));
  } catch (const AuthFileError& e) {
    return std::string(e.what());
  }
  passwords_ = std::move(passwords);
  acl_ = std::move(acl);
  ++generation_;
  return std::nullopt;
}

core::AuthResult AuthService::check_password(std::string_view user, std::span<const std::uint8_t> password,
                                             std::string_view, const core::ConnectionInfo&) {
  core::AuthResult r;
  r.identity.user.assign(user);
  r.identity.anonymous = false;
  if (!passwords_) return r;
  switch (passwords_->verify(user, password)) {
    case PasswordFile::Verdict::Ok:
      r.identity.credential = passwords_->fingerprint(user);
      break;
    case PasswordFile::Verdict::UnknownUser:
      r.status = core::AuthStatus::BadCredentials;
      r.reason = "unknown user";
      break;
    case PasswordFile::Verdict::WrongPassword:
      r.status = core::AuthStatus::BadCredentials;
      r.reason = "wrong password";
      break;
  }
  return r;
}

bool AuthService::still_valid(const core::ClientIdentity& id) const {
  if (id.anonymous || id.from_certificate || !passwords_) return true;
  // Removed, or the password changed since this client proved it knew it.
  // (An identity accepted before a password file existed has credential 0.)
  const std::uint64_t now = passwords_->fingerprint(id.user);
  return now != 0 && (id.credential == 0 || now == id.credential);
}

bool AuthService::allowed(const core::Principal& who, std::string_view topic, core::Access a) const {
  return acl_ == nullptr || acl_->allowed(who, topic, a);
}

core::FilterAccess AuthService::subscribe_access(const core::Principal& who, std::string_view filter) const {
  return acl_ == nullptr ? core::FilterAccess::Whole : acl_->subscribe_access(who, filter);
}

}  // namespace junction::auth
