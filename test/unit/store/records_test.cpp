// Record formats: round trips, rejection of every truncation, and fixtures of
// the version-1 bytes. The fixtures are the on-disk contract: if one of these
// tests fails after a format change, add a new version instead of editing them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "records.h"
#include "store.h"

using namespace junction::store;

namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

StoredMessage sample_message() {
  StoredMessage m;
  m.id = 0x0102030405060708ULL;
  m.topic = "a/b";
  m.payload = std::string("hi\0", 3);
  m.qos = 1;
  m.retain = true;
  m.created_ms = 1700000000123;
  m.expiry_ms = -2;
  m.origin_client = "c1";
  m.origin_protocol = 3;
  m.content_type = "text/plain";
  m.response_topic = "r/s";
  m.correlation_data = std::string("\xff\x00", 2);
  m.payload_format = 1;
  m.user_properties = {{"k", "v"}, {"k", ""}};
  return m;
}

StoredSession sample_session() {
  StoredSession s;
  s.client_id = "dev-7";
  s.expiry_interval_s = 0xFFFFFFFF;
  s.disconnected_ms = 1700000000456;
  s.protocol_version = 5;
  s.next_packet_id = 0x1234;
  s.subscriptions = {{"a/+/#", 2, true, true, 2, 300}, {"$share/g/x", 0, false, false, 0, 0}};
  return s;
}

StoredEntry sample_entry() {
  StoredEntry e;
  e.msg_id = 0x8877665544332211ULL;
  e.qos = 2;
  e.state = 2;
  e.packet_id = 0xBEEF;
  e.retain = true;
  e.subscription_ids = {7, 0x01020304};
  return e;
}

// Version-1 bytes, written independently of the encoder (one line per field).
const std::string kMessageV1 = unhex(
    "01"                              // version 1
    "0807060504030201"                // id
    "03000000612f62"                  // topic "a/b"
    "03000000686900"                  // payload "hi\0"
    "01"                              // qos 1
    "01"                              // retain
    "7b68e5cf8b010000"                // created_ms 1700000000123
    "feffffffffffffff"                // expiry_ms -2
    "020000006331"                    // origin_client "c1"
    "03"                              // origin_protocol 3
    "0a000000746578742f706c61696e"    // content_type "text/plain"
    "03000000722f73"                  // response_topic "r/s"
    "02000000ff00"                    // correlation_data ff 00
    "0100"                            // payload_format 1
    "02000000"                        // 2 user properties
    "010000006b0100000076"            // "k" = "v"
    "010000006b00000000");            // "k" = ""

const std::string kSessionV1 = unhex(
    "01"                              // version 1
    "050000006465762d37"              // client_id "dev-7"
    "ffffffff"                        // expiry_interval_s: never
    "c869e5cf8b010000"                // disconnected_ms 1700000000456
    "05"                              // protocol_version 5
    "3412"                            // next_packet_id 0x1234
    "02000000"                        // 2 subscriptions
    "05000000612f2b2f23020101022c010000"               // "a/+/#" qos 2, nl, rap, rh 2, id 300
    "0a0000002473686172652f672f780000000000000000");  // "$share/g/x" all zero

const std::string kEntryV1 = unhex(
    "01"                              // version 1
    "1122334455667788"                // msg_id 0x8877665544332211
    "02"                              // qos 2
    "02"                              // state 2: PUBREL sent
    "efbe"                            // packet_id 0xBEEF
    "01"                              // retain
    "02000000"                        // 2 subscription ids
    "0700000004030201");              // 7, 0x01020304

// Queue entry, version 1: a reference to a Messages record.
const std::string kQueueEntryV1 = unhex(
    "01"                              // version 1
    "1122334455667788"                // msg_id 0x8877665544332211
    "05000000");                      // 5 deliveries

// Queue entry, version 2: the message inline (the fields of kMessageV1 after its version byte).
const std::string kQueueEntryV2 = unhex("02" "03000000") + kMessageV1.substr(1);

const std::string kQueueMetaV1 = unhex(
    "01"                              // version 1
    "0300000000000000"                // count 3
    "0001000000000000"                // bytes 256
    "0900000000000000"                // next_seq 9
    "2a00000000000000");              // max_msg_id 42

bool same(const StoredMessage& a, const StoredMessage& b) {
  return a.id == b.id && a.topic == b.topic && a.payload == b.payload && a.qos == b.qos && a.retain == b.retain &&
         a.created_ms == b.created_ms && a.expiry_ms == b.expiry_ms && a.origin_client == b.origin_client &&
         a.origin_protocol == b.origin_protocol && a.content_type == b.content_type &&
         a.response_topic == b.response_topic && a.correlation_data == b.correlation_data &&
         a.payload_format == b.payload_format && a.user_properties == b.user_properties;
}

