#include "http_message.h"

#include <http_parser.h>
#include <mbedtls/base64.h>

#include <cctype>
#include <cstdint>

#ifndef JUNCTION_VERSION
#define JUNCTION_VERSION "0.0.0"
#endif

namespace junction::ctl {

std::string base64(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
  std::size_t n = 0;
  mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &n,
                        reinterpret_cast<const unsigned char*>(in.data()), in.size());
  out.resize(n);
  return out;
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string credentials;
  credentials.reserve(user.size() + 1 + password.size());
  credentials.append(user).append(":").append(password);
  return "Basic " + base64(credentials);
}

std::string encode_request(const HttpRequest& req, std::string_view authority) {
  std::string out;
  out.reserve(256 + req.body.size());
  out.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(authority).append("\r\n");
  out.append("User-Agent: junction-ctl/" JUNCTION_VERSION "\r\n");
  out.append("Accept: application/json\r\n");
  if (!req.authorization.empty()) out.append("Authorization: ").append(req.authorization).append("\r\n");
  // A POST always says how long its (possibly empty) body is: servers may
  // answer 411 otherwise.
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    out.append("Content-Type: application/json\r\n");
    out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  }
  out.append("Connection: close\r\n\r\n");
  out.append(req.body);
  return out;
}

const std::string* HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

struct ResponseParser::Impl {
  http_parser parser{};
  http_parser_settings settings{};
  std::size_t max_body;
  HttpResponse response;
  std::string error;
  Status status = Status::NeedMore;
  bool in_value = false;  // the last header callback was a value

  explicit Impl(std::size_t max_body_bytes) : max_body(max_body_bytes) {
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = this;
    settings.on_status = [](http_parser* p, const char* at, std::size_t len) {
      self(p).response.reason.append(at, len);
      return 0;
    };
    settings.on_header_field = [](http_parser* p, const char* at, std::size_t len) {
      Impl& s = self(p);
      if (s.in_value || s.response.headers.empty()) s.response.headers.emplace_back();
      s.in_value = false;
      for (std::size_t i = 0; i < len; ++i)
        s.response.headers.back().first += static_cast<char>(std::tolower(static_cast<unsigned char>(at[i])));
      return 0;
    };
    settings.on_header_value = [](http_parser* p, const char* at, std::size_t len) {
      Impl& s = self(p);
      s.in_value = true;
      s.response.headers.back().second.append(at, len);
      return 0;
    };
    settings.on_headers_complete = [](http_parser* p) {
      Impl& s = self(p);
      s.response.status = static_cast<int>(p->status_code);
      // Without a Content-Length the field is ULLONG_MAX.
      if (p->content_length != ULLONG_MAX && p->content_length > s.max_body) {
        s.error = "answer body too large (" + std::to_string(p->content_length) + " bytes)";
        return -1;
      }
      return 0;
    };
    settings.on_body = [](http_parser* p, const char* at, std::size_t len) {
      Impl& s = self(p);
      if (s.response.body.size() + len > s.max_body) {
        s.error = "answer body too large (over " + std::to_string(s.max_body) + " bytes)";
        return -1;
      }
      s.response.body.append(at, len);
      return 0;
    };
    settings.on_message_complete = [](http_parser* p) {
      self(p).status = Status::Done;
      http_parser_pause(p, 1);  // one answer per connection: the rest is not ours
      return 0;
    };
  }

  static Impl& self(http_parser* p) { return *static_cast<Impl*>(p->data); }

  Status run(const char* data, std::size_t len) {
    if (status != Status::NeedMore) return status;
    const std::size_t used = http_parser_execute(&parser, &settings, data, len);
    if (status == Status::Done) return status;
    const auto err = HTTP_PARSER_ERRNO(&parser);
    if (err != HPE_OK || used != len) {
      if (error.empty()) {
        error = len == 0 ? "the server closed the connection before the answer was complete"
                         : std::string("malformed HTTP answer: ") + http_errno_description(err);
      }
      status = Status::Error;
    }
    return status;
  }
};

ResponseParser::ResponseParser(std::size_t max_body_bytes) : impl_(std::make_unique<Impl>(max_body_bytes)) {}
ResponseParser::~ResponseParser() = default;

ResponseParser::Status ResponseParser::feed(std::span<const char> data) {
  if (data.empty()) return impl_->status;
  return impl_->run(data.data(), data.size());
}

ResponseParser::Status ResponseParser::finish() {
  if (impl_->status != Status::NeedMore) return impl_->status;
  // A zero-length execute is libhttp-parser's end of stream: it completes a
  // read-until-close body, and fails anything cut short.
  impl_->run(nullptr, 0);
  if (impl_->status == Status::NeedMore) {
    impl_->error = "the server closed the connection before the answer was complete";
    impl_->status = Status::Error;
  }
  return impl_->status;
}

const HttpResponse& ResponseParser::response() const { return impl_->response; }
const std::string& ResponseParser::error() const { return impl_->error; }

}  // namespace junction::ctl
