// junction::net — the HTTP/1.1 side of a WebSocket opening handshake
// (RFC 6455 §4.2): an incremental request parser and the pure decision
// that turns a parsed request into either a 101 answer or a refusal.
//
// HttpRequestParser is a push parser: feed() any split of the bytes; it
// answers NeedMore, Done (with how many bytes of this feed belonged to the
// request; the rest is already WebSocket data) or Error. Limits are checked
// before anything grows: total request size and header count (431); the
// time limit belongs to the connection (its handshake deadline).
//
// decide_upgrade() applies RFC 6455 and our policy: routing by path,
// subprotocol negotiation, Origin allow-list. Refusals are plain-text HTTP
// answers with `Connection: close`:
//   400 malformed request, bad key/version headers, subprotocol refused
//   403 Origin not allowed        404 no endpoint for the path
//   405 not GET                   426 not an upgrade request (or version != 13)
//   431 request too large / too many headers (from the parser)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::net {

struct HttpLimits {
  std::size_t max_request_size = 8192;  // request line + headers, bytes
  std::size_t max_headers = 64;
};

struct HttpRequest {
  std::string method;
  std::string target;   // as sent, e.g. "/mqtt?x=1"
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, values trimmed

  // The first value of a header (name in lower case), or nullptr.
  const std::string* header(std::string_view name) const;
  // Every comma-separated element of every instance of a header, trimmed,
  // empty ones dropped (Connection, Sec-WebSocket-Protocol).
  std::vector<std::string> list(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  // The target without query or fragment.
  std::string_view path() const;
};

class HttpRequestParser {
 public:
  enum class Status : std::uint8_t { NeedMore, Done, Error };

  explicit HttpRequestParser(HttpLimits limits = {}) : limits_(limits) {}

  // `consumed` is set to the bytes of `in` that belong to the request (all
  // of them unless Done). After Done or Error, feed() returns the same.
  Status feed(std::span<const std::uint8_t> in, std::size_t& consumed);

  const HttpRequest& request() const { return request_; }
  // After Error: the HTTP status to answer (400 or 431) and why.
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }
  // Bytes of the request seen so far.
  std::size_t size() const { return seen_; }

 private:
  Status fail(int status, std::string why);
  Status parse_head();

  HttpLimits limits_;
  Status status_ = Status::NeedMore;
  std::string buffer_;  // the head, without leading blank lines
  std::size_t seen_ = 0;
  std::size_t lines_ = 0;
  HttpRequest request_;
  int error_status_ = 0;
  std::string error_;
};

// One WebSocket endpoint of a listener.
struct WsEndpoint {
  std::string path;                       // "" matches any path (when no exact match)
  std::vector<std::string> subprotocols;  // ours, in no particular order
  bool subprotocol_required = false;      // refuse a client that offers none
};

struct UpgradePolicy {
  std::span<const WsEndpoint> endpoints;
  std::span<const std::string> allowed_origins;  // empty: any; "*" also means any
};

struct UpgradeDecision {
  bool accepted = false;
  int endpoint = -1;         // index into policy.endpoints when accepted
  int status = 0;            // 101, or the refusal's status
  std::string subprotocol;   // chosen, or empty
  std::string response;      // the complete HTTP answer to send
  std::string reason;        // for the log (refusals)
};

UpgradeDecision decide_upgrade(const HttpRequest& request, const UpgradePolicy& policy);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string websocket_accept(std::string_view key);

// A plain-text HTTP refusal with Connection: close (also used for parser
// errors). `extra` are additional header lines, each ending in "\r\n".
std::string http_refusal(int status, std::string_view reason, std::string_view extra = {});

}  // namespace junction::net
