#include "tls_stream.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>

#include "tls_context.h"
#include "tls_layer.h"

namespace junction::ctl {

namespace {

constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

class TlsStream final : public Stream {
 public:
  TlsStream(std::unique_ptr<TcpStream> tcp, std::shared_ptr<const net::TlsContext> context, const std::string& host)
      : tcp_(std::move(tcp)), context_(std::move(context)), layer_(context_, host) {}

  bool handshake(IoError& err) {
    if (layer_.start(down_pending_) != net::LayerStatus::Ok) return fail(err, "TLS handshake failed");
    while (!layer_.open()) {
      if (!flush(down_pending_, err)) return false;
      const long n = read_wire(err);
      if (n < 0) return false;
      if (n == 0) return fail(err, "TLS handshake failed: the server closed the connection");
    }
    return flush(down_pending_, err);
  }

  bool send_all(std::span<const char> data, IoError& err) override {
    std::string down;
    if (layer_.on_output(std::string_view(data.data(), data.size()), down) != net::LayerStatus::Ok)
      return fail(err, "TLS write failed");
    return flush(down, err);
  }

  long receive(std::span<char> buf, IoError& err) override {
    while (up_.empty() && !closed_) {
      const long n = read_wire(err);
      if (n < 0) return -1;
      if (n == 0) break;
      if (!flush(down_pending_, err)) return -1;
    }
    const std::size_t take = std::min(buf.size(), up_.size());
    up_.copy(buf.data(), take);
    up_.erase(0, take);
    return static_cast<long>(take);
  }

 private:
  // Reads wire bytes into the layer: > 0 fed, 0 end of stream, -1 error.
  long read_wire(IoError& err) {
    char buf[16384];
    const long n = tcp_->receive(buf, err);
    if (n <= 0) return n;
    const auto s = layer_.on_input(std::span(reinterpret_cast<const std::uint8_t*>(buf), std::size_t(n)), up_,
                                   down_pending_);
    if (s == net::LayerStatus::Close) closed_ = true;  // close_notify: what came before it stands
    if (s == net::LayerStatus::Error) {
      fail(err, "TLS failed");
      return -1;
    }
    return n;
  }

  bool flush(std::string& down, IoError& err) {
    if (down.empty()) return true;
    const bool ok = tcp_->send_all(down, err);
    down.clear();
    return ok;
  }

  bool fail(IoError& err, const char* what) {
    err.message = layer_.error().empty() ? what : layer_.error();
    return false;
  }

  std::unique_ptr<TcpStream> tcp_;
  std::shared_ptr<const net::TlsContext> context_;
  net::TlsLayer layer_;
  std::string up_;            // decrypted, not yet returned
  std::string down_pending_;  // records the layer wants sent (handshake, alerts)
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<Stream> tls_handshake(std::unique_ptr<TcpStream> tcp, const std::string& host,
                                      const TlsClientOptions& options, IoError& err) {
  net::TlsSettings settings;
  settings.verify_peer = !options.insecure;
  if (!options.insecure) settings.ca_file = options.ca_file.empty() ? kSystemCaBundle : options.ca_file;
  std::shared_ptr<const net::TlsContext> context;
  try {
    context = std::make_shared<const net::TlsContext>(net::TlsContext::Role::Client, settings);
  } catch (const std::runtime_error& e) {
    // Construction is the one place this code throws (a file problem); it
    // becomes a value here.
    err.message = std::string(e.what()) + (options.ca_file.empty() ? " (name the broker's CA with --cacert)" : "");
    return nullptr;
  }
  auto stream = std::make_unique<TlsStream>(std::move(tcp), std::move(context), host);
  if (!stream->handshake(err)) return nullptr;
  return stream;
}

}  // namespace junction::ctl
