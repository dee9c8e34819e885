// libFuzzer: the WebSocket HTTP upgrade parser and decision
// (gateway/net/http_upgrade). The first byte picks the split size, so one
// input is fed in pieces; a parsed request goes through decide_upgrade.
// Invariants: bytes consumed never exceed what was fed; Done consumes up to
// the end of the head; every answer is a complete HTTP response head.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "http_upgrade.h"

using namespace junction::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t piece = 1 + data[0] % 64;
  std::span<const std::uint8_t> in(data + 1, size - 1);
  HttpRequestParser parser(HttpLimits{2048, 16});
  HttpRequestParser::Status st = HttpRequestParser::Status::NeedMore;
  std::size_t at = 0;
  while (at < in.size() && st == HttpRequestParser::Status::NeedMore) {
    std::size_t n = std::min(piece, in.size() - at);
    std::size_t used = 0;
    st = parser.feed(in.subspan(at, n), used);
    if (used > n) std::abort();
    if (st == HttpRequestParser::Status::NeedMore && used != n) std::abort();
    at += used;
  }
  if (parser.size() > 2048 + 1) std::abort();
  if (st == HttpRequestParser::Status::Error) {
    std::string r = http_refusal(parser.error_status(), parser.error());
    if (r.find("\r\n\r\n") == std::string::npos) std::abort();
    return 0;
  }
  if (st != HttpRequestParser::Status::Done) return 0;
  static const std::vector<WsEndpoint> endpoints{WsEndpoint{"/mqtt", {"mqtt", "mqttv3.1"}, true},
                                                 WsEndpoint{"/stomp", {"v12.stomp", "v11.stomp", "v10.stomp"}, false},
                                                 WsEndpoint{"", {"x"}, false}};
  static const std::vector<std::string> origins{"https://good.example"};
  UpgradeDecision d = decide_upgrade(parser.request(), UpgradePolicy{endpoints, origins});
  if (d.response.rfind("HTTP/1.1 ", 0) != 0 || d.response.find("\r\n\r\n") == std::string::npos) std::abort();
  if (d.accepted != (d.status == 101)) std::abort();
  if (d.accepted && (d.endpoint < 0 || d.endpoint >= static_cast<int>(endpoints.size()))) std::abort();
  return 0;
}
