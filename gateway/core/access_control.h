// junction::core::AccessControl — the protocol-neutral seam between the
// front-ends and whatever decides who may connect and what they may touch
// (gateway/auth implements it from Mosquitto-format files; main.cpp wires
// it into the Broker). The core never depends on an implementation.
//
// Names the ACL sees are core names: topic `a/b`, queue `$queue/<name>`.
//
// Cost rule: with no ACL configured Broker::acl() is null and front-ends and
// the router skip every check (one pointer test). With an ACL, a delivery is
// checked per message only for sessions holding a subscription whose filter
// is not wholly readable (cached per session, invalidated by generation()).
//
// Threading: loop thread only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "frontend.h"
#include "message.h"

namespace junction::core {

enum class Access : std::uint8_t { Read = 1, Write = 2, Subscribe = 4 };

// Who is asking: the effective user (empty with anonymous = true when the
// client gave none) and its client id (for %c patterns).
struct Principal {
  std::string_view user;
  bool anonymous = true;
  std::string_view client_id;
};

// What a connection authenticated as; kept in its Session for later checks
// (deliveries, reload).
struct ClientIdentity {
  std::string user;
  bool anonymous = true;
  bool from_certificate = false;     // user name taken from the TLS client certificate
  std::uint64_t credential = 0;      // fingerprint of the password entry used (0: none)
  bool by_plugin = false;            // a plugin (or an enhanced authentication) vouched for it

  Principal principal(std::string_view client_id) const { return Principal{user, anonymous, client_id}; }
};

enum class AuthStatus : std::uint8_t {
  Ok,
  BadCredentials,  // unknown user or wrong password (MQTT 5 0x86, v3 0x04... see front-ends)
  NotAuthorized,   // refused for another reason (anonymous not allowed, no identity)
};

struct AuthResult {
  AuthStatus status = AuthStatus::Ok;
  ClientIdentity identity;
  const char* reason = "";  // for the log line; never contains the password
};

// How much of a subscription filter a principal may read.
enum class FilterAccess : std::uint8_t {
  Denied,   // the subscription is refused
  Partial,  // allowed; each message is checked on delivery
  Whole,    // every topic the filter matches is readable: no per-message check
};

struct Credentials;

// MQTT 5 enhanced authentication [MQTT-4.12]: one step of an exchange.
// The front-end keeps `member` between steps (it names the chain member
// that took the method, so CONTINUE goes back to it).
struct ExtAuthRequest {
  std::string_view method;
  std::span<const std::uint8_t> data;  // Authentication Data (may be empty)
  std::string_view client_id;
  const ConnectionInfo* info = nullptr;
  ProtocolId protocol{};
  std::uint8_t protocol_version = 0;
  std::string_view user;               // CONNECT's user name, if any
  bool has_user = false;
  int member = -1;                     // -1: the first step (CONNECT); else who answered Continue
};

struct ExtAuthAnswer {
  enum class Status : std::uint8_t {
    Success,        // CONNACK 0x00 (with `data`, if any)
    Continue,       // AUTH 0x18 Continue authentication, with `data`
    Failed,         // CONNACK 0x87 Not authorized
    UnknownMethod,  // CONNACK 0x8C Bad authentication method: nobody takes it
  };
  Status status = Status::UnknownMethod;
  std::string data;
  std::string reason;  // for the log and the reason string
  int member = -1;
};

class AccessControl {
 public:
  virtual ~AccessControl() = default;

  // The whole connect-time decision (the free function authenticate()
  // below calls this). The default is that function's built-in rules with
  // check_password(); a chain with plugins overrides it so that its
  // members also see anonymous and certificate identities.
  virtual AuthResult authenticate(const Credentials& c, const ConnectionInfo& info, bool allow_anonymous);

  // One step of an MQTT 5 enhanced authentication; by default no method
  // is known.
  virtual ExtAuthAnswer extended_auth(const ExtAuthRequest&) { return {}; }

  // User name and password (both given: a password without a user name is
  // refused before this is called). Only the password file is consulted;
  // anonymous clients and certificate identities are handled by
  // authenticate() below.
  virtual AuthResult check_password(std::string_view user, std::span<const std::uint8_t> password,
                                    std::string_view client_id, const ConnectionInfo& info) = 0;

  // After a reload: may a connection that authenticated as `id` stay?
  // (False when its user was removed from the password file or its password changed.)
  virtual bool still_valid(const ClientIdentity& id) const = 0;

  // True when an ACL file is in force; otherwise every access is allowed.
  virtual bool has_acl() const = 0;
  // Read / Write a topic name; Subscribe a filter (allowed unless Denied below).
  virtual bool allowed(const Principal& who, std::string_view topic, Access a) const = 0;
  virtual FilterAccess subscribe_access(const Principal& who, std::string_view filter) const = 0;

  // Changes whenever the rules change (reload); caches compare against it.
  virtual std::uint64_t generation() const = 0;
};

// The connect-time decision every front-end makes, in one place:
//  * `identity_is_username` (TLS listener option): the user is the verified
//    certificate identity, no password; no certificate identity -> refused.
//  * no user name: anonymous, allowed only when the listener allows it.
//  * a password without a user name: refused.
//  * otherwise the AccessControl checks the password (none configured: any
//    user name is accepted, as Mosquitto does without a password file).
struct Credentials {
  const std::string_view* user = nullptr;                    // null: none given
  const std::span<const std::uint8_t>* password = nullptr;   // null: none given
  std::string_view client_id;
  ProtocolId protocol{};             // who asks (plugins see it)
  std::uint8_t protocol_version = 0;
};
// The built-in rules above, with ac->check_password() for a user name.
AuthResult authenticate_builtin(AccessControl* ac, const Credentials& c, const ConnectionInfo& info,
                                bool allow_anonymous);
AuthResult authenticate(AccessControl* ac, const Credentials& c, const ConnectionInfo& info, bool allow_anonymous);

// Names for log lines.
const char* auth_status_name(AuthStatus s);

}  // namespace junction::core
