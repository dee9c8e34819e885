#include "url.h"

#include <cctype>

namespace junction::ctl {

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + unsigned(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  Url url;
  std::string_view rest = text;
  if (starts_with_nocase(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (starts_with_nocase(rest, "https://")) {
    rest.remove_prefix(8);
    url.tls = true;
  } else if (rest.find("://") != std::string_view::npos) {
    error = "unsupported URL scheme in '" + std::string(text) + "' (use http:// or https://)";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    error = "the URL must not have a query or fragment: '" + std::string(text) + "'";
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    error = "put credentials in --user and --password (or JUNCTION_PASSWORD), not in the URL";
    return std::nullopt;
  }

  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address in '" + std::string(text) + "'";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after the IPv6 address in '" + std::string(text) + "'";
        return std::nullopt;
      }
      port = after.substr(1);
      if (port.empty()) port = "-";  // "[::1]:" is an empty, hence bad, port
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) port = "-";
  }
  if (host.empty()) {
    error = "no host in URL '" + std::string(text) + "'";
    return std::nullopt;
  }
  url.host = std::string(host);
  if (port.empty()) {
    url.port = url.tls ? 443 : 80;
  } else if (auto p = parse_port(port)) {
    url.port = *p;
  } else {
    error = "bad port '" + std::string(port == "-" ? "" : port) + "' in URL '" + std::string(text) + "'";
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}


}  // namespace junction::ctl
