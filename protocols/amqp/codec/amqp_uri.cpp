#include "amqp_uri.h"

namespace junction::amqp {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int a = hex_digit(in[i + 1]), b = hex_digit(in[i + 2]);
    if (a < 0 || b < 0) return false;
    out.push_back(static_cast<char>(a * 16 + b));
    i += 2;
  }
  return true;
}

}  // namespace

std::optional<AmqpUri> parse_amqp_uri(std::string_view text, std::string& error) {
  AmqpUri u;
  constexpr std::string_view kPlain = "amqp://", kTls = "amqps://";
  std::string_view rest;
  if (text.substr(0, kTls.size()) == kTls) {
    u.tls = true;
    u.port = 5671;
    rest = text.substr(kTls.size());
  } else if (text.substr(0, kPlain.size()) == kPlain) {
    rest = text.substr(kPlain.size());
  } else {
    error = "expected an amqp:// or amqps:// URI";
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (!percent_decode(userinfo.substr(0, colon), u.user) ||
        (colon != std::string_view::npos && !percent_decode(userinfo.substr(colon + 1), u.password))) {
      error = "bad percent-encoding in the user information";
      return std::nullopt;
    }
    if (colon == std::string_view::npos) u.password.clear();
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 literal";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        error = "unexpected text after the IPv6 literal";
        return std::nullopt;
      }
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) {
    error = "no host in the URI";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned long port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) {
        error = "bad port";
        return std::nullopt;
      }
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) {
      error = "bad port";
      return std::nullopt;
    }
    u.port = static_cast<std::uint16_t>(port);
  }
  if (path.find_first_of("/?#") != std::string_view::npos) {
    error = "the vhost must be one path segment (write '/' as %2F); query strings are not supported";
    return std::nullopt;
  }
  if (!path.empty() && !percent_decode(path, u.vhost)) {
    error = "bad percent-encoding in the vhost";
    return std::nullopt;
  }
  return u;
}

}  // namespace junction::amqp
