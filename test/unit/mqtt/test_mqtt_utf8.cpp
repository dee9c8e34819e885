// valid_utf8: [MQTT-1.5.4-1] well-formed, no surrogates; [MQTT-1.5.4-2] no
// U+0000; overlongs and code points above U+10FFFF are ill-formed (RFC 3629).
#include <catch2/catch.hpp>

#include "mqtt_testkit.h"

using namespace mqtt_testkit;

namespace {

std::string_view sv(const char* s, std::size_t n) { return {s, n}; }

}  // namespace

TEST_CASE("valid_utf8 accepts well-formed strings", "[mqtt][codec]") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("sensors/room-1/temperature"));
  CHECK(valid_utf8("\xC3\xA9"));               // U+00E9
  CHECK(valid_utf8("\xC2\x80"));               // U+0080, smallest two-byte
  CHECK(valid_utf8("\xDF\xBF"));               // U+07FF
  CHECK(valid_utf8("\xE0\xA0\x80"));           // U+0800, smallest three-byte
  CHECK(valid_utf8("\xE2\x82\xAC"));           // U+20AC
  CHECK(valid_utf8("\xED\x9F\xBF"));           // U+D7FF, just below the surrogates
  CHECK(valid_utf8("\xEE\x80\x80"));           // U+E000, just above them
  CHECK(valid_utf8("\xEF\xBF\xBF"));           // U+FFFF, a non-character: allowed
  CHECK(valid_utf8("\xF0\x90\x80\x80"));       // U+10000
  CHECK(valid_utf8("\xF0\x9D\x84\x9E"));       // U+1D11E
  CHECK(valid_utf8("\xF4\x8F\xBF\xBF"));       // U+10FFFF
  CHECK(valid_utf8("\x01\x1F\x7F"));           // control characters are allowed [MQTT-1.5.4-3]
  CHECK(valid_utf8("abcdefgh\xC3\xA9ijklmnop\xE2\x82\xAC qrstuvwxyz0123456789"));  // fast path around multibyte
}

TEST_CASE("valid_utf8 rejects U+0000 wherever it is", "[mqtt][codec]") {
  const std::size_t len = GENERATE(1u, 7u, 8u, 9u, 16u, 17u, 33u);
  const std::size_t at = GENERATE_COPY(range(std::size_t{0}, len));
  CAPTURE(len, at);
  std::string s(len, 'a');
  s[at] = '\0';
  CHECK_FALSE(valid_utf8(s));
  s[at] = 'b';
  CHECK(valid_utf8(s));
}

TEST_CASE("valid_utf8 rejects ill-formed sequences", "[mqtt][codec]") {
  SECTION("overlong encodings") {
    CHECK_FALSE(valid_utf8("\xC0\x80"));          // overlong U+0000
    CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(valid_utf8("\xC1\xBF"));
    CHECK_FALSE(valid_utf8("\xE0\x80\x80"));
    CHECK_FALSE(valid_utf8("\xE0\x9F\xBF"));      // overlong U+07FF
    CHECK_FALSE(valid_utf8("\xF0\x80\x80\x80"));
    CHECK_FALSE(valid_utf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
  }
  SECTION("surrogates") {
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // U+D800
    CHECK_FALSE(valid_utf8("\xED\xAF\xBF"));      // U+DBFF
    CHECK_FALSE(valid_utf8("\xED\xB0\x80"));      // U+DC00
    CHECK_FALSE(valid_utf8("\xED\xBF\xBF"));      // U+DFFF
    CHECK_FALSE(valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 style pair
  }
  SECTION("beyond U+10FFFF and invalid lead bytes") {
    CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // U+110000
    CHECK_FALSE(valid_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));
    CHECK_FALSE(valid_utf8("\xFE"));
    CHECK_FALSE(valid_utf8("\xFF"));
  }
  SECTION("stray continuation bytes") {
    CHECK_FALSE(valid_utf8("\x80"));
    CHECK_FALSE(valid_utf8("a\xBF"));
    CHECK_FALSE(valid_utf8("\xC3\xA9\xA9"));
  }
  SECTION("truncated sequences") {
    CHECK_FALSE(valid_utf8("\xC3"));
    CHECK_FALSE(valid_utf8("\xE2\x82"));
    CHECK_FALSE(valid_utf8("\xF0\x9D\x84"));
    CHECK_FALSE(valid_utf8("abcdefgh\xF0\x9D"));
  }
  SECTION("bad continuation bytes") {
    CHECK_FALSE(valid_utf8("\xC3\x28"));
    CHECK_FALSE(valid_utf8("\xE2\x28\xA1"));
    CHECK_FALSE(valid_utf8("\xE2\x82\x28"));
    CHECK_FALSE(valid_utf8("\xF0\x9D\x84\xC0"));
  }
  SECTION("a string view ending inside a sequence is checked only up to its end") {
    const char buf[] = "\xE2\x82\xAC";
    CHECK_FALSE(valid_utf8(sv(buf, 2)));
    CHECK(valid_utf8(sv(buf, 3)));
  }
}
