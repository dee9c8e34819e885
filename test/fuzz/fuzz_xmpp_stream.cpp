// libFuzzer target: the XMPP XML stream parser (expat underneath). The
// input is fed in pieces whose sizes come from its first byte, so split
// points are fuzzed too; every completed stanza is serialized again and
// must parse back to the same tree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "xml_stream_parser.h"

using namespace junction::xmpp;

namespace {
std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  StreamLimits limits;
  limits.max_stanza_bytes = 64 * 1024;
  limits.max_depth = 16;
  limits.max_attrs = 16;
  StreamParser p(limits);
  std::vector<StreamEvent> events;
  for (std::size_t off = 1; off < size; off += piece) {
    const std::size_t n = std::min(piece, size - off);
    if (!p.feed({data + off, n}, events).ok()) break;
  }
  for (const StreamEvent& ev : events) {
    if (ev.kind != EventKind::Stanza) continue;
    std::string again = "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:component:accept'>";
    std::string one;
    serialize(ev.element, one, kNsComponent);
    again += one;
    StreamParser q;
    std::vector<StreamEvent> back;
    if (!q.feed(bytes(again), back).ok() || back.size() != 2) std::abort();
    std::string two;
    serialize(back[1].element, two, kNsComponent);
    if (two != one) std::abort();
  }
  return 0;
}
