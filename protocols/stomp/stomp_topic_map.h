// junction::stomp topic map — pure translations between STOMP and the core
// (STYLE 6): destinations, and the headers of SEND / MESSAGE frames versus a
// core Message's properties. No I/O, no broker; the unit tests drive it.
//
// Destinations (docs/STOMP.md):
//   /topic/<t>        core topic t; SUBSCRIBE may use + and # (and $share/g/f)
//   /queue/<n>        core queue n (published as topic "$queue/<n>")
//   /temp-queue/<n>   queue private to one connection: core queue
//                     "tmp.<owner>.<n>", owner = the connection's session id.
//                     Other connections reach it as /queue/tmp.<owner>.<n>
//                     (which is what reply-to shows them).
// Anything else, an empty name, a wildcard where a name is needed, or a
// /topic/$queue/... alias is an error.
//
// Headers, SEND -> Message (first occurrence wins for STOMP's own headers;
// every occurrence of a user header is kept, in order):
//   content-type                  props.content_type
//   correlation-id                props.correlation_data; with
//   correlation-id-encoding:base64  the value is base64 of the bytes
//   reply-to                      props.response_topic (destination -> core name)
//   expires                       expiry_ms (ms since the epoch; 0 = never)
//   qos                           Message::qos (0, 1, 2; default 1)
//   retain                        Message::retain ("true" / "false")
//   other reserved names          ignored (framing, routing, server-side names)
//   x-user-<name>                 user property <name> (the escape, see below)
//   any other <name>              user property <name>
// Message -> MESSAGE: the reverse, plus qos always; correlation data that is
// not printable UTF-8 (control characters or invalid UTF-8) goes out base64
// with `correlation-id-encoding: base64`.
//
// User property names are escaped reversibly: a name that is a reserved
// STOMP header name, is empty, or already starts with "x-user-" is sent as
// "x-user-" + name; SEND strips exactly one "x-user-" prefix. So
// destination -> x-user-destination -> destination, and
// x-user-a -> x-user-x-user-a -> x-user-a.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "message.h"
#include "stomp_codec.h"

namespace junction::stomp {

// ---- destinations ----------------------------------------------------------

enum class DestKind : std::uint8_t { Topic, Queue, TempQueue };

// What the destination is used for: the rules differ (wildcards only when
// subscribing).
enum class DestUse : std::uint8_t { Send, Subscribe, ReplyTo };

struct Destination {
  DestKind kind = DestKind::Topic;
  std::string_view name;  // topic / filter, queue name, or temp-queue name (view into the input)
};

inline constexpr std::string_view kTopicPrefix = "/topic/";
inline constexpr std::string_view kQueuePrefix = "/queue/";
inline constexpr std::string_view kTempQueuePrefix = "/temp-queue/";
inline constexpr std::string_view kCoreQueuePrefix = "$queue/";  // core::kQueueTopicPrefix
inline constexpr std::string_view kTempQueueCorePrefix = "tmp.";

// Parses a destination header. Returns null on success, else a short static
// reason for the ERROR frame.
const char* parse_destination(std::string_view dest, DestUse use, Destination& out);

// Core queue name of a temporary queue: "tmp.<owner>.<name>". Empty if it
// would be longer than a queue name may be.
std::string temp_queue_name(std::string_view owner, std::string_view name);

// The core name a parsed destination stands for: the topic or filter, the
// queue name, or the temp queue's core queue name (may be empty, see above).
std::string core_queue_name(const Destination& d, std::string_view owner);

// True if `queue` is a temporary queue of a connection other than `owner`.
bool is_foreign_temp_queue(std::string_view queue, std::string_view owner);

// Appends the STOMP destination for a core topic name: "$queue/<n>" is
// /queue/<n>, except the owner's own temp queues, which are /temp-queue/<n>;
// everything else is /topic/<t>. `owner` may be empty.
void append_destination(std::string_view core_topic, std::string_view owner, std::string& out);

// The core topic a parsed Send/ReplyTo destination publishes to: t, or
// "$queue/<name>" for queues and temp queues. Empty if the temp queue name
// is too long.
std::string publish_topic(const Destination& d, std::string_view owner);

// ---- header escaping (1.0 raw, 1.1, 1.2) ----------------------------------

enum class HeaderEscape : std::uint8_t { None, V11, V12 };
HeaderEscape header_escape(Version v);

// Appends "name:value\n" escaped for the version. Returns false and appends
// nothing when the pair cannot be written so that it parses back the same
// (1.0: LF anywhere or ':' in the name; 1.0 and 1.1: a trailing CR; any
// version: NUL; an empty name).
bool append_header(std::string_view name, std::string_view value, HeaderEscape e, std::string& out);

// ---- header mapping --------------------------------------------------------

// STOMP's own header names (sorted): never user properties.
bool is_reserved_header(std::string_view name);

inline constexpr std::string_view kUserPrefix = "x-user-";

// User property name -> STOMP header name, and back.
void append_user_header_name(std::string_view property, std::string& out);
std::string_view user_property_name(std::string_view header);  // strips one "x-user-"

// Correlation data on the wire.
bool printable_utf8(std::string_view bytes);

// SEND headers -> message fields (topic and payload are the caller's).
// Returns null, or a static reason for an ERROR frame. `owner` resolves
// reply-to /temp-queue/ names.
const char* apply_send_headers(std::span<const Header> headers, std::string_view owner, core::Message& m);

// The MESSAGE header lines that depend only on the message: the destination
// of topic messages (queue deliveries name their subscription's
// destination instead), the mapped properties, qos, and content-length,
// then the blank line that ends the headers. Headers that cannot be encoded
// in this version are left out (and counted in `dropped` when given).
void append_message_headers(const core::Message& m, HeaderEscape e, std::string_view owner, std::string& out,
                            std::size_t* dropped = nullptr);

// True if the shared MESSAGE headers of `m` read differently for `owner`
// than for everyone else (its reply-to is one of owner's temp queues).
bool headers_depend_on_owner(const core::Message& m, std::string_view owner);

}  // namespace junction::stomp
