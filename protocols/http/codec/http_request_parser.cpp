// HttpRequestParser over libhttp-parser 2.9 (see the header for the contract).
//
// How libhttp-parser is driven:
//   - One request per consume(): on_message_complete pauses the parser, so
//     http_parser_execute() returns right after the request's last byte with
//     HPE_PAUSED and the pipelined bytes after it stay with the caller. The
//     next consume() unpauses and starts the next request.
//   - Data callbacks (url, header field/value, body) may come in several
//     pieces for one item (libhttp-parser reports what it has at the end of
//     every execute call), so they only append.
//   - Limits are enforced by us: libhttp-parser's own header limit
//     (HTTP_MAX_HEADER_SIZE, 80 KiB) is a compile-time/process-global knob.
//     Before the head is complete we never hand execute() more bytes than the
//     head budget has left, so no string grows past max_head_bytes and the
//     431 comes at the same byte whatever the split.
//   - A callback that refuses returns nonzero after recording the status and
//     reason in Impl; execute() then stops with an HPE_CB_* error. Refusals
//     happen only in notify callbacks (headers/message complete, chunk
//     header), which libhttp-parser calls at a fixed byte, so the answer
//     does not depend on how the stream was split (see on_header_field).
//   - Debian's build behaves as compiled with HTTP_PARSER_STRICT=0 (checked),
//     so it accepts bytes after a "Connection: close" request and HTTP/0.9
//     request lines ("GET /" then headers) which we answer with 505.
#include "http_request_parser.h"

#include <http_parser.h>

#include <algorithm>
#include <climits>

namespace junction::http {

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_ows(char c) { return c == ' ' || c == '\t'; }

void trim_ows(std::string& s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_ows(s[b])) ++b;
  while (e > b && is_ows(s[e - 1])) --e;
  s.erase(e);
  s.erase(0, b);
}

}  // namespace

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

struct HttpRequestParser::Impl {
  explicit Impl(const HttpLimits& l) : limits(l) {
    http_parser_settings_init(&settings);
    settings.on_message_begin = &Impl::on_message_begin;
    settings.on_url = &Impl::on_url;
    settings.on_header_field = &Impl::on_header_field;
    settings.on_header_value = &Impl::on_header_value;
    settings.on_headers_complete = &Impl::on_headers_complete;
    settings.on_body = &Impl::on_body;
    settings.on_chunk_header = &Impl::on_chunk_header;
    settings.on_message_complete = &Impl::on_message_complete;
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
  }

  HttpLimits limits;
  http_parser parser{};
  http_parser_settings settings{};

  HttpRequest req;
  bool in_request = false;
  bool headers_done = false;
  bool complete = false;          // req is a whole request; the next consume() starts over
  bool last_was_value = false;    // the last header callback was a value: a field starts a new line
  bool too_many_headers = false;  // past max_headers: reported at on_headers_complete
  std::size_t head_fed = 0;       // bytes given to execute() while the head was incomplete
  std::size_t trailer_count = 0;  // chunked trailers are counted against the limits, not kept
  std::size_t trailer_bytes = 0;
  std::string start;              // first bytes of the request line: spots the HTTP/2 preface

  // Set by a refusing callback; reported as the error.
  int fail_status = 0;
  const char* fail_reason = "";

  bool errored = false;
  Result error;

  static Impl& of(http_parser* p) { return *static_cast<Impl*>(p->data); }

  int refuse(int status, const char* reason) {
    fail_status = status;
    fail_reason = reason;
    return -1;
  }

  void start_next_request() {
    req = HttpRequest{};
    in_request = false;
    headers_done = false;
    complete = false;
    last_was_value = false;
    too_many_headers = false;
    head_fed = 0;
    trailer_count = 0;
    trailer_bytes = 0;
    start.clear();
  }

