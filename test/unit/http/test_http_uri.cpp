// URI helpers: percent-decoding (good and bad escapes, '+'), encoding,
// query strings and path segments.
#include <catch2/catch.hpp>

#include "http_uri.h"

using namespace junction::http;
using namespace std::string_literals;

TEST_CASE("percent_decode", "[http][uri]") {
  CHECK(percent_decode("a%2Fb") == "a/b");
  CHECK(percent_decode("%25") == "%");
  CHECK(percent_decode("%2f%2F") == "//");
  CHECK(percent_decode("plain") == "plain");
  CHECK(percent_decode("") == "");
  CHECK(percent_decode("%00x") == "\0x"s);
  CHECK(percent_decode("%C3%A9") == "\xC3\xA9");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("a+b%2B", true) == "a b+");
  CHECK(percent_decode("%20+", true) == "  ");
}

TEST_CASE("percent_decode refuses bad escapes", "[http][uri]") {
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%4").has_value());
  CHECK_FALSE(percent_decode("a%4").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
  CHECK_FALSE(percent_decode("%4g").has_value());
  CHECK_FALSE(percent_decode("%g4").has_value());
  CHECK_FALSE(percent_decode("ok%2Fthen%").has_value());
  CHECK_FALSE(percent_decode("%%41").has_value());
}

TEST_CASE("percent_encode", "[http][uri]") {
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode("a/b") == "a%2Fb");
  CHECK(percent_encode("a/b", true) == "a/b");
  CHECK(percent_encode("a b+c%") == "a%20b%2Bc%25");
  CHECK(percent_encode("\xC3\xA9\x00"s) == "%C3%A9%00");
  CHECK(percent_encode("#?&=") == "%23%3F%26%3D");
  CHECK(percent_encode("") == "");
  // Round trip over every byte value.
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  CHECK(percent_decode(percent_encode(all)) == all);
  CHECK(percent_decode(percent_encode(all, true)) == all);
}

TEST_CASE("parse_query", "[http][uri]") {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(parse_query("a=1&b=x%20y&c") == Pairs{{"a", "1"}, {"b", "x y"}, {"c", ""}});
  CHECK(parse_query("") == Pairs{});
  CHECK(parse_query("q=a+b&r=%2B") == Pairs{{"q", "a b"}, {"r", "+"}});
  CHECK(parse_query("&&a=1&") == Pairs{{"a", "1"}});
  CHECK(parse_query("a=b=c") == Pairs{{"a", "b=c"}});
  CHECK(parse_query("=v") == Pairs{{"", "v"}});
  CHECK(parse_query("k%3D=v%26") == Pairs{{"k=", "v&"}});
  CHECK(parse_query("a=1&a=2") == Pairs{{"a", "1"}, {"a", "2"}});
  CHECK_FALSE(parse_query("a=%zz").has_value());
  CHECK_FALSE(parse_query("ok=1&%4=1").has_value());
}

TEST_CASE("split_path", "[http][uri]") {
  using Segs = std::vector<std::string_view>;
  CHECK(split_path("/api/v1/queues/a%2Fb") == Segs{"api", "v1", "queues", "a%2Fb"});
  CHECK(split_path("/") == Segs{});
  CHECK(split_path("") == Segs{});
  CHECK(split_path("//a///b/") == Segs{"a", "b"});
  CHECK(split_path("a/b") == Segs{"a", "b"});
  CHECK(split_path("*") == Segs{"*"});
}
