// Reason code names (v5 Table 2-6) and the reason codes each packet may carry
// (v5 3.2.2.2, 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1,
// 3.15.2.1). A code outside a packet's list is treated as a Protocol Error by
// the decoders: it is well-formed on the wire but meaningless for the packet.
#include "mqtt_internal.h"

#include <algorithm>
#include <initializer_list>

namespace junction::mqtt {

const char* reason_name(Reason r) {
  switch (r) {
    case Reason::Success: return "Success";
    case Reason::GrantedQos1: return "Granted QoS 1";
    case Reason::GrantedQos2: return "Granted QoS 2";
    case Reason::DisconnectWithWill: return "Disconnect with Will Message";
    case Reason::NoMatchingSubscribers: return "No matching subscribers";
    case Reason::NoSubscriptionExisted: return "No subscription existed";
    case Reason::ContinueAuthentication: return "Continue authentication";
    case Reason::ReAuthenticate: return "Re-authenticate";
    case Reason::UnspecifiedError: return "Unspecified error";
    case Reason::MalformedPacket: return "Malformed Packet";
    case Reason::ProtocolError: return "Protocol Error";
    case Reason::ImplementationSpecificError: return "Implementation specific error";
    case Reason::UnsupportedProtocolVersion: return "Unsupported Protocol Version";
    case Reason::ClientIdentifierNotValid: return "Client Identifier not valid";
    case Reason::BadUserNameOrPassword: return "Bad User Name or Password";
    case Reason::NotAuthorized: return "Not authorized";
    case Reason::ServerUnavailable: return "Server unavailable";
    case Reason::ServerBusy: return "Server busy";
    case Reason::Banned: return "Banned";
    case Reason::ServerShuttingDown: return "Server shutting down";
    case Reason::BadAuthenticationMethod: return "Bad authentication method";
    case Reason::KeepAliveTimeout: return "Keep Alive timeout";
    case Reason::SessionTakenOver: return "Session taken over";
    case Reason::TopicFilterInvalid: return "Topic Filter invalid";
    case Reason::TopicNameInvalid: return "Topic Name invalid";
    case Reason::PacketIdentifierInUse: return "Packet Identifier in use";
    case Reason::PacketIdentifierNotFound: return "Packet Identifier not found";
    case Reason::ReceiveMaximumExceeded: return "Receive Maximum exceeded";
    case Reason::TopicAliasInvalid: return "Topic Alias invalid";
    case Reason::PacketTooLarge: return "Packet too large";
    case Reason::MessageRateTooHigh: return "Message rate too high";
    case Reason::QuotaExceeded: return "Quota exceeded";
    case Reason::AdministrativeAction: return "Administrative action";
    case Reason::PayloadFormatInvalid: return "Payload format invalid";
    case Reason::RetainNotSupported: return "Retain not supported";
    case Reason::QosNotSupported: return "QoS not supported";
    case Reason::UseAnotherServer: return "Use another server";
    case Reason::ServerMoved: return "Server moved";
    case Reason::SharedSubscriptionsNotSupported: return "Shared Subscriptions not supported";
    case Reason::ConnectionRateExceeded: return "Connection rate exceeded";
    case Reason::MaximumConnectTime: return "Maximum connect time";
    case Reason::SubscriptionIdentifiersNotSupported: return "Subscription Identifiers not supported";
    case Reason::WildcardSubscriptionsNotSupported: return "Wildcard Subscriptions not supported";
  }
  return "Unknown reason code";
}

namespace detail {

namespace {

bool in(std::uint8_t code, std::initializer_list<std::uint8_t> list) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

}  // namespace

bool reason_allowed(PacketType t, std::uint8_t code) {
  switch (t) {
    case PacketType::Connack:
      return in(code, {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                       0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F});
    case PacketType::Puback:
    case PacketType::Pubrec:
      return in(code, {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
    case PacketType::Pubrel:
    case PacketType::Pubcomp:
      return in(code, {0x00, 0x92});
    case PacketType::Suback:
      return in(code, {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2});
    case PacketType::Unsuback:
      return in(code, {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91});
    case PacketType::Disconnect:
      return in(code, {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
                       0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2});
    case PacketType::Auth:
      return in(code, {0x00, 0x18, 0x19});
    default:
      return false;
  }
}

}  // namespace detail

}  // namespace junction::mqtt
