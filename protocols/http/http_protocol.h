// junction::http::HttpProtocol — the factory of an `http` listener's
// connections (the admin API, the dashboard, /metrics): HTTP/1.1 with
// keep-alive and pipelining, answers in request order, each sent once the
// commit it promises is done.
//
// Limits (http: in the config): request head and body sizes and the header
// count (the parser: 431 / 413); a request must be complete within
// request_timeout_ms of its first byte (slowloris: 408, then close); a
// connection idle for idle_timeout_ms between requests is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "broker.h"
#include "frontend.h"
#include "http_request_parser.h"
#include "http_service.h"
#include "intrusive_list.h"

namespace junction::http {

class HttpConnection;

struct HttpOptions {
  HttpLimits limits;
  std::uint32_t request_timeout_ms = 10000;
  std::uint32_t idle_timeout_ms = 60000;
};

class HttpProtocol final : public core::ProtocolFactory {
 public:
  HttpProtocol(core::Broker& broker, HttpService& service, const HttpOptions& options)
      : broker_(broker), service_(service), options_(options) {}

  std::unique_ptr<core::ProtocolHandler> create(core::ConnectionSink& sink) override;
  const char* protocol_name() const override { return "http"; }
  void shutdown() override;
  Counters counters() const override { return Counters{connections_, 0}; }

  core::Broker& broker() const { return broker_; }
  HttpService& service() const { return service_; }
  const HttpOptions& options() const { return options_; }
  bool shutting_down() const { return shutting_down_; }

  void add(HttpConnection* c);
  void remove(HttpConnection* c);

 private:
  core::Broker& broker_;
  HttpService& service_;
  HttpOptions options_;
  core::IntrusiveList<HttpConnection> live_;
  std::size_t connections_ = 0;
  bool shutting_down_ = false;
};

}  // namespace junction::http
