// CONNECT / STOMP -> version and heart-beat negotiation, authentication,
// session attach, CONNECTED; DISCONNECT (1.2 "Connecting", "Heart-beating",
// "DISCONNECT").
#include <algorithm>
#include <charconv>

#include "log.h"
#include "stomp_connection.h"

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace junction::stomp {

namespace {

// on_tick has a one-second grain: shorter intervals cannot be kept.
std::uint32_t round_interval(std::uint32_t ms) { return ms == 0 ? 0 : std::max<std::uint32_t>(ms, 1000); }

void append_u32(std::uint32_t v, std::string& out) {
  char buf[12];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, std::size_t(r.ptr - buf));
}

}  // namespace

// The one place where credentials are checked (core::authenticate: the
// listener's anonymous rule, TLS identities, the password file). The
// passcode is never logged and never kept.
bool StompConnection::authenticate(const std::string_view* login, const std::string_view* passcode,
                                   core::ClientIdentity& identity) {
  std::span<const std::uint8_t> pass;
  if (passcode) pass = {reinterpret_cast<const std::uint8_t*>(passcode->data()), passcode->size()};
  // Some clients send empty login/passcode headers when they have none.
  core::Credentials cred;
  cred.user = login && !login->empty() ? login : nullptr;
  cred.password = passcode && !passcode->empty() ? &pass : nullptr;
  cred.client_id = client_id_;
  cred.protocol = kStompProtocol;
  cred.protocol_version = static_cast<std::uint8_t>(version_);  // 10, 11, 12 for STOMP 1.0, 1.1, 1.2 (negotiated first)
  core::AuthResult r = core::authenticate(broker().access(), cred, sink_.info(), proto().options().client.allow_anonymous);
  if (r.status == core::AuthStatus::Ok) {
    identity = std::move(r.identity);
    return true;
  }
  log::notice("stomp %s: connect refused: client '%s', login '%.*s': %s", sink_.info().peer_address.c_str(),
              client_id_.c_str(), cred.user ? int(login->size()) : 1, cred.user ? login->data() : "-", r.reason);
  if (r.status == core::AuthStatus::BadCredentials) {
    fail("access refused", "bad login or passcode");
  } else {
    fail("access refused", r.reason);
  }
  return false;
}

void StompConnection::handle_connect(const StompFrame& f) {
  const StompOptions& opt = proto().options();
  const std::string_view* accept = f.header("accept-version");
  Version v = Version::V1_0;
  Status st = negotiate_version(accept ? std::optional<std::string_view>(*accept) : std::nullopt, kAllVersions, v);
  if (!st.ok()) {
    // 1.2 "Protocol Negotiation": the ERROR lists what the server speaks.
    std::string versions;
    append_versions(kAllVersions, versions);
    const Header extra{"version", versions};
    fail("unsupported protocol version", accept ? *accept : std::string_view(), &extra);
    return;
  }
  version_ = v;

  HeartBeat client;  // 1.0 has no heart-beats
  if (const std::string_view* hb = f.header("heart-beat"); hb && v != Version::V1_0) {
    if (!parse_heart_beat(*hb, client).ok()) {
      fail("bad heart-beat header", *hb);
      return;
    }
  }
  const HeartBeat server{round_interval(opt.heart_beat_send_ms), round_interval(opt.heart_beat_receive_ms)};
  const HeartBeatPlan plan = negotiate_heart_beat(client, server);

  // `host` (1.2) names a virtual host; there is one, so any value is accepted.
  client_id_ = proto().next_client_id();
  core::ClientIdentity identity;
  if (!authenticate(f.header("login"), f.header("passcode"), identity)) return;

  core::ConnectRequest req;
  req.client_id = client_id_;
  req.clean_start = true;
  req.session_expiry_s = 0;  // STOMP sessions end with their connection
  req.protocol_version = static_cast<std::uint8_t>(v);
  req.protocol = kStompProtocol;
  req.sink = this;
  req.identity = std::move(identity);
  session_ = broker().attach(req).session;
  phase_ = Phase::Connected;
  parser_.set_version(v);
  send_ms_ = plan.send_ms;
  expect_ms_ = plan.expect_ms;

  std::string hb;
  append_u32(server.cx, hb);
  hb.push_back(',');
  append_u32(server.cy, hb);
  Header h[4];
  std::size_t n = 0;
  if (v != Version::V1_0) {
    h[n++] = Header{"version", version_string(v)};
    h[n++] = Header{"heart-beat", hb};
  }
  h[n++] = Header{"server", "Junction/" JUNCTION_VERSION};
  h[n++] = Header{"session", client_id_};
  scratch_.clear();
  encode_frame(Command::Connected, std::span<const Header>(h, n), {}, v, scratch_);
  emit(scratch_);
  const std::string_view vs = version_string(v);
  log::debug("stomp %s: connected '%s' (STOMP %.*s, heart-beat send %u ms, expect %u ms)",
             sink_.info().peer_address.c_str(), client_id_.c_str(), int(vs.size()), vs.data(), send_ms_, expect_ms_);
  broker().start_delivery(session_);
}

void StompConnection::revoke(const char*) { fail("access revoked", "the login is no longer valid"); }

void StompConnection::recheck_access() {
  // Topic subscriptions are filtered per message by the core; a queue
  // subscription has no per-message check, and STOMP cannot end one
  // subscription on its own: losing read access to a queue ends the connection.
  for (const auto& s : subs_) {
    if (s->kind != DestKind::Queue) continue;
    if (!may_access(std::string(kCoreQueuePrefix) + s->queue, core::Access::Read)) {
      log::notice("stomp %s: client '%s' (user '%s') may no longer read %s; disconnecting",
                  sink_.info().peer_address.c_str(), client_id_.c_str(), session_->identity().user.c_str(),
                  s->destination.c_str());
      fail("access revoked", s->destination);
      return;
    }
  }
}

void StompConnection::handle_disconnect(const StompFrame& f) {
  // 1.2 "DISCONNECT": the RECEIPT says every earlier frame was handled; here
  // it also waits until their store writes are committed. Nothing more is
  // read; the transport closes once the answers are out.
  phase_ = Phase::Closing;
  said_goodbye_ = true;
  std::string out;
  if (const std::string_view* r = f.header("receipt")) {
    if (!encode_frame(Command::Receipt, {Header{"receipt-id", *r}}, {}, version_, out).ok()) out.clear();
  }
  answer(std::move(out), wrote_ticket_, true);
}

}  // namespace junction::stomp
