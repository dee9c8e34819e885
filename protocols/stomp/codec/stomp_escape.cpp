// Header value encoding per version (STOMP 1.1 / 1.2 "Value Encoding") and
// the content-length syntax shared by the parser and the encoder.
#include "stomp_internal.h"

namespace junction::stomp::detail {

bool headers_escaped(Command cmd, Version v) {
  if (v == Version::V1_0) return false;
  // 1.2: "CONNECT and CONNECTED frames do not escape the carriage return,
  // line feed or colon octets in order to remain backward compatible with
  // STOMP 1.0". STOMP is the 1.1+ name of CONNECT and is sent at the same
  // point, before any version is agreed, so it follows the same rule.
  return cmd != Command::Connect && cmd != Command::Stomp && cmd != Command::Connected;
}

bool valid_escapes(std::string_view raw, Version v, bool& has_escape) {
  has_escape = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') continue;
    if (i + 1 == raw.size()) return false;  // trailing backslash
    const char e = raw[++i];
    const bool ok = e == 'n' || e == 'c' || e == '\\' || (e == 'r' && v == Version::V1_2);
    if (!ok) return false;  // "Undefined escape sequences such as \t MUST be treated as a fatal protocol error"
    has_escape = true;
  }
  return true;
}

std::size_t unescape(std::string_view raw, char* dst) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      switch (raw[++i]) {
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 'c': c = ':'; break;
        default: c = '\\'; break;  // "\\" (validated beforehand)
      }
    }
    dst[w++] = c;
  }
  return w;
}

const char* append_header_text(std::string_view text, bool is_name, bool escape, Version v, std::string& out) {
  if (is_name && text.empty()) return "empty header name";
  if (!escape) {
    // Written raw: nothing may end the line early or move the name/value split.
    for (char c : text) {
      if (c == '\n') return "line feed in an unescaped header";
      if (is_name && c == ':') return "colon in an unescaped header name";
    }
    if (!is_name && !text.empty() && text.back() == '\r')
      return "header value ends with carriage return (stripped as part of the line end)";
    out.append(text);
    return nullptr;
  }
  const bool escape_cr = v == Version::V1_2;
  if (!is_name && !escape_cr && !text.empty() && text.back() == '\r')
    return "header value ends with carriage return (stripped as part of the line end)";
  // Copy runs of plain bytes at once; escape the four special ones.
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* esc = nullptr;
    switch (c) {
      case '\\': esc = "\\\\"; break;
      case '\n': esc = "\\n"; break;
      case ':': esc = "\\c"; break;
      case '\r': esc = escape_cr ? "\\r" : nullptr; break;
      default: break;
    }
    if (esc == nullptr) continue;
    out.append(text.substr(run, i - run));
    out.append(esc, 2);
    run = i + 1;
  }
  out.append(text.substr(run));
  return nullptr;
}

bool parse_content_length(std::string_view s, std::size_t& out) {
  if (s.empty() || s.size() > 18) return false;
  std::size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace junction::stomp::detail
