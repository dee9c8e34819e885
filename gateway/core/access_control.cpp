#include "access_control.h"

namespace junction::core {

AuthResult AccessControl::authenticate(const Credentials& c, const ConnectionInfo& info, bool allow_anonymous) {
  return authenticate_builtin(this, c, info, allow_anonymous);
}

AuthResult authenticate(AccessControl* ac, const Credentials& c, const ConnectionInfo& info, bool allow_anonymous) {
  return ac ? ac->authenticate(c, info, allow_anonymous) : authenticate_builtin(nullptr, c, info, allow_anonymous);
}

AuthResult authenticate_builtin(AccessControl* ac, const Credentials& c, const ConnectionInfo& info,
                                bool allow_anonymous) {
  AuthResult r;
  if (info.identity_is_username) {
    if (info.cert_identity.empty()) {
      r.status = AuthStatus::NotAuthorized;
      r.reason = "no verified client certificate identity";
      return r;
    }
    r.identity.user = info.cert_identity;
    r.identity.anonymous = false;
    r.identity.from_certificate = true;
    return r;
  }
  if (c.user == nullptr) {
    if (c.password != nullptr) {
      r.status = AuthStatus::BadCredentials;
      r.reason = "password without a user name";
      return r;
    }
    if (!allow_anonymous) {
      r.status = AuthStatus::NotAuthorized;
      r.reason = "anonymous access is not allowed";
    }
    return r;
  }
  if (ac == nullptr) {
    r.identity.user.assign(*c.user);
    r.identity.anonymous = false;
    return r;
  }
  static constexpr std::span<const std::uint8_t> kNoPassword;
  return ac->check_password(*c.user, c.password ? *c.password : kNoPassword, c.client_id, info);
}

const char* auth_status_name(AuthStatus s) {
  switch (s) {
    case AuthStatus::Ok: return "ok";
    case AuthStatus::BadCredentials: return "bad user name or password";
    case AuthStatus::NotAuthorized: return "not authorized";
  }
  return "?";
}

}  // namespace junction::core
