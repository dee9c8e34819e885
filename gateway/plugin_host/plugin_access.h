// junction::plugins::PluginAccessControl — the authentication and
// authorization chains: the built-in password and ACL files and the
// plugins' JN_EVT_BASIC_AUTH / JN_EVT_EXT_AUTH_* / JN_EVT_ACL_CHECK
// callbacks, in config order (junction_plugin.h, CHAINS).
//
// Each member answers allow, deny or defer; the first that does not defer
// decides. When all defer: refused if the chain has a member at all,
// allowed if it has none. The files as members:
//   password file: right password -> allow, wrong -> deny, unknown user ->
//                  defer (certificate and anonymous identities: defer);
//   ACL file:      a granting rule -> allow, a deny rule -> deny, no rule
//                  -> defer; a subscription it covers wholly or partly ->
//                  allow (Whole / Partial), otherwise defer.
// A plugin that allows a subscription makes it Partial: each message is
// checked (JN_ACCESS_READ) through the chain on delivery.
//
// Used instead of the AuthService only when a plugin registers one of
// those events, so a broker without such plugins keeps its cost rules.
#pragma once

#include <string>
#include <vector>

#include "access_control.h"
#include "auth_service.h"
#include "config.h"
#include "plugin_host.h"

namespace junction::plugins {

class PluginAccessControl final : public core::AccessControl {
 public:
  // `files`: the password/ACL files (null: neither). Throws
  // std::runtime_error for a built-in entry whose file is not configured.
  PluginAccessControl(PluginHost& host, auth::AuthService* files, const std::vector<PluginConfig>& entries,
                      const std::string& config_source);

  // Some plugin takes part in a chain (else the AuthService alone is used).
  static bool needed(const PluginHost& host);
  // SIGHUP: the plugins may have changed their rules.
  void rules_changed() { ++reloads_; }

  core::AuthResult authenticate(const core::Credentials& c, const core::ConnectionInfo& info,
                                bool allow_anonymous) override;
  core::ExtAuthAnswer extended_auth(const core::ExtAuthRequest& req) override;
  core::AuthResult check_password(std::string_view user, std::span<const std::uint8_t> password,
                                  std::string_view client_id, const core::ConnectionInfo& info) override;
  bool still_valid(const core::ClientIdentity& id) const override;
  bool has_acl() const override;
  bool allowed(const core::Principal& who, std::string_view topic, core::Access a) const override;
  core::FilterAccess subscribe_access(const core::Principal& who, std::string_view filter) const override;
  std::uint64_t generation() const override { return (files_ ? files_->generation() : 0) + reloads_; }

  // The chain as configured, for the start-up log: "password_file, token_auth, acl_file".
  std::string describe() const;

 private:
  enum class Kind : std::uint8_t { Passwords, Acl, Plugin };
  struct Member {
    Kind kind;
    jn_plugin* plugin;  // Kind::Plugin
  };
  struct Verdict {
    int rc = JN_DEFER;
    const Member* by = nullptr;
  };
  Verdict run_basic(jn_client& client, const jn_evt_basic_auth& ev, std::uint64_t* fingerprint) const;
  int run_acl_plugin(jn_plugin* p, jn_client& client, std::string_view topic, core::Access a) const;
  jn_client client_for(const core::Principal& who) const;
  bool has_auth_member() const;

  PluginHost& host_;
  auth::AuthService* files_;
  std::vector<Member> members_;
  std::uint64_t reloads_ = 0;
};

}  // namespace junction::plugins
