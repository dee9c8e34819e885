// junction::net::TlsLayer — one TLS session as a StreamLayer, driven by
// bytes only ("memory BIO"): mbedTLS's send/receive callbacks read the
// span handed to on_input() and append to the caller's `down` string, so
// the handshake advances whenever bytes arrive and never blocks.
//
// Server role (listeners) and client role (bridges that connect out) share
// the code; a client sends its hello from start(). After the handshake the
// verified peer certificate's subject CN (or its first DNS/e-mail SAN when
// there is no CN) is peer_identity(); empty when the peer sent none.
#pragma once

#include <mbedtls/ssl.h>

#include <memory>
#include <string>

#include "stream_layer.h"
#include "tls_context.h"

namespace junction::net {

class TlsLayer final : public StreamLayer {
 public:
  // Client role: `server_name` is sent as SNI and checked against the
  // server's certificate (when the context verifies).
  explicit TlsLayer(std::shared_ptr<const TlsContext> context, const std::string& server_name = {});
  ~TlsLayer() override;
  TlsLayer(const TlsLayer&) = delete;
  TlsLayer& operator=(const TlsLayer&) = delete;

  LayerStatus start(std::string& down) override;
  LayerStatus on_input(std::span<const std::uint8_t> in, std::string& up, std::string& down) override;
  LayerStatus on_output(std::string_view app, std::string& down) override;
  void shutdown(std::string& down) override;
  bool open() const override { return open_; }
  const std::string& error() const override { return error_; }

  const std::string& peer_identity() const { return peer_identity_; }
  // "TLSv1.2 TLS-ECDHE-...", after the handshake.
  std::string describe() const;

 private:
  LayerStatus handshake();
  LayerStatus read_records(std::string& up);
  LayerStatus fail(int code, const char* stage);

  static int send_cb(void* self, const unsigned char* buf, std::size_t len);
  static int recv_cb(void* self, unsigned char* buf, std::size_t len);

  std::shared_ptr<const TlsContext> context_;
  mbedtls_ssl_context ssl_;
  bool open_ = false;
  bool closed_ = false;
  std::string error_;
  std::string peer_identity_;
  // Valid during one call only.
  std::span<const std::uint8_t> in_;
  std::string* down_ = nullptr;
};

// The subject CN of a certificate, or its first DNS / e-mail SAN; "" when
// neither. Exposed for tests.
std::string certificate_identity(const mbedtls_x509_crt& cert);

}  // namespace junction::net
