#include "tls_files.h"

#include "log.h"

namespace junction::app {

std::shared_ptr<const net::TlsContext> load_tls_context(net::TlsContext::Role role, const net::TlsSettings& settings) {
  auto tls = std::make_shared<const net::TlsContext>(role, settings);
  if (!tls->certificate_warning().empty()) log::warning("TLS: %s", tls->certificate_warning().c_str());
  return tls;
}

}  // namespace junction::app
