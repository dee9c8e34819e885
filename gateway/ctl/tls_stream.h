// junction::ctl TLS for https:// URLs: the broker's own client-side TLS
// (net::TlsContext + net::TlsLayer, the code the bridges connect out with)
// driven over a blocking TcpStream. Same policy as the bridges: TLS 1.2+,
// AEAD suites, the server's certificate checked against a CA file and the
// URL's host name (mbedTLS 2.28 matches DNS names, not IP addresses: use
// https://localhost rather than https://127.0.0.1 with a certificate for
// both).
#pragma once

#include <memory>
#include <string>

#include "socket_stream.h"

namespace junction::ctl {

struct TlsClientOptions {
  std::string ca_file;  // "" = the system bundle (/etc/ssl/certs/ca-certificates.crt)
  bool insecure = false;  // no verification at all (--insecure)
};

// Handshakes over `tcp`; null and `err` on failure (bad CA file, handshake,
// verification).
std::unique_ptr<Stream> tls_handshake(std::unique_ptr<TcpStream> tcp, const std::string& host,
                                      const TlsClientOptions& options, IoError& err);

}  // namespace junction::ctl
