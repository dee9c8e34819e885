// junction::amqp — pure AMQP 0-9-1 codec (client side of the bridge). No I/O,
// no exceptions, no dependencies: it links into the broker, the unit tests and
// the fuzz target alike.
//
// Framing (AMQP 0-9-1 §2.3.5, §4.2.3): every frame is
//   type:octet  channel:short  size:long  payload[size]  frame-end:0xCE
// FrameParser::next() is a push parser (STYLE 1): given the unconsumed bytes it
// answers NeedMore / Frame (consume frame.total_size) / Error. The declared size
// is checked against max_frame_size (the negotiated frame-max, which counts the
// 8 octets of header and frame-end) before the caller is asked to buffer more,
// and the frame-end octet is checked. A server that rejects our protocol header
// answers with its own "AMQP" header: reported as Error ProtocolHeader.
//
// Methods are decoded from a method frame's payload into `Method` (a variant of
// one struct per method the bridge uses); each struct lists its fields once in
// visit(), which both the encoder and the decoder walk, so the two cannot
// disagree. Consecutive bit fields share an octet, least significant bit first
// (§4.2.5.2). Strings are bytes: shortstr <= 255 octets, longstr < 4 GiB.
//
// Field tables accept every type RabbitMQ sends (its errata, "Field types"):
// t b B s u I i l f d D S x A T F V. Nesting is limited to kMaxFieldDepth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace junction::amqp {

using ByteSpan = std::span<const std::uint8_t>;

inline ByteSpan bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// "AMQP" 0 0 9 1: what a client sends first.
inline constexpr std::string_view kProtocolHeader{"AMQP\x00\x00\x09\x01", 8};
inline constexpr std::uint8_t kFrameEnd = 0xCE;
inline constexpr std::size_t kFrameOverhead = 8;   // 7 header octets + frame-end
inline constexpr std::uint32_t kMinFrameMax = 4096;  // §4.2.3 frame-min-size
inline constexpr int kMaxFieldDepth = 16;

enum class FrameType : std::uint8_t { Method = 1, Header = 2, Body = 3, Heartbeat = 8 };

enum class Error : std::uint8_t {
  None = 0,
  ProtocolHeader,   // the peer answered with its own protocol header (version refused)
  BadFrameType,     // type not 1, 2, 3 or 8
  FrameTooLarge,    // size + 8 > max_frame_size
  BadFrameEnd,      // octet after the payload is not 0xCE
  BadHeartbeat,     // heartbeat on a channel other than 0 or with a payload
  Truncated,        // a method / header payload ends inside a field
  TrailingBytes,    // a method / header payload has bytes after its last field
  UnknownMethod,    // class/method pair this codec does not know
  BadFieldType,     // unknown field value type octet
  TooDeep,          // field tables/arrays nested deeper than kMaxFieldDepth
  StringTooLong,    // encoder: shortstr over 255 octets
  BadPropertyFlags, // content header: continuation bit or reserved flag bits set
  UnexpectedFrame,  // content frames out of order (header without method, body past its size...)
  BodyTooLarge,     // content body over the assembler's limit
};
const char* error_name(Error e);

struct Frame {
  FrameType type = FrameType::Heartbeat;
  std::uint16_t channel = 0;
  ByteSpan payload;            // points into the bytes given to next()
  std::size_t total_size = 0;  // header + payload + frame-end
};

enum class ParseResult : std::uint8_t { NeedMore, Frame, Error };

class FrameParser {
 public:
  explicit FrameParser(std::uint32_t max_frame_size = 131072) : max_(max_frame_size) {}
  void set_max_frame_size(std::uint32_t m) { max_ = m; }
  std::uint32_t max_frame_size() const { return max_; }
  ParseResult next(ByteSpan in, Frame& out, Error& err) const;

 private:
  std::uint32_t max_;
};

// ---- field values and tables ----

struct Field;

