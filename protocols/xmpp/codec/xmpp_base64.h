// Base64 (RFC 4648 §4, with padding) for binary payloads and correlation
// data inside XML text.
#pragma once

#include <string>
#include <string_view>

namespace junction::xmpp {

void base64_encode(std::string_view bytes, std::string& out);
// Ignores XML whitespace; padding optional. False on any other bad input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace junction::xmpp
