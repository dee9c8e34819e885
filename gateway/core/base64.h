// Base64 (RFC 4648 §4) for binary values carried in text protocols: STOMP's
// correlation-id header, XMPP payloads and properties. One implementation for
// every front-end.
#pragma once

#include <string>
#include <string_view>

namespace junction::core {

// Appends the encoding of `bytes` to `out`, with padding.
void base64_encode(std::string_view bytes, std::string& out);

enum class Base64Spaces : bool { Reject, Skip };  // Skip: XML text may wrap and indent

// Appends the decoded bytes to `out`. Padding is optional but must be
// consistent; leftover bits must be zero, so each byte string has one
// spelling. False on bad input, with `out` left as it was.
bool base64_decode(std::string_view text, std::string& out, Base64Spaces spaces = Base64Spaces::Reject);

}  // namespace junction::core
