#include "plugin_access.h"

#include <stdexcept>

#include "log.h"
#include "session.h"

namespace junction::plugins {

namespace {

int acl_access(core::Access a) {
  switch (a) {
    case core::Access::Read: return JN_ACCESS_READ;
    case core::Access::Write: return JN_ACCESS_WRITE;
    case core::Access::Subscribe: return JN_ACCESS_SUBSCRIBE;
  }
  return 0;
}

}  // namespace

PluginAccessControl::PluginAccessControl(PluginHost& host, auth::AuthService* files,
                                         const std::vector<PluginConfig>& entries, const std::string& config_source)
    : host_(host), files_(files) {
  bool placed_passwords = false, placed_acl = false;
  std::size_t plugin = 0;
  for (const PluginConfig& e : entries) {
    if (e.builtin.empty()) {
      members_.push_back({Kind::Plugin, host.plugins().at(plugin++).get()});
      continue;
    }
    const bool passwords = e.builtin == "password_file";
    const bool present = files_ && (passwords ? files_->passwords() != nullptr : files_->acl_file() != nullptr);
    if (!present) {
      throw std::runtime_error(config_source + ":" + std::to_string(e.line) + ": plugins: builtin " + e.builtin +
                               " has no file: set auth." + e.builtin);
    }
    if ((passwords && placed_passwords) || (!passwords && placed_acl)) {
      throw std::runtime_error(config_source + ":" + std::to_string(e.line) + ": plugins: builtin " + e.builtin +
                               " is listed twice");
    }
    (passwords ? placed_passwords : placed_acl) = true;
    members_.push_back({passwords ? Kind::Passwords : Kind::Acl, nullptr});
  }
  // Built-ins not placed go first, as before plugins existed.
  if (files_ && files_->acl_file() && !placed_acl) members_.insert(members_.begin(), {Kind::Acl, nullptr});
  if (files_ && files_->passwords() && !placed_passwords) members_.insert(members_.begin(), {Kind::Passwords, nullptr});
}

bool PluginAccessControl::needed(const PluginHost& host) {
  return host.has(JN_EVT_BASIC_AUTH) || host.has(JN_EVT_EXT_AUTH_START) || host.has(JN_EVT_ACL_CHECK);
}

std::string PluginAccessControl::describe() const {
  std::string s;
  auto takes_part = [this](const jn_plugin* p) {
    for (int e : {JN_EVT_BASIC_AUTH, JN_EVT_EXT_AUTH_START, JN_EVT_ACL_CHECK})
      for (const PluginHost::Registration& r : host_.registrations(e))
        if (r.plugin == p) return true;
    return false;
  };
  for (const Member& m : members_) {
    if (m.kind == Kind::Plugin && !takes_part(m.plugin)) continue;
    if (!s.empty()) s += ", ";
    s += m.kind == Kind::Passwords ? "password_file" : m.kind == Kind::Acl ? "acl_file" : m.plugin->name;
  }
  return s;
}

bool PluginAccessControl::has_auth_member() const {
  return (files_ && files_->passwords()) || host_.has(JN_EVT_BASIC_AUTH);
}

PluginAccessControl::Verdict PluginAccessControl::run_basic(jn_client& client, const jn_evt_basic_auth& ev,
                                                            std::uint64_t* fingerprint) const {
  Verdict v;
  for (const Member& m : members_) {
    if (m.kind == Kind::Acl) continue;
    if (m.kind == Kind::Passwords) {
      if (!ev.has_username || ev.from_certificate) continue;
      const auth::PasswordFile& pw = *files_->passwords();
      const std::string_view user = from_jn(ev.username);
      const auto password = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(ev.password.ptr),
                                                          ev.has_password ? ev.password.len : 0);
      switch (pw.verify(user, password)) {
        case auth::PasswordFile::Verdict::Ok:
          *fingerprint = pw.fingerprint(user);
          return {JN_OK, &m};
        case auth::PasswordFile::Verdict::WrongPassword: return {JN_DENY, &m};
        case auth::PasswordFile::Verdict::UnknownUser: continue;
      }
      continue;
    }
    for (const PluginHost::Registration& r : host_.registrations(JN_EVT_BASIC_AUTH)) {
      if (r.plugin != m.plugin) continue;
      jn_evt_basic_auth copy = ev;  // a callback cannot change what the next one sees
      copy.client = &client;
      const int rc = r.cb(JN_EVT_BASIC_AUTH, &copy, r.user_data);
      if (rc == JN_OK || rc == JN_DENY) return {rc, &m};
    }
  }
  return v;
}