struct Decimal {
  std::uint8_t scale = 0;
  std::uint32_t value = 0;
  bool operator==(const Decimal&) const = default;
};

struct FieldValue {
  // The wire type octet: 't' bool, 'b' i8, 'B' u8, 's' i16, 'u' u16, 'I' i32,
  // 'i' u32, 'l' i64, 'f' float, 'd' double, 'D' decimal, 'S' longstr,
  // 'x' bytes, 'A' array, 'T' timestamp, 'F' table, 'V' void.
  char type = 'V';
  std::int64_t i = 0;      // t b s I l (signed kinds and bool)
  std::uint64_t u = 0;     // B u i T
  double d = 0;            // f d
  Decimal dec;             // D
  std::string s;           // S x
  std::vector<FieldValue> array;  // A
  std::vector<Field> table;       // F

  // Defined below, once Field is complete (its vector member needs it).
  static FieldValue string(std::string v);
  static FieldValue boolean(bool v);
  static FieldValue int64(std::int64_t v);
  static FieldValue timestamp(std::uint64_t v);
  bool operator==(const FieldValue& o) const;
  // Text form for mapping into string-only properties (numbers in decimal, bools "true"/"false").
  std::string to_text() const;
};

struct Field {
  std::string name;  // shortstr
  FieldValue value;
  bool operator==(const Field& o) const { return name == o.name && value == o.value; }
};

using FieldTable = std::vector<Field>;

inline FieldValue FieldValue::string(std::string v) { FieldValue f; f.type = 'S'; f.s = std::move(v); return f; }
inline FieldValue FieldValue::boolean(bool v) { FieldValue f; f.type = 't'; f.i = v; return f; }
inline FieldValue FieldValue::int64(std::int64_t v) { FieldValue f; f.type = 'l'; f.i = v; return f; }
inline FieldValue FieldValue::timestamp(std::uint64_t v) { FieldValue f; f.type = 'T'; f.u = v; return f; }
const FieldValue* find_field(const FieldTable& t, std::string_view name);

// ---- methods ----
// Field order and ids from the AMQP 0-9-1 specification (amqp0-9-1.xml).
// `reserved` fields are sent as the spec says (zero / empty) and ignored on input.

#define JUNCTION_AMQP_METHOD(Name, cls, mth) \
  static constexpr std::uint16_t kClass = cls; \
  static constexpr std::uint16_t kMethod = mth; \
  static constexpr const char* kName = Name;

struct ConnectionStart { JUNCTION_AMQP_METHOD("connection.start", 10, 10)
  std::uint8_t version_major = 0, version_minor = 9; FieldTable server_properties; std::string mechanisms, locales;
  template <class V> void visit(V& v) { v.u8(version_major); v.u8(version_minor); v.table(server_properties); v.longstr(mechanisms); v.longstr(locales); } };
struct ConnectionStartOk { JUNCTION_AMQP_METHOD("connection.start-ok", 10, 11)
  FieldTable client_properties; std::string mechanism, response, locale;
  template <class V> void visit(V& v) { v.table(client_properties); v.shortstr(mechanism); v.longstr(response); v.shortstr(locale); } };
struct ConnectionTune { JUNCTION_AMQP_METHOD("connection.tune", 10, 30)
  std::uint16_t channel_max = 0; std::uint32_t frame_max = 0; std::uint16_t heartbeat = 0;
  template <class V> void visit(V& v) { v.u16(channel_max); v.u32(frame_max); v.u16(heartbeat); } };
struct ConnectionTuneOk { JUNCTION_AMQP_METHOD("connection.tune-ok", 10, 31)
  std::uint16_t channel_max = 0; std::uint32_t frame_max = 0; std::uint16_t heartbeat = 0;
  template <class V> void visit(V& v) { v.u16(channel_max); v.u32(frame_max); v.u16(heartbeat); } };
