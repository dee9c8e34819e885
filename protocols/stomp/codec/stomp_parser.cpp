// Incremental STOMP frame parser (see stomp_codec.h for the wire rules).
//
// State machine over one frame, resumable between calls:
//   Start    -> heart-beat EOLs are answered one by one; anything else starts
//               a frame
//   Command  -> scan for the LF ending the command line
//   Headers  -> one line at a time; each complete line is split, checked
//               (colon, name, escapes, count, length) and recorded as offsets
//   Body     -> content-length bytes then NUL, or up to the first NUL
// Offsets, not pointers, are kept between calls, because the caller's buffer
// may move when it grows. Views are made only when the frame is complete.
//
// Split invariance: every check is decided by a prefix of the frame, and all
// scanning stops at `window` = min(buffer, max_frame_size). So the answer for a
// buffer depends only on its first max_frame_size bytes plus whether more
// exist, and feeding a stream in any pieces yields the same results as
// feeding it whole (the unit tests check every split point).
#include <algorithm>
#include <cstring>

#include "stomp_internal.h"

namespace junction::stomp {

namespace {

constexpr std::uint8_t kLF = '\n';
constexpr std::uint8_t kCR = '\r';

std::size_t find_byte(const std::uint8_t* p, std::size_t from, std::size_t to, std::uint8_t b) {
  if (from >= to) return to;
  const void* hit = std::memchr(p + from, b, to - from);
  return hit == nullptr ? to : static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - p);
}

// Length of line content in [start, end) without one trailing CR. For an
// unfinished line this is a lower bound of its final length (a trailing CR
// may still turn out to be part of the EOL).
std::size_t line_length(const std::uint8_t* p, std::size_t start, std::size_t end) {
  std::size_t n = end - start;
  if (n > 0 && p[end - 1] == kCR) --n;
  return n;
}

}  // namespace

void StompFrameParser::set_version(Version v) {
  version_ = v;
  reset();
}

void StompFrameParser::set_limits(const StompLimits& l) {
  limits_ = l;
  reset();
}

void StompFrameParser::reset() {
  phase_ = Phase::Start;
  pos_ = 0;
  line_start_ = 0;
  header_end_ = 0;
  content_length_ = 0;
  has_content_length_ = false;
  escaped_ = false;
  slots_.clear();
}

ParseResult StompFrameParser::fail(Status& status, Reason r, const char* what) {
  status = Status::error(r, what);
  reset();
  return ParseResult::Error;
}

// Called when the scan reached the end of the window without finishing the
// frame. If the window was cut by max_frame_size, the frame cannot fit.
ParseResult StompFrameParser::need_more(Status& status, bool truncated) {
  if (truncated) return fail(status, Reason::FrameTooLarge, "frame exceeds the maximum frame size");
  return ParseResult::NeedMore;
}

Status StompFrameParser::add_header(const std::uint8_t* p, std::size_t start, std::size_t end) {
  const std::size_t colon = find_byte(p, start, end, ':');
  if (colon == end) return Status::error(Reason::MissingColon, "header line without ':'");
  if (colon == start) return Status::error(Reason::EmptyHeaderName, "header line with an empty name");
  Slot s{start, colon - start, colon + 1, end - colon - 1, false, false};
  if (escaped_) {
    if (!detail::valid_escapes(detail::as_chars(p + s.name_off, s.name_len), version_, s.name_escaped) ||
        !detail::valid_escapes(detail::as_chars(p + s.value_off, s.value_len), version_, s.value_escaped))
      return Status::error(Reason::InvalidEscape, "undefined escape sequence in a header");
  }
  slots_.push_back(s);
  return Status{};
}

// The header block ended: find the body length. Only the first
// content-length counts ("Repeated Header Entries"). An escaped name can
// never decode to "content-length" (escapes only yield LF CR ':' '\'), so
// the raw comparison is exact. A body that cannot fit or is not allowed is
// refused here, before the caller buffers it.
Status StompFrameParser::start_body(const std::uint8_t* p, std::size_t header_end) {
  header_end_ = header_end;
  pos_ = header_end;
  phase_ = Phase::Body;
  has_content_length_ = false;
  for (const Slot& s : slots_) {
    if (detail::as_chars(p + s.name_off, s.name_len) != "content-length") continue;
    if (!detail::parse_content_length(detail::as_chars(p + s.value_off, s.value_len), content_length_))
      return Status::error(Reason::BadContentLength, "content-length is not a decimal byte count");
    has_content_length_ = true;
    break;
  }
  if (!has_content_length_) return Status{};
  if (content_length_ > 0 && !command_allows_body(command_))
    return Status::error(Reason::BodyNotAllowed, "only SEND, MESSAGE and ERROR frames may have a body");
  if (content_length_ >= limits_.max_frame_size || header_end_ + content_length_ + 1 > limits_.max_frame_size)
    return Status::error(Reason::FrameTooLarge, "content-length exceeds the maximum frame size");
  return Status{};
}

