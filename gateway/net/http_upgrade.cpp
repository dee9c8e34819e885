#include "http_upgrade.h"

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include <algorithm>
#include <cctype>

namespace junction::net {

namespace {

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_tchar(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const char* status_text(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

UpgradeDecision refuse(int status, std::string reason, std::string_view extra = {}) {
  UpgradeDecision d;
  d.status = status;
  d.response = http_refusal(status, reason, extra);
  d.reason = std::move(reason);
  return d;
}

}  // namespace

// ------------------------------------------------------------- request ----

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

std::size_t HttpRequest::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; }));
}

std::vector<std::string> HttpRequest::list(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    if (h.first != name) continue;
    std::string_view v = h.second;
    while (!v.empty()) {
      std::size_t comma = v.find(',');
      std::string_view item = trim(v.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find_first_of("?#"));
}

// -------------------------------------------------------------- parser ----

HttpRequestParser::Status HttpRequestParser::fail(int status, std::string why) {
  status_ = Status::Error;
  error_status_ = status;
  error_ = std::move(why);
  return status_;
}

HttpRequestParser::Status HttpRequestParser::feed(std::span<const std::uint8_t> in, std::size_t& consumed) {
  consumed = 0;
  if (status_ != Status::NeedMore) return status_;
  for (std::uint8_t byte : in) {
    ++consumed;
    ++seen_;
    if (seen_ > limits_.max_request_size)
      return fail(431, "request head larger than " + std::to_string(limits_.max_request_size) + " bytes");
    char c = static_cast<char>(byte);
    // RFC 9112 §2.2: blank lines before the request line are ignored.
    if (buffer_.empty() && (c == '\r' || c == '\n')) continue;
    buffer_.push_back(c);
    if (c != '\n') continue;
    // One more line; a header line counts against max_headers (the request
    // line is the first line, the blank line ends the head).
    std::size_t n = buffer_.size();
    bool blank = (n >= 2 && buffer_[n - 2] == '\n') || (n >= 3 && buffer_[n - 2] == '\r' && buffer_[n - 3] == '\n');
    if (blank) return parse_head();
    if (++lines_ > limits_.max_headers + 1)
      return fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
  }
  return status_;
}

HttpRequestParser::Status HttpRequestParser::parse_head() {
  std::string_view head = buffer_;
  bool first = true;
  while (!head.empty()) {
    std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the blank line: end of the head
    for (char c : line) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return fail(400, "control character in the request head");
    }
    if (first) {
      first = false;
      std::size_t sp1 = line.find(' ');
      std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return fail(400, "malformed request line");
      std::string_view method = line.substr(0, sp1);
      std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string_view version = line.substr(sp2 + 1);
      if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); }))
        return fail(400, "malformed request method");
      if (target.empty() || target.find('\t') != std::string_view::npos) return fail(400, "malformed request target");
      if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit(static_cast<unsigned char>(version[5])) ||
          version[6] != '.' || !std::isdigit(static_cast<unsigned char>(version[7])))
        return fail(400, "malformed HTTP version");
      request_.method = method;
      request_.target = target;
      request_.version = version;
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete header line folding");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed header line");
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); }))
      return fail(400, "malformed header name");
    request_.headers.emplace_back(lower(name), std::string(trim(line.substr(colon + 1))));
  }
  std::string().swap(buffer_);
  status_ = Status::Done;
  return status_;
}

// ------------------------------------------------------------ decision ----

