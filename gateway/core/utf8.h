// Strict UTF-8 checks for names and text the broker hands on (STOMP
// headers and destinations, the admin API's payloads as JSON text): no
// overlong forms, no surrogates, nothing above U+10FFFF, and never NUL.
#pragma once

#include <cstdint>
#include <string_view>

namespace junction::core {

enum class Utf8Rule : std::uint8_t {
  NoNul,      // well-formed, without U+0000
  Printable,  // ... and without C0 controls or DEL either
};

bool valid_utf8(std::string_view s, Utf8Rule rule = Utf8Rule::NoNul);

}  // namespace junction::core