bool same(const StoredSubscription& a, const StoredSubscription& b) {
  return a.filter == b.filter && a.qos == b.qos && a.no_local == b.no_local &&
         a.retain_as_published == b.retain_as_published && a.retain_handling == b.retain_handling &&
         a.subscription_id == b.subscription_id;
}

bool same(const StoredSession& a, const StoredSession& b) {
  if (a.subscriptions.size() != b.subscriptions.size()) return false;
  for (std::size_t i = 0; i < a.subscriptions.size(); ++i)
    if (!same(a.subscriptions[i], b.subscriptions[i])) return false;
  return a.client_id == b.client_id && a.expiry_interval_s == b.expiry_interval_s &&
         a.disconnected_ms == b.disconnected_ms && a.protocol_version == b.protocol_version &&
         a.next_packet_id == b.next_packet_id;
}

bool same(const StoredEntry& a, const StoredEntry& b) {
  return a.msg_id == b.msg_id && a.qos == b.qos && a.state == b.state && a.packet_id == b.packet_id &&
         a.retain == b.retain && a.subscription_ids == b.subscription_ids && a.has_message == b.has_message &&
         same(a.message, b.message);
}

// Every strict prefix and one trailing byte must be rejected, leaving `out` alone.
bool same(const StoredQueueEntry& a, const StoredQueueEntry& b) {
  return a.deliveries == b.deliveries && a.msg_id == b.msg_id && same(a.message, b.message);
}

bool same(const StoredQueueMeta& a, const StoredQueueMeta& b) {
  return a.count == b.count && a.bytes == b.bytes && a.next_seq == b.next_seq && a.max_msg_id == b.max_msg_id;
}

template <typename Record>
void check_rejects_truncation(const std::string& bytes) {
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    Record out;
    const Record untouched = out;
    INFO("length " << len << " of " << bytes.size());
    CHECK_FALSE(decode(std::string_view(bytes).substr(0, len), out));
    CHECK(same(out, untouched));
  }
  Record out;
  CHECK_FALSE(decode(bytes + '\0', out));
}

}  // namespace

TEST_CASE("records: round trip with every field set", "[store][records]") {
  SECTION("message") {
    StoredMessage out;
    REQUIRE(decode(encode(sample_message()), out));
    CHECK(same(out, sample_message()));
  }
  SECTION("session") {
    StoredSession out;
    REQUIRE(decode(encode(sample_session()), out));
    CHECK(same(out, sample_session()));
  }
  SECTION("entry") {
    StoredEntry out;
    REQUIRE(decode(encode(sample_entry()), out));
    CHECK(same(out, sample_entry()));
  }
  SECTION("defaults") {
    StoredMessage m;
    StoredSession s;
    StoredEntry e;
    REQUIRE(decode(encode(StoredMessage{}), m));
    REQUIRE(decode(encode(StoredSession{}), s));
    REQUIRE(decode(encode(StoredEntry{}), e));
    CHECK(same(m, StoredMessage{}));
    CHECK(same(s, StoredSession{}));
    CHECK(same(e, StoredEntry{}));
  }
}

TEST_CASE("records: version-1 fixtures still decode and re-encode identically", "[store][records]") {
  StoredMessage m;
  REQUIRE(decode(kMessageV1, m));
  CHECK(same(m, sample_message()));
  StoredSession s;
  REQUIRE(decode(kSessionV1, s));
  CHECK(same(s, sample_session()));
  StoredEntry e;
  REQUIRE(decode(kEntryV1, e));
  CHECK(same(e, sample_entry()));
  // Only valid while kRecordVersion == 1; a new version keeps the decode half.
  STATIC_REQUIRE(kRecordVersion == 1);
  CHECK(encode(sample_message()) == kMessageV1);
  CHECK(encode(sample_session()) == kSessionV1);
  CHECK(encode(sample_entry()) == kEntryV1);
}