core::AuthResult PluginAccessControl::authenticate(const core::Credentials& c, const core::ConnectionInfo& info,
                                                   bool allow_anonymous) {
  core::AuthResult r;
  jn_client client;
  client.broker = &host_.broker();
  client.client_id = c.client_id;
  client.info = &info;
  client.protocol = c.protocol;
  client.protocol_version = c.protocol_version;
  jn_evt_basic_auth ev{sizeof ev, &client, 0, {}, 0, {}, 0};
  std::uint64_t fingerprint = 0;

  if (info.identity_is_username || c.user == nullptr) {
    // Settled by the listener's rules; members may still refuse.
    r = core::authenticate_builtin(nullptr, c, info, allow_anonymous);
    if (r.status != core::AuthStatus::Ok) return r;
    if (info.identity_is_username) {
      ev.has_username = 1;
      ev.username = to_jn(r.identity.user);
      ev.from_certificate = 1;
    }
    const Verdict v = run_basic(client, ev, &fingerprint);
    if (v.rc == JN_DENY) {
      r.status = core::AuthStatus::NotAuthorized;
      r.reason = "refused by an authentication plugin";
    }
    return r;
  }
  ev.has_username = 1;
  ev.username = to_jn(*c.user);
  if (c.password) {
    ev.has_password = 1;
    ev.password = jn_str{reinterpret_cast<const char*>(c.password->data()), c.password->size()};
  }
  const Verdict v = run_basic(client, ev, &fingerprint);
  r.identity.user.assign(*c.user);
  r.identity.anonymous = false;
  if (v.rc == JN_OK) {
    r.identity.credential = fingerprint;
    r.identity.by_plugin = v.by->kind == Kind::Plugin;
    return r;
  }
  if (v.rc == JN_DENY) {
    r.status = core::AuthStatus::BadCredentials;
    r.reason = v.by->kind == Kind::Passwords ? "wrong password" : "refused by an authentication plugin";
    return r;
  }
  if (has_auth_member()) {
    r.status = core::AuthStatus::BadCredentials;
    r.reason = "unknown user (no member of the authentication chain accepted it)";
  }
  return r;
}

core::AuthResult PluginAccessControl::check_password(std::string_view user, std::span<const std::uint8_t> password,
                                                     std::string_view client_id, const core::ConnectionInfo& info) {
  core::Credentials c;
  c.user = &user;
  c.password = &password;
  c.client_id = client_id;
  return authenticate(c, info, false);
}

core::ExtAuthAnswer PluginAccessControl::extended_auth(const core::ExtAuthRequest& req) {
  core::ExtAuthAnswer out;
  jn_client client;
  client.broker = &host_.broker();
  client.client_id = req.client_id;
  client.info = req.info;
  client.protocol = req.protocol;
  client.protocol_version = req.protocol_version;
  if (req.has_user) {
    client.user = req.user;
    client.anonymous = false;
  }
  const int event = req.member < 0 ? JN_EVT_EXT_AUTH_START : JN_EVT_EXT_AUTH_CONTINUE;
  for (const Member& m : members_) {
    if (m.kind != Kind::Plugin) continue;
    if (req.member >= 0 && m.plugin->index != static_cast<std::size_t>(req.member)) continue;
    for (const PluginHost::Registration& r : host_.registrations(event)) {
      if (r.plugin != m.plugin) continue;
      jn_evt_ext_auth ev{sizeof ev, &client, to_jn(req.method),
                         jn_str{reinterpret_cast<const char*>(req.data.data()), req.data.size()}, nullptr, 0, nullptr};
      const int rc = r.cb(event, &ev, r.user_data);
      if (rc == JN_DEFER) continue;
      if (ev.data_out && ev.data_out_len) out.data.assign(static_cast<const char*>(ev.data_out), ev.data_out_len);
      if (ev.reason) out.reason = ev.reason;
      out.member = static_cast<int>(m.plugin->index);
      out.status = rc == JN_OK               ? core::ExtAuthAnswer::Status::Success
                   : rc == JN_AUTH_CONTINUE ? core::ExtAuthAnswer::Status::Continue
                                            : core::ExtAuthAnswer::Status::Failed;
      if (out.reason.empty() && out.status == core::ExtAuthAnswer::Status::Failed)
        out.reason = "refused by plugin " + m.plugin->name;
      return out;
    }
  }
  // A continuation nobody answers is a failure, a first step an unknown method.
  if (req.member >= 0) {
    out.status = core::ExtAuthAnswer::Status::Failed;
    out.reason = "the authentication plugin did not answer";
  }
  return out;
}

