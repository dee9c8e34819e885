// junction::core::Message — one published message, immutable after publish,
// shared by every subscriber through MessageRef (intrusive, non-atomic: the
// core is single-threaded; the store thread only ever sees serialized copies).
//
// Front-ends encode the costly parts of a message (MQTT 5 properties, STOMP
// headers) at most once per wire format and keep the bytes in `encoded`
// (mutable cache, not part of the message's value).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace junction::core {

// Which protocol a message or a session came from. Each protocol picks its
// own number (stable: it is stored with every message) and registers it
// with a name (Broker::register_protocol, which refuses two protocols with
// one number); the core knows only kInternalProtocol, for what it makes
// itself ($SYS values).
struct ProtocolId {
  std::uint8_t value = 0;
  bool operator==(const ProtocolId&) const = default;
};
inline constexpr ProtocolId kInternalProtocol{0};
inline constexpr std::size_t kMaxProtocols = 16;  // ids 0..15

struct UserProperty {
  std::string name;
  std::string value;
};

struct MessageProperties {
  std::string content_type;
  std::string response_topic;    // core topic name (protocols translate)
  std::string correlation_data;  // bytes
  std::vector<UserProperty> user_properties;
  std::int16_t payload_format = -1;  // -1 absent, 0 unspecified bytes, 1 UTF-8
  bool empty() const {
    return content_type.empty() && response_topic.empty() && correlation_data.empty() &&
           user_properties.empty() && payload_format < 0;
  }
};

// Encoding cache slots, one per wire format whose encoding is worth keeping
// (MQTT 5 properties, STOMP 1.0 headers, STOMP 1.1/1.2 headers...). A
// front-end asks Broker::encode_slot(name) for its slots when it is built.
using EncodeSlot = std::uint8_t;
inline constexpr std::size_t kMaxEncodeSlots = 8;

// A message is nearly always delivered in one cached wire format, or none
// (MQTT 3.1.1, and MQTT 5 without properties, are written straight from
// topic and payload), so the first slot used is held inline and the others
// are allocated only when a second format asks: 48 B instead of one string
// per format in every message, retained ones included.
class EncodeCache {
 public:
  // The slot's bytes; empty until the caller fills them.
  std::string& operator[](EncodeSlot id) {
    if (first_id_ == id) return first_;
    if (first_id_ == kUnused) {
      first_id_ = id;
      return first_;
    }
    if (!others_) others_ = std::make_unique<std::array<std::string, kMaxEncodeSlots>>();
    return (*others_)[id];
  }

 private:
  static constexpr std::uint8_t kUnused = 0xFF;
  std::string first_;
  std::unique_ptr<std::array<std::string, kMaxEncodeSlots>> others_;
  std::uint8_t first_id_ = kUnused;
};

class Message {
 public:
  std::uint64_t id = 0;          // broker-assigned, unique, increasing
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  std::int64_t created_ms = 0;   // wall clock
  std::int64_t expiry_ms = 0;    // absolute wall-clock deadline; 0 = never
  std::string origin_client;     // client id of the publisher ("" for internal)
  ProtocolId origin_protocol = kInternalProtocol;

  // Content type, response topic, correlation data, user properties: most
  // messages have none, so they live behind a pointer (128 B otherwise in
  // every message, retained ones included).
  const MessageProperties& props() const { return props_ ? *props_ : kNoProperties; }
  MessageProperties& mutable_props() {
    if (!props_) props_ = std::make_unique<MessageProperties>();
    return *props_;
  }
  // Frees the properties again when whatever filled them left them empty.
  void drop_empty_props() {
    if (props_ && props_->empty()) props_.reset();
  }

  // Mutable caches (not part of the value).
  mutable EncodeCache encoded;
  mutable std::uint32_t persist_refs = 0;  // durable references (retained + session entries)
  mutable bool persisted = false;          // a Messages record exists in the store
  // Nothing durable holds it (no record, no reference): a stored entry for
  // its only holder may carry it inline instead of sharing a record.
  bool durably_unheld() const { return persist_refs == 0 && !persisted; }

  bool expired(std::int64_t now_ms) const { return expiry_ms != 0 && now_ms >= expiry_ms; }

 private:
  friend class MessageRef;
  static inline const MessageProperties kNoProperties{};
  std::unique_ptr<MessageProperties> props_;
  mutable std::uint32_t refs_ = 0;
};

// Intrusive reference to a Message.
class MessageRef {
 public:
  MessageRef() = default;
  explicit MessageRef(Message* m) : m_(m) { if (m_) ++m_->refs_; }
  MessageRef(const MessageRef& o) : m_(o.m_) { if (m_) ++m_->refs_; }
  MessageRef(MessageRef&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  MessageRef& operator=(MessageRef o) noexcept { std::swap(m_, o.m_); return *this; }
  ~MessageRef() { if (m_ && --m_->refs_ == 0) delete m_; }

  static MessageRef make() { return MessageRef(new Message()); }

  Message* get() const { return m_; }
  Message* operator->() const { return m_; }
  Message& operator*() const { return *m_; }
  explicit operator bool() const { return m_ != nullptr; }
  std::uint32_t use_count() const { return m_ ? m_->refs_ : 0; }

 private:
  Message* m_ = nullptr;
};

}  // namespace junction::core
