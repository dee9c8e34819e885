// SUBSCRIBE / UNSUBSCRIBE [MQTT-3.8 .. 3.11].
#include "log.h"
#include "mqtt_connection.h"
#include "topic.h"

namespace junction::mqtt {

// An invalid filter is left to Broker::subscribe (0x8F); queues need read
// access to "$queue/<name>", topic filters must be covered by a read rule.
bool MqttConnection::may_subscribe(const core::AccessControl& acl, std::string_view full, core::SharedParse sp,
                                   std::string_view shared_filter) const {
  const core::Principal who = session_->identity().principal(session_->client_id);
  if (full.substr(0, core::kQueueTopicPrefix.size()) == core::kQueueTopicPrefix) {
    return acl.allowed(who, full, core::Access::Read);
  }
  if (sp == core::SharedParse::Invalid) return true;
  const std::string_view plain = sp == core::SharedParse::Shared ? shared_filter : full;
  if (!core::valid_topic_filter(plain)) return true;
  return acl.subscribe_access(who, plain) != core::FilterAccess::Denied;
}

void MqttConnection::handle_subscribe(const Frame& f) {
  Subscribe sub;
  Status st = decode_subscribe(f, version_, sub);
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  std::uint32_t sub_id = 0;
  if (!sub.properties.subscription_identifiers.empty()) sub_id = sub.properties.subscription_identifiers.front();

  auto& persistence = broker().persistence();
  const std::size_t ops_before = persistence.pending_ops();
  SubAck ack;
  ack.type = PacketType::Suback;
  ack.packet_id = sub.packet_id;
  ack.codes.reserve(sub.topics.size());
  for (const SubscribeTopic& t : sub.topics) {
    std::string_view group, filter;
    const core::SharedParse sp = core::split_shared(t.filter, group, filter);
    if (sp == core::SharedParse::Shared && t.no_local) {
      fail(Reason::ProtocolError, "no local on a shared subscription");  // [MQTT-3.8.3-4]
      return;
    }
    if (const core::AccessControl* acl = broker().acl(); acl && !may_subscribe(*acl, t.filter, sp, filter)) {
      log::debug("mqtt %s: client '%s' (user '%s') may not subscribe to '%.*s'", sink_.info().peer_address.c_str(),
                 session_->client_id.c_str(), session_->identity().user.c_str(), int(t.filter.size()), t.filter.data());
      ack.codes.push_back(version_ == Version::V5 ? std::uint8_t(Reason::NotAuthorized) : 0x80);
      continue;
    }
    core::SubscriptionOptions o;
    o.qos = t.qos;
    o.no_local = t.no_local;
    o.retain_as_published = t.retain_as_published;
    o.retain_handling = t.retain_handling;
    o.subscription_id = sub_id;
    switch (broker().subscribe(session_, t.filter, o)) {
      case core::SubscribeStatus::Granted:
        ack.codes.push_back(t.qos);
        break;
      case core::SubscribeStatus::FilterInvalid:
        ack.codes.push_back(version_ == Version::V5 ? std::uint8_t(Reason::TopicFilterInvalid) : 0x80);
        break;
      case core::SubscribeStatus::SharedNotSupported:
        ack.codes.push_back(version_ == Version::V5 ? std::uint8_t(Reason::SharedSubscriptionsNotSupported) : 0x80);
        break;
      case core::SubscribeStatus::StoreFailed:
        ack.codes.push_back(version_ == Version::V5 ? std::uint8_t(Reason::QuotaExceeded) : 0x80);
        break;
    }
  }
  std::string out;
  encode_suback(version_, ack, out);
  answer(std::move(out), PacketType::Suback, persistence.pending_ops() != ops_before, false);
}

void MqttConnection::handle_unsubscribe(const Frame& f) {
  Unsubscribe u;
  Status st = decode_unsubscribe(f, version_, u);
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  auto& persistence = broker().persistence();
  const std::size_t ops_before = persistence.pending_ops();
  SubAck ack;
  ack.type = PacketType::Unsuback;
  ack.packet_id = u.packet_id;
  for (std::string_view filter : u.filters) {
    const bool removed = broker().unsubscribe(session_, filter);
    if (version_ == Version::V5) {
      ack.codes.push_back(removed ? 0 : std::uint8_t(Reason::NoSubscriptionExisted));
    }
  }
  std::string out;
  encode_suback(version_, ack, out);
  answer(std::move(out), PacketType::Unsuback, persistence.pending_ops() != ops_before, false);
}

void MqttConnection::handle_disconnect(const Frame& f) {
  Disconnect d;
  Status st = decode_disconnect(f, version_, d);
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  if (version_ == Version::V5 && d.properties.session_expiry_interval) {
    // [MQTT-3.14.2-2] a session that was to end with the connection cannot be revived here.
    if (session_expiry_s_ == 0 && *d.properties.session_expiry_interval != 0) {
      fail(Reason::ProtocolError, "session expiry set in DISCONNECT after 0 in CONNECT");
      return;
    }
    session_expiry_s_ = std::min(*d.properties.session_expiry_interval, broker().config().max_session_expiry_s);
  }
  clean_disconnect_ = true;
  disconnect_with_will_ = version_ == Version::V5 && d.reason == Reason::DisconnectWithWill;
  phase_ = Phase::Closing;
  // The session's fate is decided by this packet, not by when the loop
  // reaps the socket: a client that reconnects at once may be read first,
  // and must find the session as this DISCONNECT left it.
  detach_session();
  sink_.close_after_flush();
}

}  // namespace junction::mqtt
