// junction::ctl URL handling: the --url option and the path segments of
// the admin API. Pure functions, no I/O.
//
// Accepted: http://HOST[:PORT][/PREFIX] and https://... (scheme
// case-insensitive), HOST a name, an IPv4 address or [IPv6]; a bare
// HOST[:PORT] means http. Default ports 80/443. A prefix (a reverse proxy
// mounting the API below /junction, say) is kept without its trailing '/'.
// Refused, with a reason: other schemes, user:password@ (credentials belong
// in --user/--password, not in shell history twice), query or fragment,
// port 0 or above 65535.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::ctl {

struct Url {
  bool tls = false;          // https
  std::string host;          // IPv6 without brackets
  std::uint16_t port = 0;
  std::string base_path;     // "" or "/prefix"

  // For the Host header: "host:port", "[::1]:port".
  std::string authority() const;
};

// Nullopt and `error` set when `text` is not a URL ctl can use.
std::optional<Url> parse_url(std::string_view text, std::string& error);

}  // namespace junction::ctl