std::string http_refusal(int status, std::string_view reason, std::string_view extra) {
  std::string body(reason);
  body += "\n";
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
  r += extra;
  r += "Connection: close\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

std::string websocket_accept(std::string_view key) {
  std::string input(key);
  input += kWebSocketGuid;
  unsigned char digest[20];
  mbedtls_sha1_ret(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char out[32];
  std::size_t len = 0;
  mbedtls_base64_encode(out, sizeof out, &len, digest, sizeof digest);
  return std::string(reinterpret_cast<const char*>(out), len);
}

UpgradeDecision decide_upgrade(const HttpRequest& req, const UpgradePolicy& policy) {
  // A plain HTTP request (a browser pointed at the port): say what we want.
  auto upgrade = req.list("upgrade");
  bool wants_ws = std::any_of(upgrade.begin(), upgrade.end(), [](const std::string& s) { return iequals(s, "websocket"); });
  if (!wants_ws) return refuse(426, "this endpoint speaks WebSocket only", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
  if (req.method != "GET") return refuse(405, "WebSocket upgrade requires GET", "Allow: GET\r\n");
  if (req.version != "HTTP/1.1") return refuse(400, "WebSocket upgrade requires HTTP/1.1");
  if (req.count("host") != 1) return refuse(400, "exactly one Host header required");
  auto connection = req.list("connection");
  if (!std::any_of(connection.begin(), connection.end(), [](const std::string& s) { return iequals(s, "upgrade"); }))
    return refuse(400, "Connection header lacks the upgrade token");
  const std::string* version = req.header("sec-websocket-version");
  if (version == nullptr || *version != "13")
    return refuse(426, "unsupported Sec-WebSocket-Version (13 only)", "Sec-WebSocket-Version: 13\r\n");
  const std::string* key = req.header("sec-websocket-key");
  if (key == nullptr || req.count("sec-websocket-key") != 1) return refuse(400, "missing Sec-WebSocket-Key");
  unsigned char nonce[32];
  std::size_t nonce_len = 0;
  if (key->size() != 24 ||
      mbedtls_base64_decode(nonce, sizeof nonce, &nonce_len, reinterpret_cast<const unsigned char*>(key->data()),
                            key->size()) != 0 ||
      nonce_len != 16)
    return refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64");

  // Origin: browsers always send it; other clients usually do not, and an
  // allow-list protects browsers' users, so a missing Origin passes.
  const std::string* origin = req.header("origin");
  if (origin != nullptr && !policy.allowed_origins.empty()) {
    bool ok = std::any_of(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                          [&](const std::string& o) { return o == "*" || iequals(o, *origin); });
    if (!ok) return refuse(403, "Origin " + *origin + " is not allowed");
  }

  std::string_view path = req.path();
  int chosen = -1;
  for (std::size_t i = 0; i < policy.endpoints.size(); ++i) {
    if (policy.endpoints[i].path == path) {
      chosen = static_cast<int>(i);
      break;
    }
    if (policy.endpoints[i].path.empty() && chosen < 0) chosen = static_cast<int>(i);
  }
  if (chosen < 0) return refuse(404, "no WebSocket endpoint at " + std::string(path));
  const WsEndpoint& ep = policy.endpoints[static_cast<std::size_t>(chosen)];

  // The client lists subprotocols in its order of preference; take the
  // first one we speak.
  auto offered = req.list("sec-websocket-protocol");
  std::string subprotocol;
  for (const std::string& o : offered) {
    if (std::find(ep.subprotocols.begin(), ep.subprotocols.end(), o) != ep.subprotocols.end()) {
      subprotocol = o;
      break;
    }
  }
  if (offered.empty() && ep.subprotocol_required) {
    return refuse(400, "a WebSocket subprotocol is required here (offer one of: " +
                           [&] {
                             std::string s;
                             for (const auto& p : ep.subprotocols) s += (s.empty() ? "" : ", ") + p;
                             return s;
                           }() +
                           ")");
  }
  if (!offered.empty() && subprotocol.empty()) {
    std::string list;
    for (const auto& o : offered) list += (list.empty() ? "" : ", ") + o;
    return refuse(400, "none of the offered WebSocket subprotocols (" + list + ") is served here");
  }

  UpgradeDecision d;
  d.accepted = true;
  d.endpoint = chosen;
  d.status = 101;
  d.subprotocol = subprotocol;
  d.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
               websocket_accept(*key) + "\r\n";
  if (!subprotocol.empty()) d.response += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
  d.response += "\r\n";
  return d;
}

}  // namespace junction::net
