// junction::http::HttpConnection — one HTTP/1.1 connection: parses
// requests (HttpRequestParser), asks the service, and writes the answers
// in request order; an answer that promises a durable change waits for its
// commit, and every answer behind it waits too (as MQTT's PUBACKs do).
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "frontend.h"
#include "http_protocol.h"
#include "http_request_parser.h"
#include "intrusive_list.h"
#include "persistence.h"

namespace junction::http {

class HttpConnection final : public core::IntrusiveList<HttpConnection>::Hook,
                             public core::ProtocolHandler,
                             public core::CommitWaiter {
 public:
  HttpConnection(HttpProtocol& proto, core::ConnectionSink& sink);
  ~HttpConnection() override;

  std::size_t on_bytes(std::span<const std::uint8_t> data) override;
  void on_closed() override;
  void on_tick(std::int64_t now_ms) override;
  void on_commit() override { release(); }

  // The broker is stopping: answers owed go out, then the connection closes.
  void shutdown();

 private:
  struct Owed {
    std::uint64_t ticket = 0;
    std::string bytes;
    bool close = false;
    bool head = false;  // HEAD: a failed commit's 500 has no body either
  };
  void answer(const HttpRequest& req, HttpResponse r);
  void refuse(int status, const char* why);  // a request the parser refused: answer, then close
  void release();
  void close_after_owed();

  HttpProtocol& proto_;
  core::ConnectionSink& sink_;
  HttpRequestParser parser_;
  std::deque<Owed> owed_;
  std::int64_t last_activity_ms_ = 0;
  std::int64_t request_started_ms_ = 0;  // 0: between requests
  bool closing_ = false;   // no more input: close once owed_ is out
  bool closed_ = false;    // the transport is gone
};

}  // namespace junction::http
