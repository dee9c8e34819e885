// Incoming PUBLISH (QoS 0/1/2, topic aliases, receive maximum) and every
// acknowledgement packet in both directions [MQTT-3.3 .. 3.7, 4.3].
#include "log.h"
#include "mqtt_connection.h"
#include "mqtt_message_map.h"
#include "topic.h"

namespace junction::mqtt {

namespace {

std::string encode_ack_bytes(Version v, PacketType type, std::uint16_t pid, Reason reason) {
  Ack a;
  a.type = type;
  a.packet_id = pid;
  a.reason = reason;
  std::string out;
  encode_ack(v, a, out);
  return out;
}

}  // namespace

void MqttConnection::handle_publish(const Frame& f) {
  Publish pub;
  Status st = decode_publish(f, version_, pub);
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  const MqttOptions& opt = proto().options();

  // Topic alias (v5) [MQTT-3.3.2-7 .. -12].
  std::string_view topic = pub.topic;
  if (pub.properties.topic_alias) {
    const std::uint16_t alias = *pub.properties.topic_alias;
    if (alias == 0 || alias > opt.topic_alias_maximum) {
      fail(Reason::TopicAliasInvalid, "topic alias out of range");
      return;
    }
    std::vector<std::string>& aliases = this->aliases().in;
    if (aliases.empty()) aliases.resize(opt.topic_alias_maximum);
    if (!topic.empty()) {
      aliases[alias - 1].assign(topic);
    } else if (aliases[alias - 1].empty()) {
      fail(Reason::ProtocolError, "unknown topic alias");
      return;
    } else {
      topic = aliases[alias - 1];
    }
  }
  if (!core::valid_topic_name(topic)) {
    fail(Reason::TopicNameInvalid, "invalid topic name");
    return;
  }
  if (pub.retain && !broker().config().retain_available) {
    fail(Reason::RetainNotSupported, "retain not available");
    return;
  }
  if (const core::AccessControl* acl = broker().acl()) {
    // A delayed publish is checked against where it goes.
    std::string_view checked = topic;
    std::uint64_t delay_s = 0;
    std::string_view target;
    if (core::parse_delayed_topic(topic, delay_s, target) == core::DelayedTopic::Yes) checked = target;
    if (!acl->allowed(session_->identity().principal(session_->client_id), checked, core::Access::Write)) {
      deny_publish(pub, topic);
      return;
    }
  }

  if (pub.qos > 0) {
    // [MQTT-3.3.4-7] more unacknowledged QoS>0 publishes than we allowed.
    if (version_ == Version::V5 && incoming_inflight_ >= opt.receive_maximum) {
      fail(Reason::ReceiveMaximumExceeded, "receive maximum exceeded");
      return;
    }
    // Exactly once: a resent QoS 2 publish whose PUBREL is still awaited is
    // not routed again, only acknowledged again [MQTT-4.3.3-10].
    if (pub.qos == 2 && broker().inbound_held(session_, pub.packet_id)) {
      answer(encode_ack_bytes(version_, PacketType::Pubrec, pub.packet_id, Reason::Success), PacketType::Pubrec,
             true, false);
      return;
    }
  }

  core::MessageRef msg = broker().make_message();
  core::Message& m = *msg;
  m.topic.assign(topic);
  m.payload.assign(reinterpret_cast<const char*>(pub.payload.data()), pub.payload.size());
  m.qos = pub.qos;
  m.retain = pub.retain;
  m.origin_client = session_->client_id;
  m.origin_protocol = kMqttProtocol;
  if (version_ == Version::V5) {
    const Properties& p = pub.properties;
    if (p.message_expiry_interval) m.expiry_ms = m.created_ms + std::int64_t(*p.message_expiry_interval) * 1000;
    message_properties_from(p, m);
  }

  auto& persistence = broker().persistence();
  const std::size_t ops_before = persistence.pending_ops();
  const core::PublishResult r = broker().publish(msg, session_);
  if (r.refused) {
    // $SYS/... is the broker's: refused like an ACL denial (v5 0x87 Not
    // authorized; v3 acknowledged and dropped, as Mosquitto does).
    deny_publish(pub, topic);
    return;
  }
  if (r.invalid) {
    refuse_publish(pub, topic, r.why, r.reason_code);
    return;
  }
  if (pub.qos == 0) return;

  // Durable if this publish wrote to the store (persistent subscribers,
  // retained); otherwise the answer only keeps its place in line.
  const bool durable = persistence.pending_ops() != ops_before;
  Reason reason = Reason::Success;
  // A full store is reported later, through the commit ticket (release_answers).
  if (r.quota_exceeded) {
    if (version_ != Version::V5) {
      // v3 has no negative acknowledgement: close without PUBACK so the
      // client sends again later instead of believing it was delivered.
      fail(Reason::QuotaExceeded, r.why ? r.why : "a subscriber's queue or a bridge's outbox is full");
      return;
    }
    reason = Reason::QuotaExceeded;
  } else if (r.matched == 0 && version_ == Version::V5) {
    reason = Reason::NoMatchingSubscribers;
  }
  ++incoming_inflight_;
  if (pub.qos == 1) {
    answer(encode_ack_bytes(version_, PacketType::Puback, pub.packet_id, reason), PacketType::Puback, durable, true);
  } else {
    // A PUBREC with an error ends the exchange [MQTT-4.3.3]: its slot is
    // released when it is sent; otherwise when PUBCOMP is.
    const bool failed = reason >= Reason::UnspecifiedError;
    if (!failed) broker().hold_inbound(session_, pub.packet_id);
    answer(encode_ack_bytes(version_, PacketType::Pubrec, pub.packet_id, reason), PacketType::Pubrec,
           durable || session_->stored(), failed);
  }
}

// A publish the ACL refuses, or one to $SYS/... (the broker's). v5: reason
// 0x87 in PUBACK/PUBREC (QoS 0 is dropped). v3 has no negative
// acknowledgement: acknowledged and dropped, as Mosquitto does, or the
// connection is closed (auth.deny_publish_v3).
void MqttConnection::deny_publish(const Publish& pub, std::string_view topic) {
  const MqttOptions& opt = proto().options();
  log::debug("mqtt %s: client '%s' (user '%s') may not publish to '%.*s'", sink_.info().peer_address.c_str(),
             session_->client_id.c_str(), session_->identity().user.c_str(), int(topic.size()), topic.data());
  if (version_ != Version::V5 && opt.disconnect_on_denied_publish_v3) {
    fail(Reason::NotAuthorized, "publish not authorized");
    return;
  }
  if (pub.qos == 0) return;
  if (version_ == Version::V5 && incoming_inflight_ >= opt.receive_maximum) {
    fail(Reason::ReceiveMaximumExceeded, "receive maximum exceeded");
    return;
  }
  ++incoming_inflight_;
  if (version_ == Version::V5) {
    const PacketType type = pub.qos == 1 ? PacketType::Puback : PacketType::Pubrec;
    answer(encode_ack_bytes(version_, type, pub.packet_id, Reason::NotAuthorized), type, false, true);
    return;
  }
  if (pub.qos == 1) {
    answer(encode_ack_bytes(version_, PacketType::Puback, pub.packet_id, Reason::Success), PacketType::Puback, false,
           true);
  } else {
    broker().hold_inbound(session_, pub.packet_id);
    answer(encode_ack_bytes(version_, PacketType::Pubrec, pub.packet_id, Reason::Success), PacketType::Pubrec,
           session_->stored(), false);
  }
}

// A publish the broker will not take as sent (a malformed or disallowed
// delay): v5 0x83 Implementation specific error with the reason; v3 has no
// negative acknowledgement: acknowledged and dropped, as an ACL denial.
void MqttConnection::refuse_publish(const Publish& pub, std::string_view topic, const char* why,
                                    std::uint8_t code) {
  log::info("mqtt %s (%s): publish to '%.*s' refused: %s", sink_.info().peer_address.c_str(),
            session_->client_id.c_str(), int(topic.size()), topic.data(), why ? why : "invalid");
  if (pub.qos == 0) return;
  if (version_ == Version::V5 && incoming_inflight_ >= proto().options().receive_maximum) {
    fail(Reason::ReceiveMaximumExceeded, "receive maximum exceeded");
    return;
  }
  ++incoming_inflight_;
  const PacketType type = pub.qos == 1 ? PacketType::Puback : PacketType::Pubrec;
  if (version_ == Version::V5) {
    Ack a;
    a.type = type;
    a.packet_id = pub.packet_id;
    // Only codes a PUBACK/PUBREC may carry [MQTT-3.4.2.1]; others become 0x83.
    switch (code) {
      case 0x80: case 0x83: case 0x87: case 0x90: case 0x91: case 0x97: case 0x99:
        a.reason = static_cast<Reason>(code);
        break;
      default: a.reason = Reason::ImplementationSpecificError;
    }
    if (want_reason_strings() && why) a.properties.reason_string = std::string_view(why);
    std::string out;
    encode_ack(version_, a, out);
    answer(std::move(out), type, false, true);
    return;
  }
  if (pub.qos == 2) broker().hold_inbound(session_, pub.packet_id);
  answer(encode_ack_bytes(version_, type, pub.packet_id, Reason::Success), type,
         pub.qos == 2 && session_->stored(), pub.qos == 1);
}

void MqttConnection::handle_pubrel(const Frame& f) {
  Ack a;
  Status st = decode_ack(f, version_, a);
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  const bool known = broker().release_inbound(session_, a.packet_id);
  // v3 has no error code here: answer anyway, the client may be retrying after a reconnect.
  Reason reason = known || version_ != Version::V5 ? Reason::Success : Reason::PacketIdentifierNotFound;
  answer(encode_ack_bytes(version_, PacketType::Pubcomp, a.packet_id, reason), PacketType::Pubcomp,
         session_->stored(), known);
}

void MqttConnection::handle_ack(const Frame& f) {
  Ack a;
  Status st = decode_ack(f, version_, a);
  if (!st.ok()) {
    fail(st.reason, st.what);
    return;
  }
  using AckResult = core::Broker::AckResult;
  using AckStep = core::Broker::AckStep;
  AckResult r = AckResult::Unknown;
  switch (a.type) {
    case PacketType::Puback:
      r = broker().acknowledge(session_, a.packet_id, AckStep::Done);
      break;
    case PacketType::Pubrec:
      if (a.reason >= Reason::UnspecifiedError) {
        r = broker().acknowledge(session_, a.packet_id, AckStep::Refused);  // the client refused it: done
        break;
      }
      r = broker().acknowledge(session_, a.packet_id, AckStep::Received);
      if (r == AckResult::WrongType) break;
      // An unknown id still gets its PUBREL: the client may hold the flow
      // from before a restart of ours that lost nothing it needs.
      scratch() = encode_ack_bytes(version_, PacketType::Pubrel, a.packet_id,
                                  r == AckResult::Done || version_ != Version::V5 ? Reason::Success
                                                                                   : Reason::PacketIdentifierNotFound);
      write(scratch());
      break;
    case PacketType::Pubcomp:
      r = broker().acknowledge(session_, a.packet_id, AckStep::Completed);
      break;
    default:
      return;
  }
  if (r == AckResult::Unknown) {
    log::debug("mqtt: %s for unknown packet id %u",
               a.type == PacketType::Puback ? "PUBACK" : a.type == PacketType::Pubrec ? "PUBREC" : "PUBCOMP",
               a.packet_id);
  } else if (r == AckResult::WrongType) {
    // Completing the flow would lose a message (a PUBACK ending QoS 2) or
    // skip a step; the delivery stays for the next connection of the session.
    fail(Reason::ProtocolError, "acknowledgement of the wrong type for its packet id");
  }
}

void MqttConnection::resume_received(std::uint16_t packet_id) {
  scratch() = encode_ack_bytes(version_, PacketType::Pubrel, packet_id, Reason::Success);
  write(scratch());
}

MqttConnection::TopicAliases& MqttConnection::aliases() {
  if (!aliases_) aliases_ = std::make_unique<TopicAliases>();
  return *aliases_;
}

}  // namespace junction::mqtt
