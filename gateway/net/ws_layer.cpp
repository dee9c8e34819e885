#include "ws_layer.h"

#include <cstring>

namespace junction::net {

WsLayer::WsLayer(const WsOptions& options) : options_(options), parser_(options.http) {}

WsLayer::~WsLayer() {
  if (ctx_ != nullptr) wslay_event_context_free(ctx_);
}

std::uint16_t WsLayer::close_code_sent() const {
  if (forced_1002_) return WSLAY_CODE_PROTOCOL_ERROR;
  if (ctx_ == nullptr || !wslay_event_get_close_sent(ctx_)) return 0;
  return wslay_event_get_status_code_sent(ctx_);
}

ssize_t WsLayer::recv_cb(wslay_event_context_ptr ctx, std::uint8_t* buf, std::size_t len, int, void* self) {
  auto* w = static_cast<WsLayer*>(self);
  if (w->in_.empty()) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  std::size_t n = std::min(len, w->in_.size());
  std::memcpy(buf, w->in_.data(), n);
  w->in_ = w->in_.subspan(n);
  return static_cast<ssize_t>(n);
}

ssize_t WsLayer::send_cb(wslay_event_context_ptr ctx, const std::uint8_t* data, std::size_t len, int, void* self) {
  auto* w = static_cast<WsLayer*>(self);
  if (w->down_ == nullptr) {  // cannot happen: send is only called with a sink
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  w->down_->append(reinterpret_cast<const char*>(data), len);
  return static_cast<ssize_t>(len);
}

void WsLayer::frame_start_cb(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg, void* self) {
  auto* w = static_cast<WsLayer*>(self);
  w->frame_opcode_ = arg->opcode;
  // Answer in the kind the client uses (continuations keep the kind).
  if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) w->out_opcode_ = arg->opcode;
}

void WsLayer::frame_chunk_cb(wslay_event_context_ptr, const wslay_event_on_frame_recv_chunk_arg* arg, void* self) {
  auto* w = static_cast<WsLayer*>(self);
  bool data = w->frame_opcode_ == WSLAY_CONTINUATION_FRAME || w->frame_opcode_ == WSLAY_TEXT_FRAME ||
              w->frame_opcode_ == WSLAY_BINARY_FRAME;
  if (data && w->up_ != nullptr) w->up_->append(reinterpret_cast<const char*>(arg->data), arg->data_length);
}

LayerStatus WsLayer::on_input(std::span<const std::uint8_t> in, std::string& up, std::string& down) {
  if (closed_) return LayerStatus::Close;
  if (ctx_ != nullptr) return frames(in, up, down);

  std::size_t used = 0;
  HttpRequestParser::Status st = parser_.feed(in, used);
  if (st == HttpRequestParser::Status::NeedMore) return LayerStatus::Ok;
  if (st == HttpRequestParser::Status::Error) {
    error_ = "bad upgrade request: " + parser_.error();
    down += http_refusal(parser_.error_status(), parser_.error());
    closed_ = true;
    return LayerStatus::Error;
  }
  UpgradePolicy policy{options_.endpoints, options_.allowed_origins};
  UpgradeDecision d = decide_upgrade(parser_.request(), policy);
  down += d.response;
  if (!d.accepted) {
    error_ = "upgrade refused (" + std::to_string(d.status) + "): " + d.reason;
    closed_ = true;
    return LayerStatus::Error;
  }
  endpoint_ = d.endpoint;
  subprotocol_ = d.subprotocol;
  auto e = static_cast<std::size_t>(d.endpoint);
  out_opcode_ = e < options_.text_frames.size() && options_.text_frames[e] ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME;

  wslay_event_callbacks cb{};
  cb.recv_callback = &WsLayer::recv_cb;
  cb.send_callback = &WsLayer::send_cb;
  cb.on_frame_recv_start_callback = &WsLayer::frame_start_cb;
  cb.on_frame_recv_chunk_callback = &WsLayer::frame_chunk_cb;
  if (wslay_event_context_server_init(&ctx_, &cb, this) != 0) {
    ctx_ = nullptr;
    error_ = "out of memory";
    closed_ = true;
    return LayerStatus::Error;
  }
  wslay_event_config_set_no_buffering(ctx_, 1);
  wslay_event_config_set_max_recv_msg_length(ctx_, options_.max_frame_size);
  // Frames may have followed the request in the same read.
  return frames(in.subspan(used), up, down);
}

LayerStatus WsLayer::frames(std::span<const std::uint8_t> in, std::string& up, std::string& down) {
  in_ = in;
  up_ = &up;
  down_ = &down;
  int rv = in.empty() ? 0 : wslay_event_recv(ctx_);
  LayerStatus s;
  if (rv != 0 && rv != WSLAY_ERR_NOMEM && !wslay_event_get_close_sent(ctx_)) {
    // Some violations (a fragmented control frame) make wslay fail the
    // read without a close frame; the peer still gets its 1002, written
    // here (an unmasked server close frame with the code).
    static const char kClose1002[] = {'\x88', '\x02', '\x03', '\xea'};
    down.append(kClose1002, sizeof kClose1002);
    closed_ = true;
    forced_1002_ = true;
    error_ = "WebSocket protocol error (close 1002)";
    s = LayerStatus::Error;
  } else {
    s = after_io(rv);
  }
  in_ = {};
  up_ = nullptr;
  down_ = nullptr;
  return s;
}

// Sends what wslay queued (pongs, close frames) and reads its state.
LayerStatus WsLayer::after_io(int rv) {
  if (rv == 0) rv = wslay_event_send(ctx_);
  if (rv != 0) {
    error_ = rv == WSLAY_ERR_NOMEM ? "out of memory" : "WebSocket I/O failed";
    closed_ = true;
    return LayerStatus::Error;
  }
  if (wslay_event_get_read_enabled(ctx_)) return LayerStatus::Ok;
  // Reading stopped: the peer closed, or wslay found a violation and queued
  // a close frame (1002 protocol error, 1009 too big), now sent.
  closed_ = true;
  std::uint16_t sent = close_code_sent();
  if (wslay_event_get_close_received(ctx_)) {
    error_ = "peer closed the WebSocket (code " + std::to_string(wslay_event_get_status_code_received(ctx_)) + ")";
    return LayerStatus::Close;
  }
  if (sent == WSLAY_CODE_MESSAGE_TOO_BIG) error_ = "WebSocket frame larger than " + std::to_string(options_.max_frame_size) + " bytes (close 1009)";
  else if (sent != 0) error_ = "WebSocket protocol error (close " + std::to_string(sent) + ")";
  else error_ = "WebSocket protocol error";
  return LayerStatus::Error;
}

LayerStatus WsLayer::on_output(std::string_view app, std::string& down) {
  if (ctx_ == nullptr || closed_) return LayerStatus::Close;
  if (app.empty()) return LayerStatus::Ok;
  wslay_event_msg msg{out_opcode_, reinterpret_cast<const std::uint8_t*>(app.data()), app.size()};
  int rv = wslay_event_queue_msg(ctx_, &msg);
  if (rv == WSLAY_ERR_NO_MORE_MSG) return LayerStatus::Close;  // a close was queued already
  if (rv != 0) {
    error_ = "cannot queue a WebSocket message";
    closed_ = true;
    return LayerStatus::Error;
  }
  down_ = &down;
  LayerStatus s = after_io(0);
  down_ = nullptr;
  return s;
}

void WsLayer::shutdown(std::string& down) {
  if (ctx_ == nullptr || closed_) return;
  closed_ = true;
  if (wslay_event_queue_close(ctx_, WSLAY_CODE_NORMAL_CLOSURE, nullptr, 0) != 0) return;
  down_ = &down;
  (void)wslay_event_send(ctx_);
  down_ = nullptr;
}

}  // namespace junction::net
