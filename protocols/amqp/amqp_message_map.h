// Core Message <-> AMQP basic properties (README "Names across protocols").
//
//   core                          AMQP
//   content_type             <->  content-type
//   correlation_data         <->  correlation-id (when it fits in 255 octets)
//   response_topic  a/b      <->  reply-to a.b (name mapping of amqp_name_map.h)
//   expiry (remaining ms)    <->  expiration (decimal ms)
//   user property message-id <->  message-id (outbound: a stable id is made
//                                 when there is none: <node>:<created ms>:<id>)
//   created_ms               ->   timestamp (s); inbound timestamp -> user property "timestamp"
//   QoS >= 1                 ->   delivery-mode 2 (persistent), QoS 0 -> 1
//   other user properties    <->  headers (strings; inbound scalars as text)
//   origin node              ->   header x-junction-origin (loop prevention)
#pragma once

#include <string>

#include "amqp_codec.h"
#include "message.h"

namespace junction::amqp {

inline constexpr std::string_view kOriginHeader = "x-junction-origin";

// Stable across resends and restarts: the message's id and creation time are stored with it.
std::string stable_message_id(const core::Message& m, std::string_view node_id);

BasicProperties to_amqp_properties(const core::Message& m, std::string_view node_id, std::int64_t now_wall_ms);

// Fills `m`'s properties and expiry from an AMQP delivery's properties.
void from_amqp_properties(const BasicProperties& p, core::Message& m, std::int64_t now_wall_ms);

// The origin node a delivery carries ("" if none).
std::string origin_of(const BasicProperties& p);

}  // namespace junction::amqp