bool PluginAccessControl::still_valid(const core::ClientIdentity& id) const {
  if (id.by_plugin) return true;
  return files_ == nullptr || files_->still_valid(id);
}

bool PluginAccessControl::has_acl() const { return (files_ && files_->acl_file()) || host_.has(JN_EVT_ACL_CHECK); }

jn_client PluginAccessControl::client_for(const core::Principal& who) const {
  core::Broker& b = host_.broker();
  if (core::Session* s = b.find_session(who.client_id); s && s->online()) return client_of(b, *s);
  jn_client c;  // connecting (a will's check) or offline
  c.broker = &b;
  c.client_id = who.client_id;
  c.user = who.user;
  c.anonymous = who.anonymous;
  return c;
}

int PluginAccessControl::run_acl_plugin(jn_plugin* p, jn_client& client, std::string_view topic,
                                        core::Access a) const {
  for (const PluginHost::Registration& r : host_.registrations(JN_EVT_ACL_CHECK)) {
    if (r.plugin != p) continue;
    jn_evt_acl_check ev{sizeof ev, &client, to_jn(topic), acl_access(a)};
    const int rc = r.cb(JN_EVT_ACL_CHECK, &ev, r.user_data);
    if (rc == JN_OK || rc == JN_DENY) return rc;
  }
  return JN_DEFER;
}

bool PluginAccessControl::allowed(const core::Principal& who, std::string_view topic, core::Access a) const {
  if (a == core::Access::Subscribe) return subscribe_access(who, topic) != core::FilterAccess::Denied;
  jn_client client;
  bool have_client = false;
  for (const Member& m : members_) {
    if (m.kind == Kind::Passwords) continue;
    if (m.kind == Kind::Acl) {
      switch (files_->acl_file()->decide(who, topic, a)) {
        case auth::AclFile::Decision::Allow: return true;
        case auth::AclFile::Decision::Deny: return false;
        case auth::AclFile::Decision::Undecided: continue;
      }
    }
    if (!have_client) {
      client = client_for(who);
      have_client = true;
    }
    const int rc = run_acl_plugin(m.plugin, client, topic, a);
    if (rc != JN_DEFER) return rc == JN_OK;
  }
  return !has_acl();
}

core::FilterAccess PluginAccessControl::subscribe_access(const core::Principal& who, std::string_view filter) const {
  jn_client client;
  bool have_client = false;
  for (const Member& m : members_) {
    if (m.kind == Kind::Passwords) continue;
    if (m.kind == Kind::Acl) {
      const core::FilterAccess fa = files_->acl_file()->subscribe_access(who, filter);
      if (fa != core::FilterAccess::Denied) return fa;
      continue;
    }
    if (!have_client) {
      client = client_for(who);
      have_client = true;
    }
    const int rc = run_acl_plugin(m.plugin, client, filter, core::Access::Subscribe);
    if (rc == JN_OK) return core::FilterAccess::Partial;
    if (rc == JN_DENY) return core::FilterAccess::Denied;
  }
  return has_acl() ? core::FilterAccess::Denied : core::FilterAccess::Whole;
}

}  // namespace junction::plugins
