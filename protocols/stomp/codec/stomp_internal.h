// Internal helpers shared by the STOMP codec's .cpp files; not part of the
// public header. Escaping rules (1.1 and 1.2 "Value Encoding"):
//   decode  \n -> LF   \c -> ':'   \\ -> '\'   \r -> CR (1.2 only)
//   any other backslash sequence, or a trailing backslash, is a fatal error.
// Validation and decoding are separate steps: the parser validates each
// header line as it arrives (so a bad escape fails before the body is
// buffered) and decodes only when the whole frame is present.
#pragma once

#include "stomp_codec.h"

namespace junction::stomp::detail {

// Headers of `cmd` are escaped under `v`: 1.1+ and not CONNECT/STOMP/CONNECTED.
bool headers_escaped(Command cmd, Version v);

// Checks the escape sequences of raw header text. Sets `has_escape` when the
// text contains at least one (so it must be decoded).
bool valid_escapes(std::string_view raw, Version v, bool& has_escape);

// Decodes validated text into `dst` (room for raw.size() bytes); returns the
// number of bytes written.
std::size_t unescape(std::string_view raw, char* dst);

// Appends header text for the wire. `escape`: 1.1/1.2 escaping of a frame
// that uses it; otherwise the text is written raw. Returns a static reason
// when the text cannot be represented (see encode_frame), else null.
const char* append_header_text(std::string_view text, bool is_name, bool escape, Version v, std::string& out);

// content-length: 1..18 ASCII digits (fits any size_t on 64-bit hosts).
bool parse_content_length(std::string_view s, std::size_t& out);

inline std::string_view as_chars(const std::uint8_t* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

}  // namespace junction::stomp::detail
