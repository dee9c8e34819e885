// MQTT 5 enhanced authentication [MQTT-4.12] and re-authentication
// [MQTT-4.12.1]: the AUTH packet, and the CONNECT whose Authentication
// Method starts an exchange. The method is the AccessControl's business
// (extended_auth(), one step per call); this file is the protocol around it.
//
// At CONNECT: no access control -> CONNACK 0x8C, as no method is known.
// Otherwise each step's answer decides: Continue -> AUTH 0x18 and the
// connection waits for the client's AUTH 0x18 (still in
// Phase::AwaitConnect: the connect timeout runs from the CONNECT, and only
// AUTH and DISCONNECT are accepted [MQTT-3.1.2-30]); Success -> the CONNECT
// goes on (finish_connect, shared with password logins), its CONNACK carries
// the method and the last data; Failed -> CONNACK 0x87; UnknownMethod ->
// CONNACK 0x8C. Errors before the CONNACK are answered with a CONNACK, never
// a DISCONNECT [MQTT-3.14.0-1].
//
// The decoded CONNECT points into the read buffer, gone by the time the
// client answers: its body is copied when the exchange starts and decoded
// again when it succeeds.
//
// After CONNACK, AUTH 0x19 with the CONNECT's method starts a
// re-authentication: Continue -> AUTH 0x18, Success -> AUTH 0x00, Failed ->
// DISCONNECT 0x87 and close. Other packets keep flowing meanwhile.
#include "log.h"
#include "mqtt_connection.h"

