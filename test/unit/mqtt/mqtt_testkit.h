// Helpers shared by the MQTT codec unit tests and the fuzz target
// (test/fuzz/fuzz_mqtt_decoder.cpp). No Catch2 here, so the fuzzer can use
// it: comparisons return the name of the first differing field, or nullptr.
//
// Golden packets below are written by hand from the OASIS specs (not
// produced by our encoder), with properties in ascending identifier order so
// that our canonical encoder must reproduce them byte for byte.
#pragma once

#include "mqtt_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace mqtt_testkit {

using namespace junction::mqtt;

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  out.reserve(v.size());
  for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline ByteSpan span(const Bytes& b) { return {b.data(), b.size()}; }
inline ByteSpan span(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
inline ByteSpan span(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
inline Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
inline std::string as_string(ByteSpan b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

inline bool same(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}
inline bool same(const std::optional<ByteSpan>& a, const std::optional<ByteSpan>& b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

// ---- comparisons ----------------------------------------------------------------

#define MQTT_TESTKIT_FIELD(f) \
  if (!(a.f == b.f)) return #f

inline const char* diff(const Properties& a, const Properties& b) {
  MQTT_TESTKIT_FIELD(payload_format_indicator);
  MQTT_TESTKIT_FIELD(message_expiry_interval);
  MQTT_TESTKIT_FIELD(content_type);
  MQTT_TESTKIT_FIELD(response_topic);
  MQTT_TESTKIT_FIELD(correlation_data);
  MQTT_TESTKIT_FIELD(subscription_identifiers);
  MQTT_TESTKIT_FIELD(session_expiry_interval);
  MQTT_TESTKIT_FIELD(assigned_client_identifier);
  MQTT_TESTKIT_FIELD(server_keep_alive);
  MQTT_TESTKIT_FIELD(authentication_method);
  MQTT_TESTKIT_FIELD(authentication_data);
  MQTT_TESTKIT_FIELD(request_problem_information);
  MQTT_TESTKIT_FIELD(will_delay_interval);
  MQTT_TESTKIT_FIELD(request_response_information);
  MQTT_TESTKIT_FIELD(response_information);
  MQTT_TESTKIT_FIELD(server_reference);
  MQTT_TESTKIT_FIELD(reason_string);
  MQTT_TESTKIT_FIELD(receive_maximum);
  MQTT_TESTKIT_FIELD(topic_alias_maximum);
  MQTT_TESTKIT_FIELD(topic_alias);
  MQTT_TESTKIT_FIELD(maximum_qos);
  MQTT_TESTKIT_FIELD(retain_available);
  if (a.user_properties.size() != b.user_properties.size()) return "user_properties.size";
  for (std::size_t i = 0; i < a.user_properties.size(); ++i) {
    if (a.user_properties[i].name != b.user_properties[i].name) return "user_properties.name";
    if (a.user_properties[i].value != b.user_properties[i].value) return "user_properties.value";
  }
  MQTT_TESTKIT_FIELD(maximum_packet_size);
  MQTT_TESTKIT_FIELD(wildcard_subscription_available);
  MQTT_TESTKIT_FIELD(subscription_identifier_available);
  MQTT_TESTKIT_FIELD(shared_subscription_available);
  return nullptr;
}

// protocol_name is not compared: encode_connect derives it from the version.
inline const char* diff(const Connect& a, const Connect& b) {
  MQTT_TESTKIT_FIELD(version);
  MQTT_TESTKIT_FIELD(clean_start);
  MQTT_TESTKIT_FIELD(keep_alive);
  MQTT_TESTKIT_FIELD(client_id);
  MQTT_TESTKIT_FIELD(will.has_value());
  if (a.will) {
    if (a.will->topic != b.will->topic) return "will.topic";
    if (!same(a.will->payload, b.will->payload)) return "will.payload";
    if (a.will->qos != b.will->qos) return "will.qos";
    if (a.will->retain != b.will->retain) return "will.retain";
    if (const char* d = diff(a.will->properties, b.will->properties)) return d;
  }
  MQTT_TESTKIT_FIELD(username);
  if (!same(a.password, b.password)) return "password";
  return diff(a.properties, b.properties);
}

inline const char* diff(const Connack& a, const Connack& b) {
  MQTT_TESTKIT_FIELD(session_present);
  MQTT_TESTKIT_FIELD(code);
  return diff(a.properties, b.properties);
}

inline const char* diff(const Publish& a, const Publish& b) {
  MQTT_TESTKIT_FIELD(dup);
  MQTT_TESTKIT_FIELD(qos);
  MQTT_TESTKIT_FIELD(retain);
  MQTT_TESTKIT_FIELD(topic);
  MQTT_TESTKIT_FIELD(packet_id);
  if (!same(a.payload, b.payload)) return "payload";
  return diff(a.properties, b.properties);
}

inline const char* diff(const Ack& a, const Ack& b) {
  MQTT_TESTKIT_FIELD(type);
  MQTT_TESTKIT_FIELD(packet_id);
  MQTT_TESTKIT_FIELD(reason);
  return diff(a.properties, b.properties);
}

inline const char* diff(const Subscribe& a, const Subscribe& b) {
  MQTT_TESTKIT_FIELD(packet_id);
  MQTT_TESTKIT_FIELD(topics.size());
  for (std::size_t i = 0; i < a.topics.size(); ++i) {
    const SubscribeTopic& x = a.topics[i];
    const SubscribeTopic& y = b.topics[i];
    if (x.filter != y.filter) return "topics.filter";
    if (x.qos != y.qos) return "topics.qos";
    if (x.no_local != y.no_local) return "topics.no_local";
    if (x.retain_as_published != y.retain_as_published) return "topics.retain_as_published";
    if (x.retain_handling != y.retain_handling) return "topics.retain_handling";
  }
  return diff(a.properties, b.properties);
}

inline const char* diff(const SubAck& a, const SubAck& b) {
  MQTT_TESTKIT_FIELD(type);
  MQTT_TESTKIT_FIELD(packet_id);
  MQTT_TESTKIT_FIELD(codes);
  return diff(a.properties, b.properties);
}

inline const char* diff(const Unsubscribe& a, const Unsubscribe& b) {
  MQTT_TESTKIT_FIELD(packet_id);
  MQTT_TESTKIT_FIELD(filters);
  return diff(a.properties, b.properties);
}

inline const char* diff(const Disconnect& a, const Disconnect& b) {
  MQTT_TESTKIT_FIELD(reason);
  return diff(a.properties, b.properties);
}

inline const char* diff(const Auth& a, const Auth& b) {
  MQTT_TESTKIT_FIELD(reason);
  return diff(a.properties, b.properties);
}

#undef MQTT_TESTKIT_FIELD

// ---- framing ------------------------------------------------------------------

// Frames exactly one packet that must span all of `wire`.
inline bool frame_whole(ByteSpan wire, Frame& f) {
  MqttFrameParser parser;
  Status st;
  return parser.next(wire, f, st) == FrameResult::Frame && f.total_size == wire.size();
}

// ---- round trip -----------------------------------------------------------------

struct RoundTrip {
  Status first;                  // result of decoding the input frame
  const char* problem = nullptr;  // set when the decoded packet does not survive encode -> decode
  std::string encoded;           // our encoding of the first decode
};

// decode -> encode -> frame -> decode -> compare, then encode again and
// require the same bytes (the encoder's output is canonical).
template <class T, class Dec, class Enc>
RoundTrip round_trip_as(const Frame& f, Dec dec, Enc enc) {
  RoundTrip res;
  T a{};
  res.first = dec(f, a);
  if (!res.first.ok()) return res;
  enc(a, res.encoded);
  Frame g;
  if (!frame_whole(span(res.encoded), g)) {
    res.problem = "re-encoded packet does not frame";
    return res;
  }
  T b{};
  if (!dec(g, b).ok()) {
    res.problem = "re-encoded packet does not decode";
    return res;
  }
  if (const char* d = diff(a, b)) {
    res.problem = d;
    return res;
  }
  std::string again;
  enc(b, again);
  if (again != res.encoded) res.problem = "encoding is not stable";
  return res;
}

// Decodes `f` as `v` with the decoder its type calls for. PINGREQ/PINGRESP
// have no decoder; they round-trip through their encoders.
inline RoundTrip round_trip(const Frame& f, Version v) {
  switch (f.type) {
    case PacketType::Connect:
      return round_trip_as<Connect>(f, [](const Frame& x, Connect& o) { return decode_connect(x, o); },
                                    [](const Connect& c, std::string& o) { encode_connect(c, o); });
    case PacketType::Connack:
      return round_trip_as<Connack>(f, [v](const Frame& x, Connack& o) { return decode_connack(x, v, o); },
                                    [v](const Connack& c, std::string& o) { encode_connack(v, c, o); });
    case PacketType::Publish:
      return round_trip_as<Publish>(f, [v](const Frame& x, Publish& o) { return decode_publish(x, v, o); },
                                    [v](const Publish& c, std::string& o) { encode_publish(v, c, o); });
    case PacketType::Puback:
    case PacketType::Pubrec:
    case PacketType::Pubrel:
    case PacketType::Pubcomp:
      return round_trip_as<Ack>(f, [v](const Frame& x, Ack& o) { return decode_ack(x, v, o); },
                                [v](const Ack& c, std::string& o) { encode_ack(v, c, o); });
    case PacketType::Subscribe:
      return round_trip_as<Subscribe>(f, [v](const Frame& x, Subscribe& o) { return decode_subscribe(x, v, o); },
                                      [v](const Subscribe& c, std::string& o) { encode_subscribe(v, c, o); });
    case PacketType::Suback:
    case PacketType::Unsuback:
      return round_trip_as<SubAck>(f, [v](const Frame& x, SubAck& o) { return decode_suback(x, v, o); },
                                   [v](const SubAck& c, std::string& o) { encode_suback(v, c, o); });
    case PacketType::Unsubscribe:
      return round_trip_as<Unsubscribe>(
          f, [v](const Frame& x, Unsubscribe& o) { return decode_unsubscribe(x, v, o); },
          [v](const Unsubscribe& c, std::string& o) { encode_unsubscribe(v, c, o); });
    case PacketType::Disconnect:
      return round_trip_as<Disconnect>(f, [v](const Frame& x, Disconnect& o) { return decode_disconnect(x, v, o); },
                                       [v](const Disconnect& c, std::string& o) { encode_disconnect(v, c, o); });
    case PacketType::Auth:
      return round_trip_as<Auth>(f, [v](const Frame& x, Auth& o) { return decode_auth(x, v, o); },
                                 [](const Auth& c, std::string& o) { encode_auth(c, o); });
    case PacketType::Pingreq:
    case PacketType::Pingresp: {
      RoundTrip res;
      if (f.type == PacketType::Pingreq)
        encode_pingreq(res.encoded);
      else
        encode_pingresp(res.encoded);
      Frame g;
      if (!frame_whole(span(res.encoded), g) || g.type != f.type || !g.body.empty()) res.problem = "ping";
      return res;
    }
  }
  RoundTrip res;
  res.problem = "unknown packet type";
  return res;
}

// ---- golden packets --------------------------------------------------------------

struct Golden {
  const char* name;
  Version version;
  Bytes wire;
};

inline std::vector<Golden> goldens() {
  std::vector<Golden> g;
  // 3.1.1 CONNECT, clean session, keep alive 60, client id "abc".
  g.push_back({"v311 connect", Version::V311,
               bytes({0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x03, 'a', 'b', 'c'})});
  // 3.1 CONNECT with will (QoS 1, retain), user name and password: flags 0xEE.
  g.push_back({"v31 connect with will", Version::V31,
               bytes({0x10, 0x21, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0xEE, 0x00, 0x0A,
                      0x00, 0x02, 'c', '1',            // client id
                      0x00, 0x03, 'w', '/', 't',       // will topic
                      0x00, 0x03, 'b', 'y', 'e',       // will payload
                      0x00, 0x01, 'u',                 // user name
                      0x00, 0x02, 'p', 'w'})});        // password
  // 5.0 CONNECT: session expiry 10, receive maximum 20, user property k=v, empty client id.
  g.push_back({"v5 connect with properties", Version::V5,
               bytes({0x10, 0x1C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x1E,
                      0x0F,                                      // property length
                      0x11, 0x00, 0x00, 0x00, 0x0A,              // session expiry interval
                      0x21, 0x00, 0x14,                          // receive maximum
                      0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',    // user property
                      0x00, 0x00})});                            // client id ""
  // 5.0 CONNECT with will properties: payload format 1, will delay 5.
  g.push_back({"v5 connect with will properties", Version::V5,
               bytes({0x10, 0x1D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x00,
                      0x00,                                      // property length
                      0x00, 0x01, 'x',                           // client id
                      0x07, 0x01, 0x01, 0x18, 0x00, 0x00, 0x00, 0x05,  // will properties
                      0x00, 0x01, 't',                           // will topic
                      0x00, 0x02, 'h', 'i'})});                  // will payload
  g.push_back({"v311 connack session present", Version::V311, bytes({0x20, 0x02, 0x01, 0x00})});
  // 5.0 CONNACK: maximum QoS 1, retain available 0.
  g.push_back({"v5 connack", Version::V5, bytes({0x20, 0x07, 0x00, 0x00, 0x04, 0x24, 0x01, 0x25, 0x00})});
  g.push_back({"v311 publish qos0", Version::V311,
               bytes({0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o'})});
  g.push_back({"v311 publish qos1 retain", Version::V311, bytes({0x33, 0x06, 0x00, 0x01, 't', 0x00, 0x0A, 'x'})});
  // 5.0 PUBLISH QoS 2, DUP: payload format 1, content type "js", topic alias 5.
  g.push_back({"v5 publish qos2 with properties", Version::V5,
               bytes({0x3C, 0x14, 0x00, 0x03, 't', '/', '1', 0x12, 0x34,
                      0x0A, 0x01, 0x01, 0x03, 0x00, 0x02, 'j', 's', 0x23, 0x00, 0x05,
                      '{', '}'})});
  g.push_back({"v311 puback", Version::V311, bytes({0x40, 0x02, 0x00, 0x0A})});
  g.push_back({"v5 puback no matching subscribers", Version::V5, bytes({0x40, 0x03, 0x00, 0x0A, 0x10})});
  g.push_back({"v5 pubrec with reason string", Version::V5,
               bytes({0x50, 0x0A, 0x00, 0x0B, 0x80, 0x06, 0x1F, 0x00, 0x03, 'b', 'a', 'd'})});
  g.push_back({"v311 pubrel", Version::V311, bytes({0x62, 0x02, 0x00, 0x0A})});
  g.push_back({"v5 pubcomp", Version::V5, bytes({0x70, 0x02, 0x00, 0x0B})});
  g.push_back({"v311 subscribe", Version::V311, bytes({0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', '+', 0x01})});
  // 5.0 SUBSCRIBE: subscription identifier 7; options QoS 2, no local, RAP, retain handling 1.
  g.push_back({"v5 subscribe", Version::V5,
               bytes({0x82, 0x0B, 0x00, 0x02, 0x02, 0x0B, 0x07, 0x00, 0x03, 'a', '/', '#', 0x1E})});
  g.push_back({"v311 suback", Version::V311, bytes({0x90, 0x04, 0x00, 0x01, 0x01, 0x80})});
  g.push_back({"v5 suback", Version::V5, bytes({0x90, 0x04, 0x00, 0x02, 0x00, 0x02})});
  g.push_back({"v311 unsubscribe", Version::V311, bytes({0xA2, 0x05, 0x00, 0x03, 0x00, 0x01, 'x'})});
  g.push_back({"v311 unsuback", Version::V311, bytes({0xB0, 0x02, 0x00, 0x03})});
  g.push_back({"v5 unsuback", Version::V5, bytes({0xB0, 0x04, 0x00, 0x03, 0x00, 0x11})});
  g.push_back({"pingreq", Version::V311, bytes({0xC0, 0x00})});
  g.push_back({"pingresp", Version::V5, bytes({0xD0, 0x00})});
  g.push_back({"v311 disconnect", Version::V311, bytes({0xE0, 0x00})});
  g.push_back({"v5 disconnect with will", Version::V5, bytes({0xE0, 0x07, 0x04, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00})});
  g.push_back({"v5 auth empty", Version::V5, bytes({0xF0, 0x00})});
  g.push_back({"v5 auth continue", Version::V5,
               bytes({0xF0, 0x0A, 0x18, 0x08, 0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M'})});
  // 203-byte body: a two-byte remaining length (0xCB 0x01).
  {
    Bytes big = bytes({0x30, 0xCB, 0x01, 0x00, 0x01, 't'});
    big.insert(big.end(), 200, 'p');
    g.push_back({"v311 publish with two-byte length", Version::V311, big});
  }
  return g;
}

}  // namespace mqtt_testkit
