// Versioned record formats of the store (the bytes behind store.h's tables).
//
// Every record starts with one format-version byte. Decoders accept every
// version ever written (keep fixtures of old versions in test/data/store/);
// encoders always write the newest. Decoding never throws: it returns false
// on a truncated or unknown record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store.h"

namespace junction::store {

// A message's fields as views, for encoding without copying them first
// (the core's messages are not StoredMessages; queue and session entries
// past a window are written from them on the hot path).
struct MessageView {
  std::uint64_t id = 0;
  std::string_view topic;
  std::string_view payload;
  std::uint8_t qos = 0;
  bool retain = false;
  std::int64_t created_ms = 0;
  std::int64_t expiry_ms = 0;
  std::string_view origin_client;
  std::uint8_t origin_protocol = 0;
  std::string_view content_type;
  std::string_view response_topic;
  std::string_view correlation_data;
  std::int16_t payload_format = -1;
  std::vector<std::pair<std::string_view, std::string_view>> user_properties;
};

// Version byte of message, session and session-entry records.
inline constexpr std::uint8_t kRecordVersion = 1;
// Version byte of queue entries: 2 carries the message inline (see below);
// 3 also a redelivery back-off deadline.
inline constexpr std::uint8_t kQueueEntryVersion = 2;
inline constexpr std::uint8_t kQueueEntryBackoffVersion = 3;
// The store's format marker (Meta "format"): the highest record version any
// table may hold, raised too when a table is added that an older build would
// not see (3: the Delayed and DedupIds tables, queue entries version 3). A
// build refuses a store marked higher than this.
inline constexpr std::uint8_t kStoreFormat = 3;

struct StoredMessage {
  std::uint64_t id = 0;
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  std::int64_t created_ms = 0;   // wall clock, ms since epoch
  std::int64_t expiry_ms = 0;    // absolute deadline, 0 = never
  std::string origin_client;
  std::uint8_t origin_protocol = 0;
  std::string content_type;
  std::string response_topic;
  std::string correlation_data;
  std::int16_t payload_format = -1;  // -1 absent, 0 bytes, 1 UTF-8
  std::vector<std::pair<std::string, std::string>> user_properties;
};

struct StoredSubscription {
  std::string filter;  // full filter, including any $share/<group>/ prefix
  std::uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint8_t retain_handling = 0;
  std::uint32_t subscription_id = 0;  // 0 = none
};

struct StoredSession {
  std::string client_id;
  std::uint32_t expiry_interval_s = 0;  // 0xFFFFFFFF = never expires
  std::int64_t disconnected_ms = 0;     // 0 = was connected when last written
  std::uint8_t protocol_version = 0;    // MQTT 3/4/5 (informational)
  std::uint16_t next_packet_id = 1;
  std::vector<StoredSubscription> subscriptions;
};

// One pending or in-flight outgoing delivery of a session. Version 1 names
// a Messages record (msg_id; its body is stored once for every session that
// holds it). Version 2 also carries the message itself: an entry past the
// session's in-memory window, whose body must be readable without a
// reference count in memory. encode() writes version 1 unless has_message.
struct StoredEntry {
  std::uint64_t msg_id = 0;
  std::uint8_t qos = 0;
  std::uint8_t state = 0;  // core::DeliveryStage: 0 queued, 1 sent, 2 received (two-step delivery: completion awaited)
  std::uint16_t packet_id = 0;
  bool retain = false;
  std::vector<std::uint32_t> subscription_ids;
  bool has_message = false;  // version 2
  StoredMessage message;
};

// One message in a durable queue (ready or delivered and not yet acknowledged).
// Version 2 holds the message itself: a queued message has exactly one owner,
// and a backlog read back from disk then costs one record per message, with
// no reference count to keep for bodies that are not in memory. Version 1
// named a Messages record (msg_id); start-up rewrites those as version 2.
struct StoredQueueEntry {
  std::uint32_t deliveries = 0;  // deliveries so far (written when a message is requeued)
  std::uint64_t msg_id = 0;      // version 1 only; 0 when the message is inline
  StoredMessage message;         // version 2
  std::int64_t not_before_ms = 0;  // version 3: requeued with a redelivery back-off, offered again from then
};

// Per queue (QueueMeta table, key: the queue name): what a restart needs
// without reading the queue's entries, written in the same commit as them.
struct StoredQueueMeta {
  std::uint64_t count = 0;       // entries (ready + unacknowledged)
  std::uint64_t bytes = 0;       // their payload bytes
  std::uint64_t next_seq = 1;    // the next entry's key
  std::uint64_t max_msg_id = 0;  // highest message id held (ids stay unique across restarts)
};

// Always writes version 2.
std::string encode(const StoredQueueEntry& e);
// The same bytes as encode(StoredQueueEntry{deliveries, 0, m}).
std::string encode_queue_entry(std::uint32_t deliveries, const MessageView& m);
void append_queue_entry(std::string& out, std::uint32_t deliveries, const MessageView& m,
                        std::int64_t not_before_ms = 0);
// A version-2 session entry: `e`'s fields (its message ignored) with `m` inline.
std::string encode_entry_inline(const StoredEntry& e, const MessageView& m);
void append_entry_inline(std::string& out, const StoredEntry& e, const MessageView& m);
bool decode(std::string_view bytes, StoredQueueEntry& out);
std::string encode(const StoredQueueMeta& m);
bool decode(std::string_view bytes, StoredQueueMeta& out);
RecordKey queue_entry_key(std::string_view queue, std::uint64_t seq);
bool split_queue_entry_key(std::string_view key, std::string_view& queue, std::uint64_t& seq);

// Delayed table: one record per delayed message, keyed so that a scan reads
// them in due order (ties by message id).
std::string delayed_key(std::int64_t due_ms, std::uint64_t msg_id);
bool split_delayed_key(std::string_view key, std::int64_t& due_ms, std::uint64_t& msg_id);
// Meta record "delayed": what a restart needs without reading the table.
inline constexpr std::string_view kMetaDelayedKey = "delayed";
struct StoredDelayedMeta {
  std::uint64_t count = 0;       // delayed messages in the table
  std::uint64_t max_msg_id = 0;  // highest message id among them (ids stay unique across restarts)
};
std::string encode(const StoredDelayedMeta& m);
bool decode(std::string_view bytes, StoredDelayedMeta& out);

std::string encode(const StoredMessage& m);
// The same bytes, from views.
std::string encode_message(const MessageView& m);
// The append_* functions write the same bytes as their encode* twins at the
// end of `out` (a batch's buffer: Batch::put_with).
void append_message(std::string& out, const MessageView& m);
std::string encode(const StoredSession& s);
std::string encode(const StoredEntry& e);
void append_entry(std::string& out, const StoredEntry& e);
bool decode(std::string_view bytes, StoredMessage& out);
bool decode(std::string_view bytes, StoredSession& out);
bool decode(std::string_view bytes, StoredEntry& out);

// Keys.
RecordKey session_entry_key(std::string_view client_id, std::uint64_t seq);
// Splits a SessionEntries key; false if malformed.
bool split_session_entry_key(std::string_view key, std::string_view& client_id, std::uint64_t& seq);
RecordKey inbound_held_key(std::string_view client_id, std::uint16_t packet_id);
bool split_inbound_held_key(std::string_view key, std::string_view& client_id, std::uint16_t& packet_id);

}  // namespace junction::store
