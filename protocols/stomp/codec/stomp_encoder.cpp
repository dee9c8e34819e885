// Frame encoder. Writes exactly what the parser reads back: same command,
// same headers in the same order, same body (see encode_frame in the header
// for what is refused and why).
#include <charconv>
#include <cstring>

#include "stomp_internal.h"

namespace junction::stomp {

namespace {

constexpr std::string_view kContentLength = "content-length";

void append_decimal(std::size_t v, std::string& out) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  out.append(digits, static_cast<std::size_t>(r.ptr - digits));
}

}  // namespace

Status encode_frame(Command cmd, std::span<const Header> headers, ByteSpan body, Version v, std::string& out,
                    bool add_content_length) {
  const std::size_t mark = out.size();
  auto refuse = [&](const char* what) {
    out.resize(mark);
    return Status::error(Reason::Unencodable, what);
  };
  if (!body.empty() && !command_allows_body(cmd)) return refuse("only SEND, MESSAGE and ERROR frames may have a body");

  // 1.2 "Header content-length": MESSAGE frames from this broker always say
  // how long the body is, so clients never scan binary bodies for NUL.
  const bool auto_length = add_content_length || cmd == Command::Message;
  const bool escape = detail::headers_escaped(cmd, v);

  std::size_t size = command_name(cmd).size() + 3 + body.size() + 24;
  for (const Header& h : headers) size += 2 * (h.name.size() + h.value.size()) + 2;
  out.reserve(mark + size);

  out.append(command_name(cmd));
  out.push_back('\n');
  const Header* declared = nullptr;
  for (const Header& h : headers) {
    if (h.name == kContentLength) {
      if (auto_length) continue;
      if (declared == nullptr) declared = &h;
    }
    if (const char* why = detail::append_header_text(h.name, true, escape, v, out)) return refuse(why);
    out.push_back(':');
    if (const char* why = detail::append_header_text(h.value, false, escape, v, out)) return refuse(why);
    out.push_back('\n');
  }
  if (auto_length) {
    out.append(kContentLength);
    out.push_back(':');
    append_decimal(body.size(), out);
    out.push_back('\n');
  } else if (declared != nullptr) {
    std::size_t n = 0;
    if (!detail::parse_content_length(declared->value, n) || n != body.size())
      return refuse("content-length header does not match the body size");
  } else if (!body.empty() && std::memchr(body.data(), 0, body.size()) != nullptr) {
    return refuse("body contains NUL but the frame has no content-length");
  }
  out.push_back('\n');
  out.append(reinterpret_cast<const char*>(body.data()), body.size());
  out.push_back('\0');
  return Status{};
}

void encode_heartbeat(std::string& out) { out.push_back('\n'); }

}  // namespace junction::stomp
