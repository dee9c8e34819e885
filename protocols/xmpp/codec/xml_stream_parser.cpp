#include "xml_stream_parser.h"

#include <expat.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace junction::xmpp {

namespace {

// Expat reports namespace-resolved names as "<uri><sep><local>".
constexpr char kSep = ' ';
// Input slice: bounds how far past max_stanza_bytes expat can buffer.
constexpr std::size_t kSlice = 4096;

void split_name(const XML_Char* full, std::string& ns, std::string& local) {
  const char* sep = std::strchr(full, kSep);
  if (sep == nullptr) {
    ns.clear();
    local.assign(full);
  } else {
    ns.assign(full, std::size_t(sep - full));
    local.assign(sep + 1);
  }
}

}  // namespace

const char* stream_error_condition(StreamErrorKind k) {
  switch (k) {
    case StreamErrorKind::None: return "";
    case StreamErrorKind::NotWellFormed: return "not-well-formed";
    case StreamErrorKind::RestrictedXml: return "restricted-xml";
    case StreamErrorKind::PolicyViolation: return "policy-violation";
    case StreamErrorKind::InvalidNamespace: return "invalid-namespace";
  }
  return "undefined-condition";
}

struct StreamParser::Impl {
  static StreamParser& self(void* ud) { return *static_cast<StreamParser*>(ud); }

  static void fail(StreamParser& p, StreamErrorKind kind, std::string what) {
    if (!p.status_.ok()) return;
    p.status_.kind = kind;
    p.status_.what = std::move(what);
    XML_StopParser(static_cast<XML_Parser>(p.parser_), XML_FALSE);
  }

  static std::uint64_t index(StreamParser& p) {
    return static_cast<std::uint64_t>(XML_GetCurrentByteIndex(static_cast<XML_Parser>(p.parser_)));
  }

  static bool over_size(StreamParser& p) {
    if (index(p) - p.boundary_ <= p.limits_.max_stanza_bytes) return false;
    fail(p, StreamErrorKind::PolicyViolation, "stanza larger than the limit");
    return true;
  }

  static void on_start(void* ud, const XML_Char* name, const XML_Char** atts) {
    StreamParser& p = self(ud);
    if (!p.status_.ok()) return;
    std::size_t n = 0;
    while (atts[2 * n]) ++n;
    if (n > p.limits_.max_attrs) {
      fail(p, StreamErrorKind::PolicyViolation, "too many attributes");
      return;
    }
    if (p.depth_ == 0) {
      StreamEvent ev{EventKind::StreamOpen, Element()};
      split_name(name, ev.element.ns, ev.element.name);
      if (ev.element.ns != kNsStream || ev.element.name != "stream") {
        fail(p, StreamErrorKind::InvalidNamespace, "the root element is not <stream:stream>");
        return;
      }
      for (std::size_t i = 0; i < n; ++i) {
        Attr a;
        split_name(atts[2 * i], a.ns, a.name);
        a.value.assign(atts[2 * i + 1]);
        ev.element.attrs.push_back(std::move(a));
      }
      p.depth_ = 1;
      p.opened_ = true;
      p.boundary_ = index(p) + static_cast<std::uint64_t>(XML_GetCurrentByteCount(static_cast<XML_Parser>(p.parser_)));
      p.out_->push_back(std::move(ev));
      return;
    }
    if (p.depth_ - 1 >= p.limits_.max_depth) {
      fail(p, StreamErrorKind::PolicyViolation, "elements nested too deep");
      return;
    }
    if (over_size(p)) return;
    Element* e;
    if (p.depth_ == 1) {
      p.stanza_ = Element();
      e = &p.stanza_;
    } else {
      e = &p.stack_.back()->children.emplace_back();
    }
    split_name(name, e->ns, e->name);
    e->attrs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      Attr a;
      split_name(atts[2 * i], a.ns, a.name);
      a.value.assign(atts[2 * i + 1]);
      e->attrs.push_back(std::move(a));
    }
    p.stack_.push_back(e);
    ++p.depth_;
  }

  static void on_end(void* ud, const XML_Char*) {
    StreamParser& p = self(ud);
    if (!p.status_.ok()) return;
    if (p.depth_ == 1) {
      p.depth_ = 0;
      p.closed_ = true;
      p.out_->push_back(StreamEvent{EventKind::StreamClose, Element()});
      return;
    }
    if (over_size(p)) return;
    p.stack_.pop_back();
    --p.depth_;
    if (p.depth_ == 1) {
      p.boundary_ = index(p) + static_cast<std::uint64_t>(XML_GetCurrentByteCount(static_cast<XML_Parser>(p.parser_)));
      p.out_->push_back(StreamEvent{EventKind::Stanza, std::move(p.stanza_)});
      p.stanza_ = Element();
    }
  }

  static void on_text(void* ud, const XML_Char* s, int len) {
    StreamParser& p = self(ud);
    if (!p.status_.ok()) return;
    if (p.depth_ <= 1) {
      // Whitespace between stanzas (keep-alives): a boundary too.
      p.boundary_ = index(p) + static_cast<std::uint64_t>(len);
      return;
    }
    if (over_size(p)) return;
    Element* e = p.stack_.back();
    std::string& dst = e->children.empty() ? e->text : e->children.back().tail;
    dst.append(s, static_cast<std::size_t>(len));
  }

  static void on_doctype(void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    fail(self(ud), StreamErrorKind::RestrictedXml, "DOCTYPE is not allowed");
  }
  static void on_entity_decl(void* ud, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                             const XML_Char*, const XML_Char*, const XML_Char*) {
    fail(self(ud), StreamErrorKind::RestrictedXml, "entity declarations are not allowed");
  }
  static void on_comment(void* ud, const XML_Char*) {
    fail(self(ud), StreamErrorKind::RestrictedXml, "comments are not allowed");
  }
  static void on_pi(void* ud, const XML_Char*, const XML_Char*) {
    fail(self(ud), StreamErrorKind::RestrictedXml, "processing instructions are not allowed");
  }
  static int on_external_entity(XML_Parser, const XML_Char*, const XML_Char*, const XML_Char*, const XML_Char*) {
    return XML_STATUS_ERROR;  // never reached without a DTD; refuse regardless
  }
};

