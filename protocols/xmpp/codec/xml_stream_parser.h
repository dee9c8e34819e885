// junction::xmpp::StreamParser — incremental parser for one XMPP XML stream
// (RFC 6120 §4), built on expat. Push model: feed() takes any byte span and
// appends the events it completes (stream open, whole stanzas, stream
// close); it never does I/O and never keeps pointers into the input.
//
// Restricted XML [RFC 6120 §11.1]: a DOCTYPE, entity declaration, comment
// or processing instruction is a hard error (`restricted-xml`), checked
// inside expat's callbacks so that nothing from a DTD is ever expanded;
// external entities and parameter entities are never parsed. Undefined
// entity references are expat errors (`not-well-formed`).
//
// Limits are checked while parsing, before the tree grows: element depth
// below the stream element, attributes per element, and bytes per stanza
// (input is fed to expat in slices, and the bytes since the last stanza
// boundary are checked before each slice, so expat never buffers more than
// max_stanza_bytes plus one slice for a stanza).
//
// After an error the parser stays failed: every feed() returns that error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "xml_element.h"

namespace junction::xmpp {

struct StreamLimits {
  std::size_t max_stanza_bytes = 1 << 20;
  std::size_t max_depth = 32;   // element levels inside one stanza (the stanza itself is 1)
  std::size_t max_attrs = 64;   // per element
};

// Named after the RFC 6120 §4.9.3 stream error conditions they cause.
enum class StreamErrorKind : std::uint8_t {
  None,
  NotWellFormed,     // expat syntax error, bad UTF-8, undefined entity
  RestrictedXml,     // DOCTYPE, entity declaration, comment, processing instruction
  PolicyViolation,   // a limit was exceeded
  InvalidNamespace,  // the root is not <stream:stream>
};

const char* stream_error_condition(StreamErrorKind k);  // "not-well-formed", ...

struct StreamStatus {
  StreamErrorKind kind = StreamErrorKind::None;
  std::string what;
  bool ok() const { return kind == StreamErrorKind::None; }
};

enum class EventKind : std::uint8_t { StreamOpen, Stanza, StreamClose };

struct StreamEvent {
  EventKind kind;
  Element element;  // StreamOpen: the stream element (attributes, no children); Stanza: the stanza
};

class StreamParser {
 public:
  explicit StreamParser(const StreamLimits& limits = {});
  ~StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;

  // Parses `data`, appending completed events to `out` (also those that
  // came before an error in the same span).
  StreamStatus feed(std::span<const std::uint8_t> data, std::vector<StreamEvent>& out);

  bool closed() const { return closed_; }  // </stream:stream> seen
  const StreamStatus& status() const { return status_; }

  struct Impl;  // expat callbacks (xml_stream_parser.cpp)

 private:
  StreamLimits limits_;
  void* parser_ = nullptr;  // XML_Parser
  StreamStatus status_;
  std::vector<StreamEvent>* out_ = nullptr;
  std::vector<Element*> stack_;  // open elements of the current stanza (stack_[0] = stanza)
  Element stanza_;
  std::uint64_t fed_ = 0;        // bytes given to expat so far
  std::uint64_t boundary_ = 0;   // byte index after the last complete top-level item
  std::size_t depth_ = 0;        // 0 outside the stream element, 1 between stanzas
  bool opened_ = false;
  bool closed_ = false;
};

}  // namespace junction::xmpp
