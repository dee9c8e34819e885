// junction::auth::AuthService — the AccessControl built from a Mosquitto
// password file and ACL file (either may be absent). main.cpp owns one and
// hands it to the Broker; SIGHUP calls reload().
//
// Without a password file any user name is accepted (as Mosquitto does);
// without an ACL file every topic is open and has_acl() is false, so the
// data path does no checks at all.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "access_control.h"
#include "acl_file.h"
#include "password_file.h"

namespace junction::auth {

struct AuthFiles {
  std::string password_file;  // "": none
  std::string acl_file;       // "": none
};

class AuthService final : public core::AccessControl {
 public:
  // Loads both files; throws AuthFileError ("FILE:LINE: ...").
  explicit AuthService(AuthFiles files);

  // Re-reads both files. On any error the running rules stay and the
  // message is returned; on success returns nullopt and bumps generation().
  std::optional<std::string> reload();

  core::AuthResult check_password(std::string_view user, std::span<const std::uint8_t> password,
                                  std::string_view client_id, const core::ConnectionInfo& info) override;
  bool still_valid(const core::ClientIdentity& id) const override;
  bool has_acl() const override { return acl_ != nullptr; }
  bool allowed(const core::Principal& who, std::string_view topic, core::Access a) const override;
  core::FilterAccess subscribe_access(const core::Principal& who, std::string_view filter) const override;
  std::uint64_t generation() const override { return generation_; }

  const AuthFiles& files() const { return files_; }
  // The two files as chain members (gateway/plugin_host); null when absent.
  const PasswordFile* passwords() const { return passwords_.get(); }
  const AclFile* acl_file() const { return acl_.get(); }
  std::size_t user_count() const { return passwords_ ? passwords_->size() : 0; }
  std::size_t rule_count() const { return acl_ ? acl_->rule_count() : 0; }

 private:
  AuthFiles files_;
  std::unique_ptr<PasswordFile> passwords_;
  std::unique_ptr<AclFile> acl_;
  std::uint64_t generation_ = 1;
};

}  // namespace junction::auth