  // Keeps the first 3 bytes of the request line (leading CR/LF between
  // requests skipped, as libhttp-parser does) for the "PRI" check.
  void note_start(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n && start.size() < 3; ++i) {
      if (start.empty() && (p[i] == '\r' || p[i] == '\n')) continue;
      start.push_back(p[i]);
    }
  }

  Result fail(std::size_t consumed, int status, const char* reason) {
    errored = true;
    in_request = false;
    error = Result{Status::Error, consumed, status, reason};
    return error;
  }

  static int on_message_begin(http_parser* p) {
    of(p).in_request = true;
    return 0;
  }

  static int on_url(http_parser* p, const char* at, std::size_t n) {
    of(p).req.target.append(at, n);
    return 0;
  }

  // Header counts are checked at on_headers_complete / on_message_complete,
  // not here: libhttp-parser calls the data callbacks lazily (at the end of
  // each execute() or of the item), so a refusal here would come earlier or
  // later than a syntax error in the same bytes depending on the split. Past
  // the limit nothing more is stored, so nothing grows either way.
  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    Impl& self = of(p);
    const bool new_line = self.last_was_value || (!self.headers_done && self.req.headers.empty()) ||
                          (self.headers_done && self.trailer_count == 0);
    self.last_was_value = false;
    if (self.headers_done) {
      // Trailers: counted against the limits, then dropped (a trailer must
      // not change what the headers said).
      if (new_line) ++self.trailer_count;
      self.trailer_bytes += n;
      return 0;
    }
    if (new_line) {
      if (self.req.headers.size() >= self.limits.max_headers) self.too_many_headers = true;
      if (!self.too_many_headers) self.req.headers.emplace_back();
    }
    if (self.too_many_headers) return 0;
    std::string& name = self.req.headers.back().name;
    for (std::size_t i = 0; i < n; ++i) name.push_back(ascii_lower(at[i]));
    return 0;
  }

  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    Impl& self = of(p);
    self.last_was_value = true;
    if (self.headers_done) {
      self.trailer_bytes += n;
      return 0;
    }
    // libhttp-parser always reports a field before its value.
    if (self.too_many_headers || self.req.headers.empty()) return 0;
    self.req.headers.back().value.append(at, n);
    return 0;
  }

  static int on_headers_complete(http_parser* p) {
    Impl& self = of(p);
    self.headers_done = true;
    if (self.too_many_headers) return self.refuse(431, "too many header fields");
    for (auto& h : self.req.headers) trim_ows(h.value);
    self.req.version_major = p->http_major;
    self.req.version_minor = p->http_minor;
    if (p->http_major != 1 || p->http_minor > 1) return self.refuse(505, "HTTP version not supported");
    const auto method = static_cast<http_method>(p->method);
    self.req.method = http_method_str(method);

    http_parser_url u;
    http_parser_url_init(&u);
    const std::string& t = self.req.target;
    if (http_parser_parse_url(t.data(), t.size(), method == HTTP_CONNECT ? 1 : 0, &u) != 0) {
      return self.refuse(400, "invalid request target");
    }
    if ((u.field_set & (1U << UF_PATH)) != 0) {
      self.req.path = t.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
    }
    if ((u.field_set & (1U << UF_QUERY)) != 0) {
      self.req.query = t.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
    }

    // Refuse a declared body before any of it arrives (no 100-continue dance:
    // the client gets its 413 right after the head).
    const bool chunked = (p->flags & F_CHUNKED) != 0;
    if (!chunked && p->content_length != ULLONG_MAX && p->content_length > self.limits.max_body_bytes) {
      return self.refuse(413, "request body too large");
    }
    return 0;
  }

  static int on_chunk_header(http_parser* p) {
    Impl& self = of(p);
    // content_length holds this chunk's size here.
    if (p->content_length > self.limits.max_body_bytes - self.req.body.size()) {
      return self.refuse(413, "request body too large");
    }
    return 0;
  }

  static int on_body(http_parser* p, const char* at, std::size_t n) {
    Impl& self = of(p);
    // Unreachable after the Content-Length and chunk-size checks; kept so the
    // body can never grow past the limit.
    if (n > self.limits.max_body_bytes - self.req.body.size()) return self.refuse(413, "request body too large");
    self.req.body.append(at, n);
    return 0;
  }

  static int on_message_complete(http_parser* p) {
    Impl& self = of(p);
    if (self.req.headers.size() + self.trailer_count > self.limits.max_headers) {
      return self.refuse(431, "too many header fields");
    }
    if (self.trailer_bytes > self.limits.max_head_bytes) return self.refuse(431, "trailer section too large");
    self.req.keep_alive = http_should_keep_alive(p) != 0;
    self.in_request = false;
    self.complete = true;
    http_parser_pause(p, 1);
    return 0;
  }

  Result map_error(std::size_t consumed) {
    const auto err = HTTP_PARSER_ERRNO(&parser);
    if (fail_status != 0) return fail(consumed, fail_status, fail_reason);
    if (err == HPE_HEADER_OVERFLOW) return fail(consumed, 431, "request head too large");
    // libhttp-parser knows no "PRI" method: the HTTP/2 connection preface
    // ("PRI * HTTP/2.0") fails on its 'I'.
    if (err == HPE_INVALID_METHOD && start == "PRI") return fail(consumed, 505, "HTTP/2 is not supported");
    return fail(consumed, 400, http_errno_description(err));
  }

  Result consume(std::span<const std::uint8_t> data) {
    if (errored) return Result{Status::Error, 0, error.error_status, error.error};
    if (complete) {
      start_next_request();
      http_parser_pause(&parser, 0);
    }
    const char* bytes = reinterpret_cast<const char*>(data.data());
    std::size_t pos = 0;
    while (pos < data.size()) {
      std::size_t n = data.size() - pos;
      if (!headers_done) {
        const std::size_t left = limits.max_head_bytes - head_fed;
        if (left == 0) return fail(pos, 431, "request head too large");
        n = std::min(n, left);
        note_start(bytes + pos, n);
      }
      const bool head_piece = !headers_done;
      const std::size_t got = http_parser_execute(&parser, &settings, bytes + pos, n);
      if (head_piece) head_fed += got;
      pos += got;
      const auto err = HTTP_PARSER_ERRNO(&parser);
      if (err == HPE_PAUSED && complete) return Result{Status::Request, pos};
      if (err != HPE_OK) return map_error(pos);
      // HPE_OK with bytes left over only happens when libhttp-parser stops
      // for an upgrade, which is always after message_complete (paused
      // above); never loop without progress.
      if (got < n) return fail(pos, 400, "request parsing stopped");
    }
    return Result{Status::NeedMore, pos};
  }
};

HttpRequestParser::HttpRequestParser(const HttpLimits& limits) : impl_(std::make_unique<Impl>(limits)) {}

HttpRequestParser::~HttpRequestParser() = default;

HttpRequestParser::Result HttpRequestParser::consume(std::span<const std::uint8_t> data) {
  return impl_->consume(data);
}

const HttpRequest& HttpRequestParser::request() const { return impl_->req; }

bool HttpRequestParser::in_request() const { return impl_->in_request; }

}  // namespace junction::http