ParseResult StompFrameParser::next(ByteSpan buf, StompFrame& out, Status& status) {
  status = Status{};
  const std::uint8_t* p = buf.data();
  const std::size_t n = buf.size();
  if (n < pos_ || n < line_start_) reset();  // the caller dropped bytes: rescan

  if (phase_ == Phase::Start) {
    if (n == 0) return ParseResult::NeedMore;
    std::size_t eol = 0;
    if (p[0] == kLF) {
      eol = 1;
    } else if (p[0] == kCR) {
      if (n < 2) return ParseResult::NeedMore;
      if (p[1] != kLF) return fail(status, Reason::BadLineEnding, "carriage return not followed by line feed");
      eol = 2;
    }
    if (eol != 0) {
      out.clear();
      out.total_size = eol;
      return ParseResult::Heartbeat;
    }
    phase_ = Phase::Command;
    pos_ = 0;
    line_start_ = 0;
  }

  const std::size_t window = std::min(n, limits_.max_frame_size);
  const bool truncated = n > limits_.max_frame_size;

  if (phase_ == Phase::Command) {
    const std::size_t lf = find_byte(p, pos_, window, kLF);
    if (lf == window) {
      pos_ = window;
      if (line_length(p, 0, window) > limits_.max_command_length)
        return fail(status, Reason::CommandTooLong, "command line exceeds the maximum command length");
      return need_more(status, truncated);
    }
    const std::size_t len = line_length(p, 0, lf);
    if (len > limits_.max_command_length)
      return fail(status, Reason::CommandTooLong, "command line exceeds the maximum command length");
    const std::optional<Command> cmd = command_from_name(detail::as_chars(p, len));
    if (!cmd) return fail(status, Reason::UnknownCommand, "unknown command");
    command_ = *cmd;
    escaped_ = detail::headers_escaped(command_, version_);
    slots_.clear();
    phase_ = Phase::Headers;
    line_start_ = pos_ = lf + 1;
  }

  while (phase_ == Phase::Headers) {
    const std::size_t ls = line_start_;
    if (ls >= window) return need_more(status, truncated);
    // A blank line (LF or CR LF) ends the header block.
    std::size_t blank = 0;
    if (p[ls] == kLF) {
      blank = 1;
    } else if (p[ls] == kCR) {
      if (ls + 1 >= window) return need_more(status, truncated);
      if (p[ls + 1] == kLF) blank = 2;
      // Otherwise the CR is the first byte of a header name.
    }
    if (blank != 0) {
      const Status s = start_body(p, ls + blank);
      if (!s.ok()) return fail(status, s.reason, s.what);
      break;
    }
    if (slots_.size() >= limits_.max_headers)
      return fail(status, Reason::TooManyHeaders, "frame exceeds the maximum number of headers");
    const std::size_t lf = find_byte(p, std::max(pos_, ls), window, kLF);
    if (lf == window) {
      pos_ = window;
      if (line_length(p, ls, window) > limits_.max_header_line)
        return fail(status, Reason::HeaderLineTooLong, "header line exceeds the maximum length");
      return need_more(status, truncated);
    }
    const std::size_t len = line_length(p, ls, lf);
    if (len > limits_.max_header_line)
      return fail(status, Reason::HeaderLineTooLong, "header line exceeds the maximum length");
    const Status s = add_header(p, ls, ls + len);
    if (!s.ok()) return fail(status, s.reason, s.what);
    line_start_ = pos_ = lf + 1;
  }

  // Phase::Body
  if (has_content_length_) {
    const std::size_t total = header_end_ + content_length_ + 1;  // <= max_frame_size, so not truncated
    if (n < total) return ParseResult::NeedMore;
    if (p[total - 1] != 0)
      return fail(status, Reason::MissingNul, "body is longer than content-length (no NUL after it)");
    return complete(buf, out, content_length_, total);
  }
  if (!command_allows_body(command_)) {
    if (header_end_ >= window) return need_more(status, truncated);
    if (p[header_end_] != 0)
      return fail(status, Reason::BodyNotAllowed, "only SEND, MESSAGE and ERROR frames may have a body");
    return complete(buf, out, 0, header_end_ + 1);
  }
  const std::size_t nul = find_byte(p, pos_, window, 0);
  if (nul == window) {
    pos_ = window;
    return need_more(status, truncated);
  }
  return complete(buf, out, nul - header_end_, nul + 1);
}

ParseResult StompFrameParser::complete(ByteSpan buf, StompFrame& out, std::size_t body_len, std::size_t total) {
  const std::uint8_t* p = buf.data();
  out.command = command_;
  out.body = buf.subspan(header_end_, body_len);
  out.total_size = total;
  out.headers.clear();

  // Decoded text is never longer than its escaped form, so the scratch
  // buffer is sized once per frame and grows only when a frame needs more
  // than any before it.
  std::size_t need = 0;
  for (const Slot& s : slots_) {
    if (s.name_escaped) need += s.name_len;
    if (s.value_escaped) need += s.value_len;
  }
  out.scratch_.clear();
  if (need > 0) out.scratch_.resize(need);
  char* w = out.scratch_.data();
  auto text = [&](std::size_t off, std::size_t len, bool escaped) -> std::string_view {
    const std::string_view raw = detail::as_chars(p + off, len);
    if (!escaped) return raw;
    const std::size_t k = detail::unescape(raw, w);
    const std::string_view v(w, k);
    w += k;
    return v;
  };
  for (const Slot& s : slots_) {
    const std::string_view name = text(s.name_off, s.name_len, s.name_escaped);
    const std::string_view value = text(s.value_off, s.value_len, s.value_escaped);
    out.headers.push_back(Header{name, value});
  }
  reset();
  return ParseResult::Frame;
}

}  // namespace junction::stomp
