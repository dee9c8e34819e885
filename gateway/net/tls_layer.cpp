#include "tls_layer.h"

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include <cstring>

namespace junction::net {

std::string certificate_identity(const mbedtls_x509_crt& cert) {
  for (const mbedtls_x509_name* n = &cert.subject; n != nullptr; n = n->next) {
    if (n->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
      return std::string(reinterpret_cast<const char*>(n->val.p), n->val.len);
  }
  // subject_alt_names keeps each entry's raw value and its context tag:
  // [1] rfc822Name, [2] dNSName are strings.
  for (const mbedtls_x509_sequence* s = &cert.subject_alt_names; s != nullptr; s = s->next) {
    if (s->buf.p == nullptr) continue;
    int tag = s->buf.tag & ~(MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED);
    if ((s->buf.tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC) != 0 && (tag == 1 || tag == 2))
      return std::string(reinterpret_cast<const char*>(s->buf.p), s->buf.len);
  }
  return {};
}

TlsLayer::TlsLayer(std::shared_ptr<const TlsContext> context, const std::string& server_name)
    : context_(std::move(context)) {
  mbedtls_ssl_init(&ssl_);
  int r = mbedtls_ssl_setup(&ssl_, static_cast<const mbedtls_ssl_config*>(context_->ssl_config()));
  if (r != 0) {
    fail(r, "setup");
    return;
  }
  if (context_->role() == TlsContext::Role::Client && !server_name.empty()) {
    r = mbedtls_ssl_set_hostname(&ssl_, server_name.c_str());
    if (r != 0) fail(r, "server name");
  }
  mbedtls_ssl_set_bio(&ssl_, this, &TlsLayer::send_cb, &TlsLayer::recv_cb, nullptr);
}

TlsLayer::~TlsLayer() { mbedtls_ssl_free(&ssl_); }

int TlsLayer::send_cb(void* self, const unsigned char* buf, std::size_t len) {
  auto* t = static_cast<TlsLayer*>(self);
  if (t->down_ == nullptr) return MBEDTLS_ERR_SSL_WANT_WRITE;
  t->down_->append(reinterpret_cast<const char*>(buf), len);
  return static_cast<int>(len);
}

int TlsLayer::recv_cb(void* self, unsigned char* buf, std::size_t len) {
  auto* t = static_cast<TlsLayer*>(self);
  if (t->in_.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
  std::size_t n = std::min(len, t->in_.size());
  std::memcpy(buf, t->in_.data(), n);
  t->in_ = t->in_.subspan(n);
  return static_cast<int>(n);
}

LayerStatus TlsLayer::fail(int code, const char* stage) {
  closed_ = true;
  error_ = std::string("TLS ") + stage + " failed: " + tls_error_text(code);
  std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
  if (code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0 && flags != static_cast<std::uint32_t>(-1)) {
    char info[256];
    int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    if (n > 0) {
      std::string text(info, static_cast<std::size_t>(n));
      while (!text.empty() && text.back() == '\n') text.pop_back();
      for (char& c : text)
        if (c == '\n') c = ';';
      error_ += " (" + text + ")";
    }
  }
  return LayerStatus::Error;
}

LayerStatus TlsLayer::start(std::string& down) {
  if (closed_) return LayerStatus::Error;
  if (context_->role() != TlsContext::Role::Client) return LayerStatus::Ok;
  down_ = &down;
  LayerStatus s = handshake();
  down_ = nullptr;
  return s;
}

LayerStatus TlsLayer::handshake() {
  int r = mbedtls_ssl_handshake(&ssl_);
  if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return LayerStatus::Ok;
  if (r != 0) return fail(r, "handshake");
  open_ = true;
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
  if (peer != nullptr) {
    // Under optional verification mbedTLS completes the handshake with a
    // certificate that failed; a presented certificate must verify.
    std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
    if (flags != 0 && context_->has_ca()) {
      mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
      open_ = false;
      return fail(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, "handshake");
    }
    if (flags == 0) peer_identity_ = certificate_identity(*peer);
  }
  return LayerStatus::Ok;
}

LayerStatus TlsLayer::read_records(std::string& up) {
  unsigned char buf[16384];
  for (;;) {
    int r = mbedtls_ssl_read(&ssl_, buf, sizeof buf);
    if (r > 0) {
      up.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(r));
      continue;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return LayerStatus::Ok;
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      closed_ = true;
      error_ = "peer closed the TLS session";
      return LayerStatus::Close;
    }
    return fail(r, "read");
  }
}

LayerStatus TlsLayer::on_input(std::span<const std::uint8_t> in, std::string& up, std::string& down) {
  if (closed_) return LayerStatus::Close;
  in_ = in;
  down_ = &down;
  LayerStatus s = LayerStatus::Ok;
  if (!open_) s = handshake();
  // Application records may follow the last handshake message.
  if (s == LayerStatus::Ok && open_) s = read_records(up);
  in_ = {};
  down_ = nullptr;
  return s;
}

LayerStatus TlsLayer::on_output(std::string_view app, std::string& down) {
  if (closed_ || !open_) return LayerStatus::Close;
  down_ = &down;
  LayerStatus s = LayerStatus::Ok;
  while (!app.empty()) {
    int r = mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(app.data()), app.size());
    if (r < 0) {
      s = fail(r, "write");
      break;
    }
    app.remove_prefix(static_cast<std::size_t>(r));
  }
  down_ = nullptr;
  return s;
}

void TlsLayer::shutdown(std::string& down) {
  if (closed_ || !open_) return;
  closed_ = true;
  down_ = &down;
  (void)mbedtls_ssl_close_notify(&ssl_);
  down_ = nullptr;
}

std::string TlsLayer::describe() const {
  return std::string(mbedtls_ssl_get_version(&ssl_)) + " " + mbedtls_ssl_get_ciphersuite(&ssl_);
}

}  // namespace junction::net