StreamParser::StreamParser(const StreamLimits& limits) : limits_(limits) {
  XML_Parser p = XML_ParserCreateNS("UTF-8", kSep);
  parser_ = p;
  if (p == nullptr) {
    status_ = StreamStatus{StreamErrorKind::PolicyViolation, "out of memory"};
    return;
  }
  XML_SetUserData(p, this);
  XML_SetElementHandler(p, &Impl::on_start, &Impl::on_end);
  XML_SetCharacterDataHandler(p, &Impl::on_text);
  XML_SetStartDoctypeDeclHandler(p, &Impl::on_doctype);
  XML_SetEntityDeclHandler(p, &Impl::on_entity_decl);
  XML_SetCommentHandler(p, &Impl::on_comment);
  XML_SetProcessingInstructionHandler(p, &Impl::on_pi);
  XML_SetExternalEntityRefHandler(p, &Impl::on_external_entity);
  XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
}

StreamParser::~StreamParser() {
  if (parser_) XML_ParserFree(static_cast<XML_Parser>(parser_));
}

StreamStatus StreamParser::feed(std::span<const std::uint8_t> data, std::vector<StreamEvent>& out) {
  if (!status_.ok() || closed_) return status_;
  auto* p = static_cast<XML_Parser>(parser_);
  out_ = &out;
  std::size_t off = 0;
  while (off < data.size() && status_.ok() && !closed_) {
    if (fed_ - boundary_ > limits_.max_stanza_bytes) {
      status_ = StreamStatus{StreamErrorKind::PolicyViolation, "stanza larger than the limit"};
      break;
    }
    const std::size_t n = std::min(kSlice, data.size() - off);
    const XML_Status st =
        XML_Parse(p, reinterpret_cast<const char*>(data.data() + off), static_cast<int>(n), XML_FALSE);
    fed_ += n;
    off += n;
    if (st == XML_STATUS_ERROR && status_.ok()) {
      const XML_Error code = XML_GetErrorCode(p);
      status_.kind = code == XML_ERROR_MISPLACED_XML_PI || code == XML_ERROR_EXTERNAL_ENTITY_HANDLING
                         ? StreamErrorKind::RestrictedXml
                         : StreamErrorKind::NotWellFormed;
      status_.what = XML_ErrorString(code);
    }
  }
  out_ = nullptr;
  return status_;
}

}  // namespace junction::xmpp