struct ConnectionOpen { JUNCTION_AMQP_METHOD("connection.open", 10, 40)
  std::string virtual_host, reserved1; bool reserved2 = false;
  template <class V> void visit(V& v) { v.shortstr(virtual_host); v.shortstr(reserved1); v.bit(reserved2); } };
struct ConnectionOpenOk { JUNCTION_AMQP_METHOD("connection.open-ok", 10, 41)
  std::string reserved1;
  template <class V> void visit(V& v) { v.shortstr(reserved1); } };
struct ConnectionClose { JUNCTION_AMQP_METHOD("connection.close", 10, 50)
  std::uint16_t reply_code = 0; std::string reply_text; std::uint16_t class_id = 0, method_id = 0;
  template <class V> void visit(V& v) { v.u16(reply_code); v.shortstr(reply_text); v.u16(class_id); v.u16(method_id); } };
struct ConnectionCloseOk { JUNCTION_AMQP_METHOD("connection.close-ok", 10, 51)
  template <class V> void visit(V&) {} };
struct ConnectionBlocked { JUNCTION_AMQP_METHOD("connection.blocked", 10, 60)
  std::string reason;
  template <class V> void visit(V& v) { v.shortstr(reason); } };
struct ConnectionUnblocked { JUNCTION_AMQP_METHOD("connection.unblocked", 10, 61)
  template <class V> void visit(V&) {} };

struct ChannelOpen { JUNCTION_AMQP_METHOD("channel.open", 20, 10)
  std::string reserved1;
  template <class V> void visit(V& v) { v.shortstr(reserved1); } };
struct ChannelOpenOk { JUNCTION_AMQP_METHOD("channel.open-ok", 20, 11)
  std::string reserved1;
  template <class V> void visit(V& v) { v.longstr(reserved1); } };
struct ChannelClose { JUNCTION_AMQP_METHOD("channel.close", 20, 40)
  std::uint16_t reply_code = 0; std::string reply_text; std::uint16_t class_id = 0, method_id = 0;
  template <class V> void visit(V& v) { v.u16(reply_code); v.shortstr(reply_text); v.u16(class_id); v.u16(method_id); } };
struct ChannelCloseOk { JUNCTION_AMQP_METHOD("channel.close-ok", 20, 41)
  template <class V> void visit(V&) {} };

struct ExchangeDeclare { JUNCTION_AMQP_METHOD("exchange.declare", 40, 10)
  std::uint16_t reserved1 = 0; std::string exchange, type;
  bool passive = false, durable = false, auto_delete = false, internal = false, no_wait = false; FieldTable arguments;
  template <class V> void visit(V& v) { v.u16(reserved1); v.shortstr(exchange); v.shortstr(type); v.bit(passive); v.bit(durable);
    v.bit(auto_delete); v.bit(internal); v.bit(no_wait); v.table(arguments); } };
struct ExchangeDeclareOk { JUNCTION_AMQP_METHOD("exchange.declare-ok", 40, 11)
  template <class V> void visit(V&) {} };

struct QueueDeclare { JUNCTION_AMQP_METHOD("queue.declare", 50, 10)
  std::uint16_t reserved1 = 0; std::string queue;
  bool passive = false, durable = false, exclusive = false, auto_delete = false, no_wait = false; FieldTable arguments;
  template <class V> void visit(V& v) { v.u16(reserved1); v.shortstr(queue); v.bit(passive); v.bit(durable); v.bit(exclusive);
    v.bit(auto_delete); v.bit(no_wait); v.table(arguments); } };
struct QueueDeclareOk { JUNCTION_AMQP_METHOD("queue.declare-ok", 50, 11)
  std::string queue; std::uint32_t message_count = 0, consumer_count = 0;
  template <class V> void visit(V& v) { v.shortstr(queue); v.u32(message_count); v.u32(consumer_count); } };