TEST_CASE("records: queue entries (version 1 reference, version 2 inline) and queue meta", "[store][records]") {
  StoredQueueEntry e;
  REQUIRE(decode(kQueueEntryV1, e));
  CHECK(e.msg_id == 0x8877665544332211ULL);
  CHECK(e.deliveries == 5);
  CHECK(e.message.topic.empty());
  REQUIRE(decode(kQueueEntryV2, e));
  CHECK(e.msg_id == 0);
  CHECK(e.deliveries == 3);
  CHECK(same(e.message, sample_message()));
  STATIC_REQUIRE(kQueueEntryVersion == 2);
  CHECK(encode(e) == kQueueEntryV2);
  check_rejects_truncation<StoredQueueEntry>(kQueueEntryV1);
  check_rejects_truncation<StoredQueueEntry>(kQueueEntryV2);
  for (char v : {'\x00', '\x03', '\xff'}) {
    std::string bytes = kQueueEntryV2;
    bytes[0] = v;
    CHECK_FALSE(decode(bytes, e));
  }
  CHECK_FALSE(decode(kMessageV1, e));
  StoredQueueMeta m;
  REQUIRE(decode(kQueueMetaV1, m));
  CHECK(m.count == 3);
  CHECK(m.bytes == 256);
  CHECK(m.next_seq == 9);
  CHECK(m.max_msg_id == 42);
  CHECK(encode(m) == kQueueMetaV1);
  check_rejects_truncation<StoredQueueMeta>(kQueueMetaV1);
}

TEST_CASE("records: a version-2 session entry carries its message", "[store][records]") {
  const std::string v2 = std::string(1, '\x02') + kEntryV1.substr(1) + kMessageV1.substr(1);
  StoredEntry e;
  REQUIRE(decode(v2, e));
  CHECK(e.has_message);
  CHECK(same(e.message, sample_message()));
  CHECK(e.packet_id == 0xBEEF);
  CHECK(encode(e) == v2);
  check_rejects_truncation<StoredEntry>(v2);
  REQUIRE(decode(kEntryV1, e));
  CHECK_FALSE(e.has_message);
  CHECK(encode(e) == kEntryV1);  // a reference entry stays version 1
}

TEST_CASE("records: truncated inputs at every length are rejected", "[store][records]") {
  check_rejects_truncation<StoredMessage>(kMessageV1);
  check_rejects_truncation<StoredSession>(kSessionV1);
  check_rejects_truncation<StoredEntry>(kEntryV1);
}

TEST_CASE("records: garbage is rejected", "[store][records]") {
  StoredMessage m;
  StoredSession s;
  StoredEntry e;
  SECTION("unknown version") {
    for (char v : {'\x00', '\x03', '\xff'}) {
      std::string bytes = kEntryV1;
      bytes[0] = v;
      CHECK_FALSE(decode(bytes, e));
    }
  }
  SECTION("out-of-range small fields") {
    std::string bad = kEntryV1;
    bad[9] = 3;  // qos
    CHECK_FALSE(decode(bad, e));
    bad = kEntryV1;
    bad[10] = 3;  // state
    CHECK_FALSE(decode(bad, e));
    bad = kEntryV1;
    bad[13] = 2;  // retain is a bool
    CHECK_FALSE(decode(bad, e));
    StoredMessage pf = sample_message();
    pf.payload_format = 2;
    CHECK_FALSE(decode(encode(pf), m));
    StoredSession rh = sample_session();
    rh.subscriptions[0].retain_handling = 3;
    CHECK_FALSE(decode(encode(rh), s));
  }
  SECTION("huge counts and lengths do not allocate or overrun") {
    std::string bad = kEntryV1.substr(0, 14) + unhex("ffffffff");
    CHECK_FALSE(decode(bad, e));
    bad = unhex("01") + unhex("fffffff0") + "dev";  // client id longer than the record
    CHECK_FALSE(decode(bad, s));
    StoredSession empty;
    bad = encode(empty);
    bad.replace(bad.size() - 4, 4, unhex("ffffff7f"));  // 2^31 subscriptions
    CHECK_FALSE(decode(bad, s));
  }
  SECTION("wrong record type") {
    CHECK_FALSE(decode(kEntryV1, m));
    CHECK_FALSE(decode(kMessageV1, s));
    CHECK_FALSE(decode(kSessionV1, e));
  }
}

TEST_CASE("records: session entry and incoming QoS 2 keys", "[store][records]") {
  const std::string k = session_entry_key("dev", 0x0102).str();
  CHECK(k == std::string("dev\0\0\0\0\0\0\0\x01\x02", 12));
  std::string_view id;
  std::uint64_t seq = 0;
  REQUIRE(split_session_entry_key(k, id, seq));
  CHECK(id == "dev");
  CHECK(seq == 0x0102);
  // Sorted by client, then numerically by seq.
  CHECK(session_entry_key("dev", 255) < session_entry_key("dev", 256));
  CHECK(session_entry_key("dev", ~0ULL) < session_entry_key("dev0", 0));
  CHECK(session_entry_key("de", ~0ULL) < session_entry_key("dev", 0));

  const std::string q = inbound_held_key("c", 0xBEEF).str();
  CHECK(q == std::string("c\0\xbe\xef", 4));
  std::uint16_t pid = 0;
  REQUIRE(split_inbound_held_key(q, id, pid));
  CHECK(id == "c");
  CHECK(pid == 0xBEEF);
  REQUIRE(split_inbound_held_key(inbound_held_key("", 1), id, pid));
  CHECK(id.empty());

  CHECK_FALSE(split_session_entry_key("short", id, seq));
  CHECK_FALSE(split_session_entry_key(std::string("dev1234567890"), id, seq));        // no separator
  CHECK_FALSE(split_session_entry_key(std::string("a\0b\0\0\0\0\0\0\0\x01", 11), id, seq));  // NUL in id
  CHECK_FALSE(split_session_entry_key(q, id, seq));
  CHECK_FALSE(split_inbound_held_key(k, id, pid));
}

