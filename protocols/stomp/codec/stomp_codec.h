// junction::stomp — pure STOMP 1.0 / 1.1 / 1.2 codec. No I/O, no exceptions,
// no allocation per frame once the parser's and the frame's buffers are warm.
//
// Parsing (StompFrameParser::next) is a push parser, as in NATS' parse(buf):
// the connection appends what it read to its own buffer and calls next() with
// the unconsumed bytes. Each call answers one of
//   NeedMore   nothing complete yet; call again with the same bytes plus more
//   Frame      `out` holds one frame; consume out.total_size bytes
//   Heartbeat  one EOL ("\n" or "\r\n") outside a frame; consume
//              out.total_size (1 or 2) bytes; the peer is alive
//   Error      `status` names the problem (Reason); close after an ERROR frame
// Limits (StompLimits) are checked against the bytes already shown, before the
// caller is asked to buffer more: a frame whose end is not within
// max_frame_size bytes fails as soon as that many bytes are present, and a
// content-length that cannot fit fails as soon as the header block ends.
//
// Wire rules and the choices made where the specs are silent or loose:
//  - Frame = command EOL *(header EOL) EOL body NUL. A frame ends at its NUL
//    (total_size includes the NUL). The EOLs the grammar allows after the NUL
//    ("NULL *(EOL)", 1.2) are reported as Heartbeat results: they carry no
//    data, and reporting them separately keeps the result sequence the same
//    however the stream is split into reads.
//  - EOL is LF or CR LF in every version. 1.2 defines CR LF; the version is
//    unknown while CONNECT is parsed, and 1.0/1.1 peers in the wild send CR LF
//    too. One CR before the LF is stripped; other CRs are data. A CR not
//    followed by LF where a heart-beat or frame would start is an error.
//  - Commands are case-sensitive. All 15 commands parse in every version
//    (STOMP and NACK are 1.1+, but the version is 1.0 until CONNECTED, and
//    server frames are parsed by tests and the load generator); the session
//    decides which commands it accepts.
//  - Header lines are split at the first ':'; a line without ':' is
//    MissingColon and an empty name is EmptyHeaderName in every version (the
//    1.0 text shows only name:value lines; 1.1/1.2 grammar requires a name).
//    A raw ':' inside a value is accepted (1.1/1.2 want it escaped as \c;
//    brokers accept it). Nothing is trimmed (1.1+: whitespace is significant;
//    1.0 does not say, and trimming would be lossy).
//  - Escapes (1.1: \n \c \\; 1.2 adds \r) are decoded in names and values
//    except in CONNECT, STOMP and CONNECTED frames, which are never escaped
//    (1.2 "Value Encoding"; STOMP is CONNECT's other name). Any other
//    backslash sequence, or a trailing backslash, is InvalidEscape. 1.0 has no
//    escaping: backslashes are data.
//  - Repeated headers are all kept in wire order; StompFrame::header() returns
//    the first, which is the one that counts (1.2 "Repeated Header Entries").
//    The first content-length decides the body length.
//  - content-length must be 1..18 ASCII digits (leading zeros allowed);
//    anything else is BadContentLength. The byte after the counted body must
//    be NUL (MissingNul). Without content-length the body ends at the first NUL.
//  - Only SEND, MESSAGE and ERROR may carry a body; a non-empty body (or
//    content-length > 0) on any other frame is BodyNotAllowed.
//
// Lifetime: header views point into the buffer given to next() or, for
// unescaped values, into the StompFrame's own scratch buffer. They stay valid
// until that buffer changes or the StompFrame receives its next result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::stomp {

using ByteSpan = std::span<const std::uint8_t>;

inline ByteSpan bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

enum class Version : std::uint8_t { V1_0 = 10, V1_1 = 11, V1_2 = 12 };

// "1.0", "1.1", "1.2".
std::string_view version_string(Version v);

enum class Command : std::uint8_t {
  // client frames
  Connect, Stomp, Send, Subscribe, Unsubscribe, Ack, Nack, Begin, Commit, Abort, Disconnect,
  // server frames
  Connected, Message, Receipt, Error,
};

