// junction::app — loading a TLS context from configured files, with what
// the transport library reports about them (a certificate outside its
// validity) logged here: at start-up and at every reload.
#pragma once

#include <memory>

#include "tls_context.h"

namespace junction::app {

// Throws std::runtime_error naming the file that does not load.
std::shared_ptr<const net::TlsContext> load_tls_context(net::TlsContext::Role role, const net::TlsSettings& settings);

}  // namespace junction::app
