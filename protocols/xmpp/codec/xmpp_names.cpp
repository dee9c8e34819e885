#include "xmpp_names.h"

namespace junction::xmpp {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_escape(unsigned char b, std::string& out) {
  out.push_back('\\');
  out.push_back(kHex[b >> 4]);
  out.push_back(kHex[b & 0xF]);
}

bool localpart_plain(unsigned char b) {
  if (b <= 0x20 || b >= 0x7F) return false;  // space, controls, DEL, non-ASCII
  if (b >= 'A' && b <= 'Z') return false;
  switch (b) {
    case '"': case '&': case '\'': case '/': case ':': case '<': case '>': case '@': case '\\': return false;
    default: return true;
  }
}

bool node_plain(unsigned char b) { return b >= 0x20 && b != 0x7F && b != '\\'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename Plain>
std::string escape(std::string_view s, Plain plain) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (plain(b)) {
      out.push_back(c);
    } else {
      put_escape(b, out);
    }
  }
  return out;
}

}  // namespace

std::string topic_to_localpart(std::string_view topic) { return escape(topic, localpart_plain); }

std::string topic_to_node(std::string_view topic) { return escape(topic, node_plain); }

std::string unescape_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 2 < name.size()) {
      const int hi = hex_value(name[i + 1]), lo = hex_value(name[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(name[i]);
  }
  return out;
}

bool parse_jid(std::string_view s, Jid& out) {
  out = Jid{};
  std::string_view rest = s;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    out.resource = rest.substr(slash + 1);
    out.has_resource = true;
    rest = rest.substr(0, slash);
    if (out.resource.empty()) return false;
  }
  if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
    out.local = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (out.local.empty()) return false;
  }
  out.domain = rest;
  return !out.domain.empty() && out.domain.find('@') == std::string_view::npos;
}

std::string_view bare_jid(std::string_view s) {
  const std::size_t slash = s.find('/');
  return slash == std::string_view::npos ? s : s.substr(0, slash);
}

}  // namespace junction::xmpp