TEST_CASE("records: u64 keys sort numerically", "[store]") {
  CHECK(u64_key(1) < u64_key(256));
  CHECK(u64_key(0xFF) < u64_key(0x100));
  CHECK(u64_from_key(u64_key(0x0123456789abcdefULL)) == 0x0123456789abcdefULL);
  std::uint64_t v = 7;
  CHECK_FALSE(parse_u64_key("1234567", v));
  CHECK(v == 7);
  CHECK(u64_from_key("123456789") == 0);
  CHECK(std::string(table_name(Table::SessionEntries)) == "session_entries");
  CHECK(std::string(store_error_name(StoreError::Full)) == "full");
}

TEST_CASE("records: keys longer than RecordKey's inline room spill to the heap intact", "[store][records]") {
  const std::string long_id(300, 'x');
  const RecordKey k = session_entry_key(long_id, 7);
  REQUIRE(k.size() == 309);
  std::string_view id;
  std::uint64_t seq = 0;
  REQUIRE(split_session_entry_key(k, id, seq));
  CHECK(id == long_id);
  CHECK(seq == 7);
  RecordKey copy = k;  // a copy owns its bytes
  CHECK(copy == k);
  copy = session_entry_key("short", 1);
  CHECK(copy.view() == session_entry_key("short", 1).view());
  CHECK(k.view().substr(0, 300) == long_id);
}

TEST_CASE("records: append_* write the encode* bytes after what the buffer holds", "[store][records]") {
  MessageView m;
  m.id = 42;
  m.topic = "a/b";
  m.payload = "payload";
  m.qos = 1;
  m.user_properties.emplace_back("k", "v");
  StoredEntry e;
  e.msg_id = 42;
  e.qos = 1;
  e.subscription_ids = {3, 4};
  std::string out = "prefix";
  append_message(out, m);
  CHECK(out == "prefix" + encode_message(m));
  out = "p";
  append_entry(out, e);
  CHECK(out == "p" + encode(e));
  out = "p";
  append_entry_inline(out, e, m);
  CHECK(out == "p" + encode_entry_inline(e, m));
  out = "p";
  append_queue_entry(out, 3, m);
  CHECK(out == "p" + encode_queue_entry(3, m));
}

TEST_CASE("store: a Batch keeps every op's key and value in order across its buffer's regrowth", "[store]") {
  Batch b;
  std::vector<std::pair<std::string, std::string>> want;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key-" + std::to_string(i);
    if (i % 3 == 0) {
      b.erase(Table::SessionEntries, key);
      want.emplace_back(key, "");
    } else if (i % 3 == 1) {
      const std::string value(static_cast<std::size_t>(i % 97), static_cast<char>('a' + i % 26));
      b.put(Table::Messages, key, value);
      want.emplace_back(key, value);
    } else {
      b.put_with(Table::QueueEntries, key, [&](std::string& out) { out.append("v" + std::to_string(i)); });
      want.emplace_back(key, "v" + std::to_string(i));
    }
  }
  REQUIRE(b.size() == want.size());
  std::size_t bytes = 0;
  std::size_t i = 0;
  for (const Op& op : b.ops()) {
    CHECK(op.key == want[i].first);
    CHECK(op.value == want[i].second);
    CHECK(op.erase == (i % 3 == 0));
    CHECK(op.table == (i % 3 == 0 ? Table::SessionEntries : i % 3 == 1 ? Table::Messages : Table::QueueEntries));
    bytes += op.key.size() + op.value.size();
    ++i;
  }
  CHECK(i == want.size());
  CHECK(b.bytes() == bytes);
  Batch moved = std::move(b);
  CHECK(moved.ops()[1].key == "key-1");
  moved.clear();
  CHECK(moved.empty());
  CHECK(moved.bytes() == 0);
}
