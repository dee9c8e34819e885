// junction::http response encoding: status line, headers, body.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "http_request_parser.h"

namespace junction::http {

// "OK", "Not Found", ...; "Unknown" for codes it does not know.
const char* reason_phrase(int status);

// A whole HTTP/1.1 response: status line, Content-Type (unless empty),
// Content-Length, "Connection: close" when !keep_alive, the extra headers,
// a blank line, then the body. HEAD answers: pass `head_only` (headers say
// the body's length, no body bytes). 1xx and 204 answers carry neither
// Content-Type, Content-Length nor body (RFC 9110 8.6). CR/LF in header
// names and values are dropped (no response splitting).
std::string encode_response(int status, std::string_view content_type, std::string_view body, bool keep_alive,
                            std::span<const HttpHeader> extra = {}, bool head_only = false);

// {"error": "<message>"} with JSON string escaping (RFC 8259 7); bytes that
// are not well-formed UTF-8 become \ufffd.
std::string json_error_body(std::string_view message);

}  // namespace junction::http
