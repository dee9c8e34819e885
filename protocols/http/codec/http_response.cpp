// Response encoding. Header names and values come from our own code, but a
// value may echo client input (a path in a Location, a realm): CR and LF are
// dropped from them so nothing can split the response (RFC 9112 11.1).
#include "http_response.h"

#include <cstdio>

namespace junction::http {

namespace {

void append_field_text(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  append_field_text(out, name);
  out += ": ";
  append_field_text(out, value);
  out += "\r\n";
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF), or 0 if it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // bounds of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string encode_response(int status, std::string_view content_type, std::string_view body, bool keep_alive,
                            std::span<const HttpHeader> extra, bool head_only) {
  // RFC 9110 8.6: no Content-Length (and no content) in 1xx and 204 answers.
  const bool bodiless = status == 204 || (status >= 100 && status < 200);
  std::string out;
  out.reserve(128 + content_type.size() + (head_only || bodiless ? 0 : body.size()));
  char line[64];
  std::snprintf(line, sizeof line, "HTTP/1.1 %03d ", status);
  out += line;
  out += reason_phrase(status);
  out += "\r\n";
  if (!content_type.empty() && !bodiless) append_header(out, "Content-Type", content_type);
  if (!bodiless) append_header(out, "Content-Length", std::to_string(body.size()));
  if (!keep_alive) out += "Connection: close\r\n";
  for (const auto& h : extra) append_header(out, h.name, h.value);
  out += "\r\n";
  if (!head_only && !bodiless) out += body;
  return out;
}

std::string json_error_body(std::string_view message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "{\"error\": \"";
  out.reserve(out.size() + message.size() + 2);
  std::size_t i = 0;
  while (i < message.size()) {
    const auto c = static_cast<unsigned char>(message[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0x0F]);
        } else if (const std::size_t n = utf8_sequence(message, i); n > 0) {
          out.append(message.substr(i, n));
          i += n;
          continue;
        } else {
          // RFC 8259 8.1: JSON text is UTF-8; a stray byte (from echoed
          // client input) becomes U+FFFD rather than invalid JSON.
          out += "\\ufffd";
        }
    }
    ++i;
  }
  out += "\"}";
  return out;
}

}  // namespace junction::http