namespace junction::mqtt {

namespace {

// Continue answers allowed in one exchange: a method that needs more is
// broken, and a client must not keep a connection in limbo forever.
constexpr std::uint8_t kMaxAuthRounds = 16;

ByteSpan bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

ByteSpan auth_data_of(const Properties& p) {
  return p.authentication_data ? bytes_of(*p.authentication_data) : ByteSpan{};
}

// The access control's reason, if it may go out as a Reason String (UTF-8).
const char* usable_reason(const std::string& reason, const char* fallback) {
  return !reason.empty() && valid_utf8(reason) ? reason.c_str() : fallback;
}

}  // namespace

core::ExtAuthAnswer MqttConnection::auth_step(ByteSpan data, int member) {
  core::AccessControl* ac = broker().access();
  if (!ac) return {};  // gone since the CONNECT (a reload): no method is known
  const EnhancedAuth& a = *ext_auth_;
  core::ExtAuthRequest req;
  req.method = a.method;
  req.data = data;
  req.client_id = a.client_id;
  req.info = &sink_.info();
  req.protocol = kMqttProtocol;
  req.protocol_version = static_cast<std::uint8_t>(version_);
  req.user = a.user;
  req.has_user = a.has_user;
  req.member = member;
  return ac->extended_auth(req);
}

bool MqttConnection::send_auth(Reason reason, std::string_view data) {
  Auth out;
  out.reason = reason;
  out.properties.authentication_method = ext_auth_->method;  // in every AUTH [MQTT-4.12.0-5]
  if (!data.empty()) out.properties.authentication_data = data;
  scratch().clear();
  encode_auth(out, scratch());
  if (client_max_packet_ != 0 && scratch().size() > client_max_packet_) return false;  // [MQTT-3.1.2-24]
  write(scratch());
  return true;
}

// ---------------------------------------------------- at CONNECT ----

void MqttConnection::begin_enhanced_auth(const Frame& f, const Connect& c, std::string client_id, bool assigned) {
  if (!broker().access()) {
    // Nothing could know a method [MQTT-4.12.0-1].
    send_connack_error(Reason::BadAuthenticationMethod, "authentication method not supported");
    return;
  }
  ext_auth_ = std::make_unique<EnhancedAuth>();
  EnhancedAuth& a = *ext_auth_;
  a.method.assign(*c.properties.authentication_method);
  a.client_id = std::move(client_id);
  a.assigned = assigned;
  a.has_user = c.username.has_value();
  if (c.username) a.user.assign(*c.username);
  a.connect_flags = f.flags;
  a.connect.assign(reinterpret_cast<const char*>(f.body.data()), f.body.size());
  connect_auth_step(auth_data_of(c.properties), -1);
}

void MqttConnection::connect_auth_step(ByteSpan data, int member) {
  core::ExtAuthAnswer ans = auth_step(data, member);
  EnhancedAuth& a = *ext_auth_;
  switch (ans.status) {
    case core::ExtAuthAnswer::Status::Success:
      resume_connect(ans.data);
      return;
    case core::ExtAuthAnswer::Status::Continue:
      if (++a.rounds > kMaxAuthRounds) {
        send_connack_error(Reason::NotAuthorized, "too many authentication rounds");
        return;
      }
      a.member = ans.member;
      if (!send_auth(Reason::ContinueAuthentication, ans.data)) {
        send_connack_error(Reason::NotAuthorized, "authentication data larger than the client's Maximum Packet Size");
      }
      return;
    case core::ExtAuthAnswer::Status::Failed:
      log::notice("mqtt %s: connect refused: client '%s', user '%s': authentication method '%s': %s (%s)",
                  sink_.info().peer_address.c_str(), a.client_id.c_str(), a.has_user ? a.user.c_str() : "-",
                  a.method.c_str(), ans.reason.empty() ? "failed" : ans.reason.c_str(),
                  reason_name(Reason::NotAuthorized));
      send_connack_error(Reason::NotAuthorized,
                         request_problem_info_ ? usable_reason(ans.reason, "not authorized") : nullptr, true);
      return;
    case core::ExtAuthAnswer::Status::UnknownMethod:
      send_connack_error(Reason::BadAuthenticationMethod, "authentication method not supported");
      return;
  }
}

// The exchange succeeded: the CONNECT, decoded again from its copy, goes on
// as a password login would after its check.
void MqttConnection::resume_connect(std::string_view auth_data) {
  EnhancedAuth& a = *ext_auth_;
  Frame f;
  f.type = PacketType::Connect;
  f.flags = a.connect_flags;
  f.body = bytes_of(a.connect);
  f.total_size = a.connect.size();  // not used by the decoder
  Connect c;
  if (!decode_connect(f, c).ok()) {  // it decoded the first time: cannot happen
    send_connack_error(Reason::UnspecifiedError, "CONNECT lost during authentication");
    return;
  }
  // Who the client is: the method vouched for the connection, and it saw the
  // CONNECT's user name (ExtAuthRequest::user), so that name is the identity
  // the ACL checks; without one, an authenticated identity with an empty
  // user name (not anonymous: the listener's allow_anonymous does not apply,
  // and %u patterns match nothing). A password in such a CONNECT is not
  // checked: the method replaces it.
  core::ClientIdentity identity;
  identity.anonymous = false;
  identity.by_plugin = true;  // the method vouched for it: a password file reload does not judge it
  if (a.has_user) identity.user = a.user;
  a.state = EnhancedAuth::State::Connected;
  a.rounds = 0;
  a.member = -1;
  last_rx_ms_ = broker().clock().now_ms();  // keep-alive starts now
  finish_connect(c, a.client_id, a.assigned, std::move(identity), auth_data);
  std::string().swap(a.connect);  // c is done with it
}

void MqttConnection::handle_while_authenticating(const Frame& f) {
  switch (f.type) {
    case PacketType::Auth:
      handle_auth(f);
      return;
    case PacketType::Disconnect:
      // The client gives up; there is no session yet, nothing else to do.
      log::info("mqtt %s: client '%s' left during authentication", sink_.info().peer_address.c_str(),
                ext_auth_->client_id.c_str());
      phase_ = Phase::Closing;
      sink_.close_after_flush();
      return;
    default:
      send_connack_error(Reason::ProtocolError, "only AUTH or DISCONNECT may follow a CONNECT with an "
                                                "authentication method before its CONNACK");
      return;
  }
}

// ------------------------------------------------------------ AUTH ----

void MqttConnection::handle_auth(const Frame& f) {
  Auth in;
  Status st = decode_auth(f, version_, in);  // under MQTT 3 the type is reserved: a protocol error
  if (phase_ == Phase::AwaitConnect) {
    // During the CONNECT's exchange: answered with a CONNACK, never a
    // DISCONNECT [MQTT-3.14.0-1].
    EnhancedAuth& a = *ext_auth_;
    if (!st.ok()) {
      send_connack_error(st.reason, st.what);
    } else if (in.reason != Reason::ContinueAuthentication) {
      send_connack_error(Reason::ProtocolError, "AUTH during authentication must be Continue authentication");
    } else if (!in.properties.authentication_method) {
      send_connack_error(Reason::ProtocolError, "AUTH without an authentication method");  // 3.15.2.2.2
    } else if (*in.properties.authentication_method != a.method) {
      // 0x8C: "does not match the authentication method currently in use" [MQTT-4.12.0-5].
      send_connack_error(Reason::BadAuthenticationMethod, "AUTH with another authentication method than the CONNECT's");
    } else {
      connect_auth_step(auth_data_of(in.properties), a.member);
    }
    return;
  }
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  if (!ext_auth_) {
    // No authentication method was agreed in CONNECT [MQTT-4.12.0-7].
    fail(Reason::ProtocolError, "AUTH without an authentication method");
    return;
  }
  EnhancedAuth& a = *ext_auth_;
  if (!in.properties.authentication_method || *in.properties.authentication_method != a.method) {
    fail(Reason::ProtocolError, "AUTH with another authentication method than the CONNECT's");  // [MQTT-4.12.1-1]
    return;
  }
  switch (in.reason) {
    case Reason::ReAuthenticate:
      if (a.state == EnhancedAuth::State::Reauthenticating) {
        fail(Reason::ProtocolError, "Re-authenticate during a re-authentication");  // [MQTT-4.12.0-3]
        return;
      }
      a.state = EnhancedAuth::State::Reauthenticating;
      a.rounds = 0;
      reauth_step(auth_data_of(in.properties), -1);
      return;
    case Reason::ContinueAuthentication:
      if (a.state != EnhancedAuth::State::Reauthenticating) {
        fail(Reason::ProtocolError, "Continue authentication without a re-authentication");
        return;
      }
      reauth_step(auth_data_of(in.properties), a.member);
      return;
    default:  // Success: the server's to send
      fail(Reason::ProtocolError, "AUTH Success from a client");
      return;
  }
}

void MqttConnection::reauth_step(ByteSpan data, int member) {
  core::ExtAuthAnswer ans = auth_step(data, member);
  EnhancedAuth& a = *ext_auth_;
  switch (ans.status) {
    case core::ExtAuthAnswer::Status::Success:
      a.state = EnhancedAuth::State::Connected;
      a.member = -1;
      if (!send_auth(Reason::Success, ans.data)) {
        fail(Reason::NotAuthorized, "authentication data larger than the client's Maximum Packet Size");
        return;
      }
      log::debug("mqtt %s: client '%s' re-authenticated", sink_.info().peer_address.c_str(), a.client_id.c_str());
      return;
    case core::ExtAuthAnswer::Status::Continue:
      if (++a.rounds > kMaxAuthRounds) {
        fail(Reason::NotAuthorized, "too many authentication rounds");
        return;
      }
      a.member = ans.member;
      if (!send_auth(Reason::ContinueAuthentication, ans.data)) {
        fail(Reason::NotAuthorized, "authentication data larger than the client's Maximum Packet Size");
      }
      return;
    case core::ExtAuthAnswer::Status::Failed:
    case core::ExtAuthAnswer::Status::UnknownMethod:  // the method went away (a reload): no 0x8C in DISCONNECT
      // [MQTT-4.12.1-2]: DISCONNECT and close; the will is published.
      log::notice("mqtt %s: re-authentication refused: client '%s', user '%s': authentication method '%s': %s",
                  sink_.info().peer_address.c_str(), a.client_id.c_str(), a.has_user ? a.user.c_str() : "-",
                  a.method.c_str(), ans.reason.empty() ? "failed" : ans.reason.c_str());
      fail(Reason::NotAuthorized, usable_reason(ans.reason, "re-authentication failed"));
      return;
  }
}

}  // namespace junction::mqtt