std::string_view command_name(Command c);                         // "SEND", ...
std::optional<Command> command_from_name(std::string_view name);  // exact, case-sensitive
bool command_allows_body(Command c);                              // SEND, MESSAGE, ERROR
bool command_is_client(Command c);                                // CONNECT .. DISCONNECT

// Why a step failed. Every limit and every malformed case has its own reason,
// so the front-end can name it in the ERROR frame's `message` header.
enum class Reason : std::uint8_t {
  Ok = 0,
  // malformed input (parser)
  UnknownCommand,    // command line is not one of the 15 commands
  BadLineEnding,     // CR not followed by LF where a frame or heart-beat starts
  MissingColon,      // header line without ':'
  EmptyHeaderName,   // header line starting with ':'
  InvalidEscape,     // undefined escape sequence (1.1/1.2)
  BadContentLength,  // content-length not 1..18 digits
  MissingNul,        // byte after content-length bytes of body is not NUL
  BodyNotAllowed,    // body on a frame other than SEND / MESSAGE / ERROR
  // limits (StompLimits)
  CommandTooLong,     // max_command_length
  HeaderLineTooLong,  // max_header_line
  TooManyHeaders,     // max_headers
  FrameTooLarge,      // max_frame_size
  // session helpers
  UnsupportedVersion,  // negotiate_version: no common version
  BadHeartBeat,        // parse_heart_beat: not "<digits>,<digits>"
  // encoder
  Unencodable,  // a header or body cannot be represented in this version/frame
};

// Short stable text for logs and ERROR frames, e.g. "frame too large".
const char* reason_name(Reason r);
// True for the four StompLimits reasons.
bool is_limit(Reason r);

struct Status {
  Reason reason = Reason::Ok;
  const char* what = nullptr;  // static detail text; null when ok
  bool ok() const { return reason == Reason::Ok; }
  static Status error(Reason r, const char* w) { return Status{r, w}; }
};

// Sizes are in wire bytes (before unescaping), excluding line ends.
struct StompLimits {
  std::size_t max_frame_size = 4u * 1024u * 1024u;  // command + headers + body + NUL
  std::size_t max_headers = 256;                    // header lines per frame (repeats count)
  std::size_t max_header_line = 16u * 1024u;        // one "name:value" line
  std::size_t max_command_length = 32;              // the command line
};

struct Header {
  std::string_view name;
  std::string_view value;
};

// One parsed frame. Not copyable: its views may point into its own scratch
// buffer. Reuse one object per connection so buffers are allocated once.
class StompFrame {
 public:
  Command command = Command::Send;
  std::vector<Header> headers;  // every header line, decoded, in wire order
  ByteSpan body;                // view into the parsed buffer
  std::size_t total_size = 0;   // bytes to consume (Frame: through the NUL; Heartbeat: 1 or 2)

  StompFrame() = default;
  StompFrame(const StompFrame&) = delete;
  StompFrame& operator=(const StompFrame&) = delete;

  // Value of the first header named `name` (exact, case-sensitive), or null.
  const std::string_view* header(std::string_view name) const;
  std::string_view body_view() const {
    return {reinterpret_cast<const char*>(body.data()), body.size()};
  }
  void clear();

 private:
  friend class StompFrameParser;
  std::string scratch_;  // decoded names/values of escaped headers
};

enum class ParseResult : std::uint8_t { NeedMore, Frame, Heartbeat, Error };

class StompFrameParser {
 public:
  explicit StompFrameParser(StompLimits limits = {}, Version v = Version::V1_0)
      : limits_(limits), version_(v) {}

  // Escaping depends on the version: parse with 1.0 until CONNECTED was sent
  // (or received), then set the negotiated one. Forgets partial progress.
  void set_version(Version v);
  Version version() const { return version_; }
  void set_limits(const StompLimits& l);  // forgets partial progress
  const StompLimits& limits() const { return limits_; }

  // `buf` starts at the first unconsumed byte. After NeedMore, call again
  // with the same bytes (they may have moved) plus any new ones: the parser
  // remembers how far it scanned, so a long frame is scanned once. A shorter
  // buffer than before restarts the scan. After Error the parser is reset.
  ParseResult next(ByteSpan buf, StompFrame& out, Status& status);

  // Drops partial progress (e.g. after the caller discarded its buffer).
  void reset();

