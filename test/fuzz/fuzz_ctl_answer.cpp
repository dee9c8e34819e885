// libFuzzer: what `junction ctl` does with a server's answer (gateway/ctl):
// the HTTP response parser, the answer's meaning, and every view of its
// JSON. The server is not trusted: a broken or hostile one (or the wrong
// port) must cost an error message, never a crash or a terminal escape.
//
// Input: byte 0 picks the piece size (1..64); the rest is what the socket
// delivers before end of stream.
//
// Invariants (abort on violation):
//   - fed in pieces or whole: the same status, HTTP status and body
//     (split invariance);
//   - the body never exceeds the parser's limit;
//   - every view and error line is free of control characters but '\n'
//     (table.h printable), whatever the JSON holds.
//
// Build: test/fuzz/build.sh (test/fuzz/meson.build: ctl's pure objects,
// libhttp-parser and nlohmann-json)
// Seeds: test/fuzz/corpus/ctl_answer/
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "api.h"
#include "http_message.h"
#include "views.h"

using namespace junction::ctl;

namespace {

constexpr std::size_t kMaxBody = 4096;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ctl answer fuzz: %s\n", what);
  std::abort();
}

void check_printable(const std::string& text, const char* what) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n') || c == 0x7f) fail(what);
  }
}

ResponseParser::Status parse(ResponseParser& p, std::string_view in, std::size_t piece) {
  auto s = ResponseParser::Status::NeedMore;
  while (!in.empty() && s == ResponseParser::Status::NeedMore) {
    const std::size_t n = std::min(piece, in.size());
    s = p.feed(std::span<const char>(in.data(), n));
    in.remove_prefix(n);
  }
  return p.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);

  ResponseParser pieces(kMaxBody), whole(kMaxBody);
  const auto s1 = parse(pieces, wire, piece);
  const auto s2 = parse(whole, wire, wire.size() + 1);
  if (s1 != s2) fail("status depends on the split");
  if (s1 != ResponseParser::Status::Done) return 0;
  const HttpResponse& r = whole.response();
  if (pieces.response().status != r.status || pieces.response().body != r.body) fail("answer depends on the split");
  if (r.body.size() > kMaxBody) fail("body over the limit");

  const Answer a = interpret(r);
  check_printable(a.error, "error line");
  if (a.exit_code != kExitOk) return 0;
  const nlohmann::json& j = a.body;
  check_printable(render_status(j), "status");
  check_printable(render_clients(j), "clients");
  check_printable(render_queues(j), "queues");
  check_printable(render_bridges(j), "bridges");
  check_printable(render_retained(j), "retained");
  check_printable(render_kick(j, "id"), "kick");
  check_printable(render_purge(j, "q"), "purge");
  check_printable(render_move(j, "a", "b"), "move");
  check_printable(render_publish(j, "t"), "publish");
  return 0;
}
