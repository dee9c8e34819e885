// CONNECT -> authentication, session attach, CONNACK [MQTT-3.1, -3.2], in
// three steps: accept_connect (decode, validate, client id), authentication
// (here with the password, or the enhanced exchange of mqtt_handle_auth.cpp),
// finish_connect (will ACL, keep-alive, expiry, attach, CONNACK), which both
// ways of authenticating share.
#include <cstdio>
#include <random>

#include "log.h"
#include "mqtt_connection.h"
#include "mqtt_message_map.h"

namespace junction::mqtt {

namespace {

constexpr std::uint32_t kNeverExpires = 0xFFFFFFFFu;
constexpr std::size_t kMaxClientIdLength = 256;

std::string assign_client_id() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "auto-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// v3 CONNACK return codes for the reasons we refuse with.
std::uint8_t v3_code(Reason r) {
  switch (r) {
    case Reason::UnsupportedProtocolVersion: return 1;
    case Reason::ClientIdentifierNotValid: return 2;
    case Reason::ServerUnavailable:
    case Reason::ServerBusy:
    case Reason::QuotaExceeded: return 3;
    // Authentication failures of every kind are 5 "not authorized", as
    // Mosquitto answers them (4 would tell a prober the name was malformed).
    case Reason::BadUserNameOrPassword:
    case Reason::NotAuthorized: return 5;
    default: return 3;
  }
}

core::MessageRef make_will(core::Broker& broker, const Will& w, const std::string& client_id) {
  core::MessageRef m = broker.make_message();
  m->topic.assign(w.topic);
  m->payload.assign(reinterpret_cast<const char*>(w.payload.data()), w.payload.size());
  m->qos = w.qos;
  m->retain = w.retain;
  m->origin_client = client_id;
  m->origin_protocol = kMqttProtocol;
  message_properties_from(w.properties, *m);  // the will's expiry runs from when it is published
  return m;
}

}  // namespace

void MqttConnection::send_connack_error(Reason v5_reason, const char* why, bool logged) {
  if (!logged) {
    log::info("mqtt %s: connect refused: %s (%s)", sink_.info().peer_address.c_str(), why, reason_name(v5_reason));
  }
  Connack ack;
  ack.code = version_ == Version::V5 ? static_cast<std::uint8_t>(v5_reason) : v3_code(v5_reason);
  if (version_ == Version::V5 && why) ack.properties.reason_string = why;
  scratch().clear();
  encode_connack(version_, ack, scratch());
  if (client_max_packet_ != 0 && scratch().size() > client_max_packet_) {
    // The reason string is the first thing to go [MQTT-3.2.2-19]; if even
    // the bare CONNACK is too large, nothing may be sent [MQTT-3.1.2-24].
    ack.properties.reason_string.reset();
    scratch().clear();
    encode_connack(version_, ack, scratch());
  }
  if (client_max_packet_ == 0 || scratch().size() <= client_max_packet_) write(scratch());
  phase_ = Phase::Closing;
  sink_.close_after_flush();
}

void MqttConnection::handle_connect(const Frame& f) {
  Connect c;
  std::string client_id;
  bool assigned = false;
  if (!accept_connect(f, c, client_id, assigned)) return;

  if (c.properties.authentication_method) {
    // MQTT 5 enhanced authentication [MQTT-4.12]: mqtt_handle_auth.cpp,
    // which comes back to finish_connect() when the exchange succeeds.
    begin_enhanced_auth(f, c, std::move(client_id), assigned);
    return;
  }

  // Authentication: the password is never logged and never kept.
  core::Credentials cred;
  cred.user = c.username ? &*c.username : nullptr;
  cred.password = c.password ? &*c.password : nullptr;
  cred.client_id = client_id;
  cred.protocol = kMqttProtocol;
  cred.protocol_version = static_cast<std::uint8_t>(version_);
  core::AuthResult auth =
      core::authenticate(broker().access(), cred, sink_.info(), proto().options().client.allow_anonymous);
  if (auth.status != core::AuthStatus::Ok) {
    const Reason r = auth.status == core::AuthStatus::BadCredentials ? Reason::BadUserNameOrPassword : Reason::NotAuthorized;
    log::notice("mqtt %s: connect refused: client '%s', user '%.*s': %s (%s)", sink_.info().peer_address.c_str(),
                client_id.c_str(), c.username ? int(c.username->size()) : 1, c.username ? c.username->data() : "-",
                auth.reason, reason_name(r));
    send_connack_error(r, r == Reason::BadUserNameOrPassword ? "bad user name or password" : auth.reason, true);
    return;
  }
  finish_connect(c, client_id, assigned, std::move(auth.identity), {});
}

bool MqttConnection::accept_connect(const Frame& f, Connect& c, std::string& client_id, bool& assigned) {
  Status st = decode_connect(f, c);
  version_ = c.version;
  if (!st.ok()) {
    if (st.reason == Reason::UnsupportedProtocolVersion) {
      // Answer in a form every version understands [MQTT-3.1.2-2].
      version_ = Version::V311;
      send_connack_error(st.reason, st.what);
      return false;
    }
    if (version_ == Version::V5) {
      send_connack_error(st.reason, st.what);
    } else {
      log::info("mqtt %s: malformed CONNECT: %s; closing", sink_.info().peer_address.c_str(), st.what);
      phase_ = Phase::Closing;
      sink_.abort();
    }
    return false;
  }
  const Properties& p = c.properties;
  request_problem_info_ = !p.request_problem_information || *p.request_problem_information != 0;
  if (version_ == Version::V5) client_max_packet_ = p.maximum_packet_size.value_or(0);

  // Client ids are store keys (at most 511 bytes with their suffixes); the
  // spec lets a server refuse long ones [MQTT-3.1.3-5].
  if (c.client_id.size() > kMaxClientIdLength) {
    send_connack_error(Reason::ClientIdentifierNotValid, "client identifier longer than 256 bytes");
    return false;
  }
  client_id.assign(c.client_id);
  assigned = false;
  if (client_id.empty()) {
    // v3.1 and v3.1.1 with a persistent session need a real id [MQTT-3.1.3-8].
    if (version_ == Version::V31 || (version_ == Version::V311 && !c.clean_start)) {
      send_connack_error(Reason::ClientIdentifierNotValid, "empty client identifier");
      return false;
    }
    client_id = assign_client_id();
    assigned = true;
  }
  return true;
}

void MqttConnection::finish_connect(const Connect& c, const std::string& client_id, bool assigned,
                                    core::ClientIdentity identity, std::string_view auth_data) {
  const MqttOptions& opt = proto().options();
  const Properties& p = c.properties;
  if (c.will) {
    if (const core::AccessControl* acl = broker().acl();
        acl && !acl->allowed(identity.principal(client_id), c.will->topic, core::Access::Write)) {
      log::notice("mqtt %s: connect refused: client '%s', user '%s': will topic '%.*s' not writable",
                  sink_.info().peer_address.c_str(), client_id.c_str(), identity.user.c_str(),
                  int(c.will->topic.size()), c.will->topic.data());
      send_connack_error(Reason::NotAuthorized, "will topic not authorized", true);
      return;
    }
  }

  // Keep-alive: capped by max_keepalive; v5 learns the value through Server Keep Alive.
  keep_alive_s_ = c.keep_alive;
  bool keep_alive_changed = false;
  if (opt.max_keepalive != 0 && (keep_alive_s_ == 0 || keep_alive_s_ > opt.max_keepalive) && version_ == Version::V5) {
    keep_alive_s_ = opt.max_keepalive;
    keep_alive_changed = true;
  } else if (opt.max_keepalive != 0 && keep_alive_s_ > opt.max_keepalive) {
    keep_alive_s_ = opt.max_keepalive;
  }

  if (version_ == Version::V5) {
    session_expiry_s_ = p.session_expiry_interval.value_or(0);
    client_topic_alias_max_ = p.topic_alias_maximum.value_or(0);
  } else {
    session_expiry_s_ = c.clean_start ? 0 : kNeverExpires;
  }
  const std::uint32_t max_expiry = broker().config().max_session_expiry_s;
  const bool expiry_capped = session_expiry_s_ > max_expiry;
  if (expiry_capped) session_expiry_s_ = max_expiry;

  core::ConnectRequest req;
  req.client_id = client_id;
  req.clean_start = c.clean_start;
  req.session_expiry_s = session_expiry_s_;
  req.protocol_version = static_cast<std::uint8_t>(version_);
  req.protocol = kMqttProtocol;
  req.receive_maximum = version_ == Version::V5 ? p.receive_maximum.value_or(65535) : 65535;
  req.sink = this;
  req.identity = std::move(identity);
  if (c.will) {
    core::WillMessage w;
    w.msg = make_will(broker(), *c.will, client_id);
    w.delay_s = c.will->properties.will_delay_interval.value_or(0);
    w.message_expiry_s = c.will->properties.message_expiry_interval.value_or(0);
    req.will = std::move(w);
  }
  Connack ack;
  ack.code = 0;
  if (version_ == Version::V5) {
    Properties& ap = ack.properties;
    ap.receive_maximum = opt.receive_maximum;
    ap.maximum_packet_size = opt.max_packet_size;
    ap.topic_alias_maximum = opt.topic_alias_maximum;
    if (!broker().config().retain_available) ap.retain_available = 0;
    if (assigned) ap.assigned_client_identifier = client_id;
    if (keep_alive_changed) ap.server_keep_alive = keep_alive_s_;
    if (expiry_capped) ap.session_expiry_interval = session_expiry_s_;
    if (ext_auth_) {
      // The method of an enhanced authentication comes back in the CONNACK [MQTT-4.12.0-5].
      ap.authentication_method = ext_auth_->method;
      if (!auth_data.empty()) ap.authentication_data = auth_data;
    }
  }
  // Session Present does not change the size: measure before attaching, so
  // a client that cannot take our CONNACK takes over no session either.
  scratch().clear();
  encode_connack(version_, ack, scratch());
  if (client_max_packet_ != 0 && scratch().size() > client_max_packet_) {
    log::notice("mqtt %s: connect refused: client '%s': its Maximum Packet Size %u is smaller than the CONNACK "
                "(%zu bytes); closing without one [MQTT-3.1.2-24]",
                sink_.info().peer_address.c_str(), client_id.c_str(), client_max_packet_, scratch().size());
    phase_ = Phase::Closing;
    sink_.close_after_flush();
    return;
  }

  phase_ = Phase::Connected;
  core::ConnectResult r = broker().attach(req);
  session_ = r.session;
  ack.session_present = r.session_present;
  scratch().clear();
  encode_connack(version_, ack, scratch());
  write(scratch());
  log::debug("mqtt %s: connected client '%s' (v%u, keep alive %u, expiry %u)", sink_.info().peer_address.c_str(),
             client_id.c_str(), unsigned(version_), keep_alive_s_, session_expiry_s_);
  broker().start_delivery(session_);
}

}  // namespace junction::mqtt
