// junction::http URI helpers for the admin API: percent-decoding, the
// query string, and path segments. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::http {

// "%2F" -> "/", "%25" -> "%". `plus_is_space`: '+' means ' ' (query strings).
// Nullopt for a bad escape ("%4", "%zz").
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

// Percent-encodes everything but unreserved characters (RFC 3986 2.3);
// `keep_slash`: '/' stays raw (a topic in a path).
std::string percent_encode(std::string_view in, bool keep_slash = false);

// "a=1&b=x%20y&c" -> {{"a","1"},{"b","x y"},{"c",""}}; nullopt on a bad escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

// "/api/v1/queues/a%2Fb" -> {"api","v1","queues","a%2Fb"}: split on '/',
// empty segments dropped, NOT decoded (a segment may hold an encoded '/').
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace junction::http
