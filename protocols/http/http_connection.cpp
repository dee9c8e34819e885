#include "http_connection.h"

#include "http_response.h"
#include "log.h"

namespace junction::http {

HttpConnection::HttpConnection(HttpProtocol& proto, core::ConnectionSink& sink)
    : proto_(proto), sink_(sink), parser_(proto.options().limits) {
  last_activity_ms_ = proto.broker().clock().now_ms();
  proto_.add(this);
}

HttpConnection::~HttpConnection() {
  proto_.broker().persistence().cancel(this);
  proto_.remove(this);
}

std::size_t HttpConnection::on_bytes(std::span<const std::uint8_t> data) {
  if (closing_ || closed_) return data.size();
  const std::int64_t now = proto_.broker().clock().now_ms();
  last_activity_ms_ = now;
  std::size_t used = 0;
  while (used < data.size() && !closing_) {
    if (request_started_ms_ == 0) request_started_ms_ = now;
    const auto r = parser_.consume(data.subspan(used));
    used += r.consumed;
    if (r.status == HttpRequestParser::Status::NeedMore) break;
    if (r.status == HttpRequestParser::Status::Error) {
      refuse(r.error_status, r.error);
      return data.size();
    }
    request_started_ms_ = 0;
    const HttpRequest& req = parser_.request();
    HttpResponse resp = proto_.service().handle(req, sink_.info());
    if (!req.keep_alive || proto_.shutting_down()) resp.close = true;
    answer(req, std::move(resp));
    // Pipelining stops at a closing answer; a client that sent more must resend.
    if (r.consumed == 0) break;  // defensive: the parser made no progress
  }
  // Past 64 answers owed to the store, stop reading (back-pressure, as the
  // client front-ends do past their owed answers).
  sink_.pause_reading(owed_.size() > 64);
  return used < data.size() && !closing_ ? used : data.size();
}

void HttpConnection::answer(const HttpRequest& req, HttpResponse r) {
  const bool head = req.method == "HEAD";
  Owed o;
  o.ticket = r.commit_ticket;
  o.close = r.close;
  o.head = head;
  o.bytes = encode_response(r.status, r.content_type, r.body, !r.close, r.headers, head);
  owed_.push_back(std::move(o));
  if (r.close) closing_ = true;
  release();
}

void HttpConnection::refuse(int status, const char* why) {
  log::info("http %s: %d %s; closing", sink_.info().peer_address.c_str(), status, why);
  Owed o;
  o.bytes = encode_response(status, "application/json", json_error_body(why), false);
  o.close = true;
  owed_.push_back(std::move(o));
  closing_ = true;
  release();
}

void HttpConnection::release() {
  if (closed_) return;
  core::Persistence& p = proto_.broker().persistence();
  while (!owed_.empty()) {
    Owed& o = owed_.front();
    if (o.ticket != 0 && !p.committed(o.ticket)) {
      p.wait(this);
      break;
    }
    if (o.ticket != 0 && p.failed(o.ticket)) {
      o.bytes = encode_response(500, "application/json", json_error_body("the store could not commit the change"),
                                !o.close, {}, o.head);
    }
    sink_.write(o.bytes);
    const bool close = o.close;
    owed_.pop_front();
    if (close) {
      owed_.clear();
      closing_ = true;
      sink_.close_after_flush();
      return;
    }
  }
  if (owed_.size() <= 64 && !closing_) sink_.pause_reading(false);
  if (closing_ && owed_.empty()) sink_.close_after_flush();
}

void HttpConnection::on_closed() {
  closed_ = true;
  proto_.broker().persistence().cancel(this);
  owed_.clear();
}

void HttpConnection::on_tick(std::int64_t now_ms) {
  if (closed_ || closing_) return;
  const HttpOptions& o = proto_.options();
  if (request_started_ms_ != 0 && parser_.in_request() && now_ms - request_started_ms_ > o.request_timeout_ms) {
    refuse(408, "request not complete in time");
    return;
  }
  if (owed_.empty() && !parser_.in_request() && now_ms - last_activity_ms_ > o.idle_timeout_ms) {
    closing_ = true;
    sink_.close_after_flush();
  }
}

void HttpConnection::shutdown() {
  if (closed_) return;
  closing_ = true;
  if (owed_.empty()) sink_.close_after_flush();
}

}  // namespace junction::http
