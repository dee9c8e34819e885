// junction::net::TlsContext — one mbedTLS configuration (certificate chain,
// key, trusted CAs, cipher policy, RNG) shared by every TLS connection of a
// listener (server role) or of an outgoing bridge (client role).
//
// Built at start-up or on SIGHUP; construction throws std::runtime_error
// naming the file and mbedTLS's reason (missing file, unparsable key, key
// not matching the certificate, unknown cipher suite). Immutable afterwards
// except for the RNG, which TlsLayer uses from the loop thread only.
// Connections hold a shared_ptr, so a reload gives new connections the new
// files while older connections finish with the old ones.
//
// Policy: TLS 1.2 minimum (mbedTLS 2.28 has no production TLS 1.3). The
// default cipher suites are the library's ECDHE and DHE ones with AEAD
// (AES-GCM, AES-CCM, ChaCha20-Poly1305): forward secrecy and no CBC.
// `ciphers` overrides them with mbedTLS suite names
// ("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"), separated by ':' ',' or spaces.
//
// Peer verification: server role with a CA file asks for a client
// certificate; require_certificate makes it mandatory, otherwise a client
// without one is let in (but a presented certificate that does not verify
// fails the handshake). Client role verifies the server against the CA
// file (or does not verify at all when verify_peer is false: tests only)
// and checks server_name against the certificate.
#pragma once

#include <memory>
#include <string>

namespace junction::net {

struct TlsSettings {
  std::string cert_file;  // PEM chain; required for servers, optional for clients
  std::string key_file;   // PEM key for cert_file
  std::string ca_file;    // PEM CAs to verify the peer with; "" = none
  bool require_certificate = false;  // server: a client certificate is mandatory
  bool verify_peer = true;           // client: verify the server certificate
  std::string ciphers;               // "" = the default policy above
};

class TlsContext {
 public:
  enum class Role { Server, Client };

  TlsContext(Role role, const TlsSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  Role role() const { return role_; }
  bool has_ca() const;
  // Non-empty when the own certificate is outside its validity now
  // ("certificate file F has expired (valid from ... until ...)"): it is
  // loaded anyway (an operator may be mid-rotation); the caller logs this.
  const std::string& certificate_warning() const { return certificate_warning_; }
  // The mbedtls_ssl_config*, as void* to keep mbedTLS headers out of here.
  void* ssl_config() const;

  struct Impl;

 private:
  Role role_;
  std::unique_ptr<Impl> impl_;
  std::string certificate_warning_;
};

// mbedTLS's text for an error code ("X509 - Certificate verification failed").
std::string tls_error_text(int code);

}  // namespace junction::net