struct QueueBind { JUNCTION_AMQP_METHOD("queue.bind", 50, 20)
  std::uint16_t reserved1 = 0; std::string queue, exchange, routing_key; bool no_wait = false; FieldTable arguments;
  template <class V> void visit(V& v) { v.u16(reserved1); v.shortstr(queue); v.shortstr(exchange); v.shortstr(routing_key);
    v.bit(no_wait); v.table(arguments); } };
struct QueueBindOk { JUNCTION_AMQP_METHOD("queue.bind-ok", 50, 21)
  template <class V> void visit(V&) {} };

struct BasicQos { JUNCTION_AMQP_METHOD("basic.qos", 60, 10)
  std::uint32_t prefetch_size = 0; std::uint16_t prefetch_count = 0; bool global = false;
  template <class V> void visit(V& v) { v.u32(prefetch_size); v.u16(prefetch_count); v.bit(global); } };
struct BasicQosOk { JUNCTION_AMQP_METHOD("basic.qos-ok", 60, 11)
  template <class V> void visit(V&) {} };
struct BasicConsume { JUNCTION_AMQP_METHOD("basic.consume", 60, 20)
  std::uint16_t reserved1 = 0; std::string queue, consumer_tag;
  bool no_local = false, no_ack = false, exclusive = false, no_wait = false; FieldTable arguments;
  template <class V> void visit(V& v) { v.u16(reserved1); v.shortstr(queue); v.shortstr(consumer_tag); v.bit(no_local);
    v.bit(no_ack); v.bit(exclusive); v.bit(no_wait); v.table(arguments); } };
struct BasicConsumeOk { JUNCTION_AMQP_METHOD("basic.consume-ok", 60, 21)
  std::string consumer_tag;
  template <class V> void visit(V& v) { v.shortstr(consumer_tag); } };
struct BasicCancel { JUNCTION_AMQP_METHOD("basic.cancel", 60, 30)
  std::string consumer_tag; bool no_wait = false;
  template <class V> void visit(V& v) { v.shortstr(consumer_tag); v.bit(no_wait); } };
struct BasicCancelOk { JUNCTION_AMQP_METHOD("basic.cancel-ok", 60, 31)
  std::string consumer_tag;
  template <class V> void visit(V& v) { v.shortstr(consumer_tag); } };
struct BasicPublish { JUNCTION_AMQP_METHOD("basic.publish", 60, 40)
  std::uint16_t reserved1 = 0; std::string exchange, routing_key; bool mandatory = false, immediate = false;
  template <class V> void visit(V& v) { v.u16(reserved1); v.shortstr(exchange); v.shortstr(routing_key); v.bit(mandatory); v.bit(immediate); } };
struct BasicReturn { JUNCTION_AMQP_METHOD("basic.return", 60, 50)
  std::uint16_t reply_code = 0; std::string reply_text, exchange, routing_key;
  template <class V> void visit(V& v) { v.u16(reply_code); v.shortstr(reply_text); v.shortstr(exchange); v.shortstr(routing_key); } };
struct BasicDeliver { JUNCTION_AMQP_METHOD("basic.deliver", 60, 60)
  std::string consumer_tag; std::uint64_t delivery_tag = 0; bool redelivered = false; std::string exchange, routing_key;
  template <class V> void visit(V& v) { v.shortstr(consumer_tag); v.u64(delivery_tag); v.bit(redelivered); v.shortstr(exchange); v.shortstr(routing_key); } };
struct BasicAck { JUNCTION_AMQP_METHOD("basic.ack", 60, 80)
  std::uint64_t delivery_tag = 0; bool multiple = false;
  template <class V> void visit(V& v) { v.u64(delivery_tag); v.bit(multiple); } };
struct BasicNack { JUNCTION_AMQP_METHOD("basic.nack", 60, 120)
  std::uint64_t delivery_tag = 0; bool multiple = false, requeue = true;
  template <class V> void visit(V& v) { v.u64(delivery_tag); v.bit(multiple); v.bit(requeue); } };

