// junction::mqtt — pure MQTT 3.1 / 3.1.1 / 5.0 codec. No I/O, no allocation
// on the decode path beyond the vectors inside the decoded structs.
//
// Decoding is two steps, as in NATS' parser:
//   1. MqttFrameParser::next(buf) frames one packet from a byte span:
//      NeedMore | Frame (type, flags, body span) | Error (reason code).
//      The declared length is checked against max_packet_size before any
//      byte of the body is needed, so a huge packet is refused early.
//   2. decode_<packet>(frame, version, out) validates and decodes the body.
//      Decoded structs hold string_views into the caller's buffer (parse in
//      place): they are valid only while that buffer is.
// Encoding appends to a std::string; nothing is allocated besides its growth.
//
// Spec references in the .cpp files are [MQTT-x.y.z-n] (v5) and the v3.1.1
// numbering where behaviour differs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::mqtt {

using ByteSpan = std::span<const std::uint8_t>;

enum class Version : std::uint8_t { V31 = 3, V311 = 4, V5 = 5 };

enum class PacketType : std::uint8_t {
  Connect = 1, Connack = 2, Publish = 3, Puback = 4, Pubrec = 5, Pubrel = 6, Pubcomp = 7,
  Subscribe = 8, Suback = 9, Unsubscribe = 10, Unsuback = 11, Pingreq = 12, Pingresp = 13,
  Disconnect = 14, Auth = 15
};

// MQTT 5 reason codes (also used internally for v3 errors; the front-end maps
// them to v3 CONNACK return codes where needed).
enum class Reason : std::uint8_t {
  Success = 0x00,  // also Normal disconnection, Granted QoS 0
  GrantedQos1 = 0x01,
  GrantedQos2 = 0x02,
  DisconnectWithWill = 0x04,
  NoMatchingSubscribers = 0x10,
  NoSubscriptionExisted = 0x11,
  ContinueAuthentication = 0x18,
  ReAuthenticate = 0x19,
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  UnsupportedProtocolVersion = 0x84,
  ClientIdentifierNotValid = 0x85,
  BadUserNameOrPassword = 0x86,
  NotAuthorized = 0x87,
  ServerUnavailable = 0x88,
  ServerBusy = 0x89,
  Banned = 0x8A,
  ServerShuttingDown = 0x8B,
  BadAuthenticationMethod = 0x8C,
  KeepAliveTimeout = 0x8D,
  SessionTakenOver = 0x8E,
  TopicFilterInvalid = 0x8F,
  TopicNameInvalid = 0x90,
  PacketIdentifierInUse = 0x91,
  PacketIdentifierNotFound = 0x92,
  ReceiveMaximumExceeded = 0x93,
  TopicAliasInvalid = 0x94,
  PacketTooLarge = 0x95,
  MessageRateTooHigh = 0x96,
  QuotaExceeded = 0x97,
  AdministrativeAction = 0x98,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9A,
  QosNotSupported = 0x9B,
  UseAnotherServer = 0x9C,
  ServerMoved = 0x9D,
  SharedSubscriptionsNotSupported = 0x9E,
  ConnectionRateExceeded = 0x9F,
  MaximumConnectTime = 0xA0,
  SubscriptionIdentifiersNotSupported = 0xA1,
  WildcardSubscriptionsNotSupported = 0xA2,
};

const char* reason_name(Reason r);

// Result of a decode step: ok, or an error with the reason code to send
// (v5 DISCONNECT / CONNACK) and a short static description for logs.
struct Status {
  Reason reason = Reason::Success;
  const char* what = nullptr;
  bool ok() const { return what == nullptr; }
  static Status error(Reason r, const char* w) { return Status{r, w}; }
};

struct UserProperty {
  std::string_view name;
  std::string_view value;
};

// MQTT 5 properties. Absent optionals were not present on the wire.
// Decoding rejects a property not allowed on the packet type and any
// property other than user property / subscription identifier that repeats.
struct Properties {
  std::optional<std::uint8_t> payload_format_indicator;       // 0x01
  std::optional<std::uint32_t> message_expiry_interval;       // 0x02
  std::optional<std::string_view> content_type;               // 0x03
  std::optional<std::string_view> response_topic;             // 0x08
  std::optional<std::string_view> correlation_data;           // 0x09 (binary)
  std::vector<std::uint32_t> subscription_identifiers;        // 0x0B (varint, may repeat on PUBLISH)
  std::optional<std::uint32_t> session_expiry_interval;       // 0x11
  std::optional<std::string_view> assigned_client_identifier; // 0x12
  std::optional<std::uint16_t> server_keep_alive;             // 0x13
  std::optional<std::string_view> authentication_method;      // 0x15
  std::optional<std::string_view> authentication_data;        // 0x16 (binary)
  std::optional<std::uint8_t> request_problem_information;    // 0x17
  std::optional<std::uint32_t> will_delay_interval;           // 0x18
  std::optional<std::uint8_t> request_response_information;   // 0x19
  std::optional<std::string_view> response_information;       // 0x1A
  std::optional<std::string_view> server_reference;           // 0x1C
  std::optional<std::string_view> reason_string;              // 0x1F
  std::optional<std::uint16_t> receive_maximum;               // 0x21
  std::optional<std::uint16_t> topic_alias_maximum;           // 0x22
  std::optional<std::uint16_t> topic_alias;                   // 0x23
  std::optional<std::uint8_t> maximum_qos;                    // 0x24
  std::optional<std::uint8_t> retain_available;               // 0x25
  std::vector<UserProperty> user_properties;                  // 0x26 (may repeat, order kept)
  std::optional<std::uint32_t> maximum_packet_size;           // 0x27
  std::optional<std::uint8_t> wildcard_subscription_available;       // 0x28
  std::optional<std::uint8_t> subscription_identifier_available;     // 0x29
  std::optional<std::uint8_t> shared_subscription_available;         // 0x2A

