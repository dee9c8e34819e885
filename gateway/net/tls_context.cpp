#include "tls_context.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace junction::net {

std::string tls_error_text(int code) {
  char buf[160];
  mbedtls_strerror(code, buf, sizeof buf);
  return buf;
}

namespace {

// A file we cannot even open gets errno's words, not mbedTLS's generic one.
void check_readable(const std::string& what, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot read " + what + " " + path + ": " + std::strerror(errno));
  std::fclose(f);
}

bool is_default_suite(const char* name) {
  std::string n(name);
  bool forward_secret = n.find("-ECDHE-") != std::string::npos || n.find("-DHE-") != std::string::npos;
  bool aead = n.find("-GCM-") != std::string::npos || n.find("-CCM") != std::string::npos ||
              n.find("CHACHA20-POLY1305") != std::string::npos;
  bool weak = n.find("-PSK-") != std::string::npos || n.find("-CCM-8") != std::string::npos;
  return forward_secret && aead && !weak;
}

}  // namespace

struct TlsContext::Impl {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_x509_crt ca;
  std::vector<int> suites;  // zero-terminated; must outlive conf
  bool have_ca = false;

  Impl() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&ca);
  }
  ~Impl() {
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&cert);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
};

namespace {

std::string format_time(const mbedtls_x509_time& t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d UTC", t.year, t.mon, t.day, t.hour, t.min, t.sec);
  return buf;
}

// A certificate outside its validity still loads (an operator may be in the
// middle of a rotation, and clients decide what they accept), but not
// silently: the caller logs this at start-up and at every reload.
std::string validity_warning(const std::string& file, const mbedtls_x509_crt& crt) {
  const std::string dates = "valid from " + format_time(crt.valid_from) + " until " + format_time(crt.valid_to);
  if (mbedtls_x509_time_is_past(&crt.valid_to)) {
    return "certificate file " + file + " has expired (" + dates + "); peers will refuse it";
  }
  if (mbedtls_x509_time_is_future(&crt.valid_from)) {
    return "certificate file " + file + " is not valid before " + format_time(crt.valid_from) + " (" + dates +
           "); peers will refuse it";
  }
  return {};
}

}  // namespace

TlsContext::TlsContext(Role role, const TlsSettings& s) : role_(role), impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  static const char kPersonal[] = "junction-tls";
  int r = mbedtls_ctr_drbg_seed(&d.drbg, mbedtls_entropy_func, &d.entropy,
                                reinterpret_cast<const unsigned char*>(kPersonal), sizeof kPersonal - 1);
  if (r != 0) throw std::runtime_error("TLS: cannot seed the random generator: " + tls_error_text(r));

  bool server = role == Role::Server;
  if (server && (s.cert_file.empty() || s.key_file.empty()))
    throw std::runtime_error("TLS: a server needs cert_file and key_file");
  if (!s.cert_file.empty()) {
    check_readable("certificate file", s.cert_file);
    r = mbedtls_x509_crt_parse_file(&d.cert, s.cert_file.c_str());
    if (r != 0) throw std::runtime_error("cannot load certificate file " + s.cert_file + ": " + tls_error_text(r));
    if (s.key_file.empty()) throw std::runtime_error("TLS: cert_file " + s.cert_file + " needs a key_file");
    check_readable("key file", s.key_file);
    r = mbedtls_pk_parse_keyfile(&d.key, s.key_file.c_str(), nullptr);
    if (r != 0) throw std::runtime_error("cannot load key file " + s.key_file + ": " + tls_error_text(r));
    r = mbedtls_pk_check_pair(&d.cert.pk, &d.key);
    if (r != 0)
      throw std::runtime_error("key file " + s.key_file + " does not match certificate file " + s.cert_file + ": " +
                               tls_error_text(r));
    certificate_warning_ = validity_warning(s.cert_file, d.cert);
  }
  if (!s.ca_file.empty()) {
    check_readable("CA file", s.ca_file);
    r = mbedtls_x509_crt_parse_file(&d.ca, s.ca_file.c_str());
    if (r != 0) throw std::runtime_error("cannot load CA file " + s.ca_file + ": " + tls_error_text(r));
    d.have_ca = true;
  }

  r = mbedtls_ssl_config_defaults(&d.conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                  MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (r != 0) throw std::runtime_error("TLS: configuration defaults: " + tls_error_text(r));
  mbedtls_ssl_conf_rng(&d.conf, mbedtls_ctr_drbg_random, &d.drbg);
  mbedtls_ssl_conf_min_version(&d.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_renegotiation(&d.conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);

  if (s.ciphers.empty()) {
    for (const int* id = mbedtls_ssl_list_ciphersuites(); *id != 0; ++id) {
      const char* name = mbedtls_ssl_get_ciphersuite_name(*id);
      if (name != nullptr && is_default_suite(name)) d.suites.push_back(*id);
    }
  } else {
    std::string list = s.ciphers;
    for (char& c : list)
      if (c == ':' || c == ',' || c == '\t') c = ' ';
    std::size_t p = 0;
    while (p < list.size()) {
      std::size_t e = list.find(' ', p);
      if (e == std::string::npos) e = list.size();
      std::string name = list.substr(p, e - p);
      p = e + 1;
      if (name.empty()) continue;
      int id = mbedtls_ssl_get_ciphersuite_id(name.c_str());
      if (id == 0) throw std::runtime_error("TLS: unknown cipher suite '" + name + "' (use mbedTLS names, e.g. TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256)");
      d.suites.push_back(id);
    }
  }
  if (d.suites.empty()) throw std::runtime_error("TLS: no cipher suite left to offer");
  d.suites.push_back(0);
  mbedtls_ssl_conf_ciphersuites(&d.conf, d.suites.data());

  if (!s.cert_file.empty()) {
    r = mbedtls_ssl_conf_own_cert(&d.conf, &d.cert, &d.key);
    if (r != 0) throw std::runtime_error("TLS: cannot use " + s.cert_file + ": " + tls_error_text(r));
  }
  if (server) {
    if (d.have_ca) {
      mbedtls_ssl_conf_ca_chain(&d.conf, &d.ca, nullptr);
      mbedtls_ssl_conf_authmode(&d.conf, s.require_certificate ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_OPTIONAL);
    } else {
      if (s.require_certificate) throw std::runtime_error("TLS: require_certificate needs a ca_file");
      mbedtls_ssl_conf_authmode(&d.conf, MBEDTLS_SSL_VERIFY_NONE);
    }
  } else {
    if (d.have_ca) mbedtls_ssl_conf_ca_chain(&d.conf, &d.ca, nullptr);
    if (s.verify_peer && !d.have_ca) throw std::runtime_error("TLS client: verifying the server needs a ca_file");
    mbedtls_ssl_conf_authmode(&d.conf, s.verify_peer ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
  }
}

TlsContext::~TlsContext() = default;

bool TlsContext::has_ca() const { return impl_->have_ca; }

void* TlsContext::ssl_config() const { return &impl_->conf; }

}  // namespace junction::net