struct ConfirmSelect { JUNCTION_AMQP_METHOD("confirm.select", 85, 10)
  bool no_wait = false;
  template <class V> void visit(V& v) { v.bit(no_wait); } };
struct ConfirmSelectOk { JUNCTION_AMQP_METHOD("confirm.select-ok", 85, 11)
  template <class V> void visit(V&) {} };

#undef JUNCTION_AMQP_METHOD

using Method = std::variant<ConnectionStart, ConnectionStartOk, ConnectionTune, ConnectionTuneOk, ConnectionOpen,
                            ConnectionOpenOk, ConnectionClose, ConnectionCloseOk, ConnectionBlocked, ConnectionUnblocked,
                            ChannelOpen, ChannelOpenOk, ChannelClose, ChannelCloseOk, ExchangeDeclare,
                            ExchangeDeclareOk, QueueDeclare, QueueDeclareOk, QueueBind, QueueBindOk, BasicQos,
                            BasicQosOk, BasicConsume, BasicConsumeOk, BasicCancel, BasicCancelOk, BasicPublish,
                            BasicReturn, BasicDeliver, BasicAck, BasicNack, ConfirmSelect, ConfirmSelectOk>;

const char* method_name(const Method& m);
// True for methods followed by a content header and body (basic.publish/return/deliver).
bool has_content(const Method& m);

// Decodes a method frame's payload (class-id, method-id, arguments).
Error decode_method(ByteSpan payload, Method& out);
// Appends a complete method frame. Fails (StringTooLong) without output when a shortstr is over 255 octets.
Error encode_method(std::uint16_t channel, const Method& m, std::string& out);

// ---- content (basic class) ----

struct BasicProperties {
  std::optional<std::string> content_type, content_encoding;
  std::optional<FieldTable> headers;
  std::optional<std::uint8_t> delivery_mode, priority;
  std::optional<std::string> correlation_id, reply_to, expiration, message_id;
  std::optional<std::uint64_t> timestamp;  // seconds since the epoch
  std::optional<std::string> type, user_id, app_id, cluster_id;
  bool operator==(const BasicProperties&) const = default;
};

struct ContentHeader {
  std::uint16_t class_id = 60;
  std::uint64_t body_size = 0;
  BasicProperties properties;
  bool operator==(const ContentHeader&) const = default;
};

Error decode_content_header(ByteSpan payload, ContentHeader& out);
Error encode_content_header(std::uint16_t channel, const ContentHeader& h, std::string& out);
// Appends body frames of at most frame_max octets each (none for an empty body).
void encode_body(std::uint16_t channel, std::string_view body, std::uint32_t frame_max, std::string& out);
void encode_heartbeat(std::string& out);

// Field tables on their own (with their long size prefix), for tests and tools.
Error decode_table(ByteSpan in, FieldTable& out, std::size_t& used);
Error encode_table(const FieldTable& t, std::string& out);

// ---- content assembly ----
// After a method with content, the next frames on that channel are one
// content header and body frames until body_size octets have come.
class ContentAssembler {
 public:
  enum class Step : std::uint8_t { NeedMore, Complete, Error };
  void start(Method m, std::uint64_t max_body) { method_ = std::move(m); max_body_ = max_body; state_ = State::Header; body_.clear(); }
  bool active() const { return state_ != State::Idle; }
  // Feeds the next frame of the channel (header or body).
  Step feed(const Frame& f, Error& err);
  Method& method() { return method_; }
  ContentHeader& header() { return header_; }
  std::string& body() { return body_; }
  void reset() { state_ = State::Idle; body_.clear(); }

 private:
  enum class State : std::uint8_t { Idle, Header, Body };
  State state_ = State::Idle;
  std::uint64_t max_body_ = 0;
  Method method_;
  ContentHeader header_;
  std::string body_;
};

}  // namespace junction::amqp