  void clear() { *this = Properties{}; }
};

// ---- framing ---------------------------------------------------------------

struct Frame {
  PacketType type{};
  std::uint8_t flags = 0;      // low nibble of the first byte
  ByteSpan body;               // variable header + payload
  std::size_t total_size = 0;  // fixed header + body: bytes to consume
};

enum class FrameResult : std::uint8_t { NeedMore, Frame, Error };

class MqttFrameParser {
 public:
  // `version`: the connection's, once CONNECT told it (the fixed-header
  // flag rules of MQTT 3.1 are looser; see flags_valid in mqtt_frame.cpp).
  explicit MqttFrameParser(std::uint32_t max_packet_size = 268435455u + 5u, Version version = Version::V311)
      : max_packet_size_(max_packet_size), version_(version) {}
  void set_max_packet_size(std::uint32_t n) { max_packet_size_ = n; }

  // Looks at the start of `buf`. On Frame, `out` describes one whole packet
  // (consume out.total_size bytes). On Error, `status` says why:
  // MalformedPacket (bad varint, reserved type 0, wrong fixed-header flags)
  // or PacketTooLarge (declared size > max_packet_size; reported as soon as
  // the length field is complete). On NeedMore, `*needed` (if given) is the
  // total packet size when already known, else 0.
  FrameResult next(ByteSpan buf, Frame& out, Status& status, std::size_t* needed = nullptr) const;

 private:
  std::uint32_t max_packet_size_;
  Version version_;
};

// ---- packets ---------------------------------------------------------------

struct Will {
  std::string_view topic;
  ByteSpan payload;
  std::uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // v5 will properties
};

struct Connect {
  Version version = Version::V311;
  std::string_view protocol_name;  // "MQTT" or "MQIsdp"
  bool clean_start = false;        // v3: clean session
  std::uint16_t keep_alive = 0;
  std::string_view client_id;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<ByteSpan> password;
  Properties properties;
};

struct Connack {
  bool session_present = false;
  std::uint8_t code = 0;  // v5 reason code or v3 return code (0..5)
  Properties properties;
};

struct Publish {
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;
  std::uint16_t packet_id = 0;  // 0 when qos == 0
  ByteSpan payload;
  Properties properties;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP.
struct Ack {
  PacketType type{};
  std::uint16_t packet_id = 0;
  Reason reason = Reason::Success;
  Properties properties;
};

struct SubscribeTopic {
  std::string_view filter;
  std::uint8_t qos = 0;
  bool no_local = false;             // v5
  bool retain_as_published = false;  // v5
  std::uint8_t retain_handling = 0;  // v5: 0,1,2
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<SubscribeTopic> topics;
  Properties properties;
};

// SUBACK and UNSUBACK.
struct SubAck {
  PacketType type{};
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> codes;  // v3 SUBACK: 0,1,2,0x80; v3 UNSUBACK: empty
  Properties properties;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string_view> filters;
  Properties properties;
};

struct Disconnect {
  Reason reason = Reason::Success;
  Properties properties;
};

struct Auth {
  Reason reason = Reason::Success;
  Properties properties;
};

// ---- decoding (client -> server packets, and server packets for tests/bench) -

// CONNECT decides the version; it rejects unknown protocol names/levels with
// UnsupportedProtocolVersion so the caller can answer CONNACK 0x01 / 0x84.
Status decode_connect(const Frame& f, Connect& out);
Status decode_connack(const Frame& f, Version v, Connack& out);
Status decode_publish(const Frame& f, Version v, Publish& out);
Status decode_ack(const Frame& f, Version v, Ack& out);  // PUBACK/PUBREC/PUBREL/PUBCOMP
Status decode_subscribe(const Frame& f, Version v, Subscribe& out);
Status decode_suback(const Frame& f, Version v, SubAck& out);  // SUBACK/UNSUBACK
Status decode_unsubscribe(const Frame& f, Version v, Unsubscribe& out);
Status decode_disconnect(const Frame& f, Version v, Disconnect& out);
Status decode_auth(const Frame& f, Version v, Auth& out);
// PINGREQ / PINGRESP have no body: the frame parser checks it.

// Properties alone (used by tests and by the front-end for will properties).
// `allowed_for` restricts which property ids are legal.
Status decode_properties(ByteSpan& cursor, PacketType allowed_for, bool is_will, Properties& out);

// ---- encoding ----------------------------------------------------------------

void encode_connect(const Connect& c, std::string& out);
void encode_connack(Version v, const Connack& c, std::string& out);
void encode_publish(Version v, const Publish& p, std::string& out);
void encode_ack(Version v, const Ack& a, std::string& out);
void encode_subscribe(Version v, const Subscribe& s, std::string& out);
void encode_suback(Version v, const SubAck& s, std::string& out);
void encode_unsubscribe(Version v, const Unsubscribe& u, std::string& out);
void encode_pingreq(std::string& out);
void encode_pingresp(std::string& out);
void encode_disconnect(Version v, const Disconnect& d, std::string& out);
void encode_auth(const Auth& a, std::string& out);

// Size of the encoded properties block without its length prefix.
std::size_t properties_size(const Properties& p);
// Appends the varint length and the properties.
void encode_properties(const Properties& p, std::string& out);
// Variable byte integer helpers.
void encode_varint(std::uint32_t v, std::string& out);
std::size_t varint_size(std::uint32_t v);

// Validates an UTF-8 string per [MQTT-1.5.4]: well-formed, no U+0000, no
// surrogates. (Control characters and non-characters are allowed.)
bool valid_utf8(std::string_view s);

}  // namespace junction::mqtt