 private:
  enum class Phase : std::uint8_t { Start, Command, Headers, Body };
  struct Slot {  // one header line, offsets from the frame start
    std::size_t name_off, name_len, value_off, value_len;
    bool name_escaped, value_escaped;
  };

  ParseResult fail(Status& status, Reason r, const char* what);
  ParseResult need_more(Status& status, bool truncated);
  Status add_header(const std::uint8_t* p, std::size_t start, std::size_t end);
  Status start_body(const std::uint8_t* p, std::size_t header_end);
  ParseResult complete(ByteSpan buf, StompFrame& out, std::size_t body_len, std::size_t total);

  StompLimits limits_;
  Version version_;
  Phase phase_ = Phase::Start;
  std::size_t pos_ = 0;         // next byte to scan in the current phase
  std::size_t line_start_ = 0;  // start of the line being read
  std::size_t header_end_ = 0;  // first body byte
  std::size_t content_length_ = 0;
  bool has_content_length_ = false;
  bool escaped_ = false;  // this frame's headers use escapes
  Command command_ = Command::Send;
  std::vector<Slot> slots_;
};

// ---- encoding ---------------------------------------------------------------

// Appends one frame to `out`: command, headers in the given order (escaped as
// `v` and the command require), blank line, body, NUL. With
// `add_content_length` (always for MESSAGE) any content-length in `headers`
// is dropped and a correct one is appended after them. Otherwise a
// content-length in `headers` must equal the body size, and a body containing
// NUL needs one. Fails with Unencodable, leaving `out` unchanged, when the
// frame cannot be written so that it parses back to the same thing: an empty
// header name; a body on a frame that allows none; in unescaped frames (1.0,
// CONNECT, STOMP, CONNECTED) LF anywhere or ':' in a name; and, except under
// 1.2 escaping, a value ending in CR (the parser strips one CR before LF).
Status encode_frame(Command cmd, std::span<const Header> headers, ByteSpan body, Version v, std::string& out,
                    bool add_content_length = false);
inline Status encode_frame(Command cmd, std::initializer_list<Header> headers, ByteSpan body, Version v,
                           std::string& out, bool add_content_length = false) {
  return encode_frame(cmd, std::span<const Header>(headers.begin(), headers.size()), body, v, out,
                      add_content_length);
}

// A heart-beat: one LF.
void encode_heartbeat(std::string& out);

// ---- session helpers -------------------------------------------------------

inline constexpr Version kAllVersions[] = {Version::V1_0, Version::V1_1, Version::V1_2};

// Picks the highest version in both the client's accept-version list
// ("1.0,1.1,1.2"; spaces around items are ignored, unknown items skipped) and
// `supported`. No header (nullopt) means the client speaks only 1.0.
// UnsupportedVersion when nothing is common; answer with an ERROR frame whose
// `version` header is append_versions(supported).
Status negotiate_version(std::optional<std::string_view> accept_version, std::span<const Version> supported,
                         Version& out);
// Appends "1.0,1.1,1.2" (the given versions, comma-separated).
void append_versions(std::span<const Version> versions, std::string& out);

// heart-beat header "<cx>,<cy>": milliseconds; 0 means "none".
// CONNECT: cx = client's send guarantee, cy = what it wants to receive.
// CONNECTED: cx = server's send guarantee, cy = what it wants to receive.
struct HeartBeat {
  std::uint32_t cx = 0;
  std::uint32_t cy = 0;
  bool operator==(const HeartBeat&) const = default;
};
// Digits, ',' digits; spaces around the numbers are ignored; each number must
// fit 32 bits. Anything else is BadHeartBeat.
Status parse_heart_beat(std::string_view value, HeartBeat& out);

// The intervals each side then uses (1.1/1.2 "Heart-beating"), seen from the
// server: send_ms = server -> client beats (max(server.cx, client.cy), or 0 if
// either is 0); expect_ms = client -> server beats (max(client.cx, server.cy),
// or 0). A receiver should allow some slack before declaring the peer dead.
struct HeartBeatPlan {
  std::uint32_t send_ms = 0;
  std::uint32_t expect_ms = 0;
  bool operator==(const HeartBeatPlan&) const = default;
};
HeartBeatPlan negotiate_heart_beat(HeartBeat client, HeartBeat server);

}  // namespace junction::stomp
