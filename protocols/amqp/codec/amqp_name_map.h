// junction::amqp name mapping between core topics and AMQP routing keys
// (README "Names across protocols"). Pure and lossless in the topic -> key -> topic direction:
//
//   topic  a/b/c     <->  routing key  a.b.c      ('/' <-> '.')
//   filter a/+/#     <->  binding key  a.*.#      ('+' <-> '*', '#' <-> '#')
//
// Characters that mean something in a routing key are escaped inside a level
// with '%' and two upper-case hex digits: '.' -> %2E, '%' -> %25, '*' -> %2A,
// '#' -> %23. Only these four sequences are decoded (either hex case); any
// other '%' is literal. So the topic "a.b/c" becomes "a%2Eb.c" and comes back
// as "a.b/c" (RabbitMQ's MQTT plugin would make it three levels). Keys from
// other AMQP publishers map word for word: a '/' inside a word becomes a
// level separator there.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace junction::amqp {

inline constexpr std::size_t kMaxRoutingKey = 255;  // shortstr

// Topic name -> routing key; nullopt if the key would be over 255 octets.
std::optional<std::string> topic_to_routing_key(std::string_view topic);
// Topic filter -> binding key ('+' -> '*', '#' -> '#').
std::optional<std::string> filter_to_binding_key(std::string_view filter);
// Routing key -> topic name.
std::string routing_key_to_topic(std::string_view key);
// Binding key -> topic filter ('*' -> '+', '#' -> '#').
std::string binding_key_to_filter(std::string_view key);

// Outbound routing-key template: "{topic}" is replaced by the mapped topic
// (e.g. "site1.{topic}"); nullopt if the result is over 255 octets.
std::optional<std::string> expand_routing_key(std::string_view tmpl, std::string_view mapped_topic);

}  // namespace junction::amqp
