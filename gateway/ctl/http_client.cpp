#include "http_client.h"

#include <memory>

namespace junction::ctl {

HttpResult perform(const ClientOptions& options, HttpRequest req) {
  using Stage = TransportError::Stage;
  IoError err;
  std::unique_ptr<Stream> stream;
  auto tcp = TcpStream::connect(options.url.host, options.url.port, options.timeout_ms, err);
  if (!tcp) return TransportError{Stage::Connect, err.message};
  if (options.url.tls) {
    stream = tls_handshake(std::move(tcp), options.url.host, options.tls, err);
    if (!stream) return TransportError{Stage::Connect, err.message};
  } else {
    stream = std::move(tcp);
  }

  req.target = options.url.base_path + req.target;
  const std::string wire = encode_request(req, options.url.authority());
  if (!stream->send_all(wire, err)) return TransportError{Stage::Exchange, err.message};

  ResponseParser parser;
  char buf[16384];
  auto status = ResponseParser::Status::NeedMore;
  while (status == ResponseParser::Status::NeedMore) {
    const long n = stream->receive(buf, err);
    if (n < 0) return TransportError{Stage::Exchange, err.message};
    status = n == 0 ? parser.finish() : parser.feed(std::span<const char>(buf, static_cast<std::size_t>(n)));
  }
  if (status == ResponseParser::Status::Error) return TransportError{Stage::Exchange, parser.error()};
  return parser.response();
}

}  // namespace junction::ctl
