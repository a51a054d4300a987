#pragma once
// Node certificates issued in-process by the test CA (tests/testdata/certs),
// shaped as deploy/pki.sh shapes them (P-256 key, SHA-256, URI SAN
// urn:steersync:node:<id>, DNS:localhost, IP:127.0.0.1, server and client
// auth): about a millisecond each instead of two openssl processes, so (d)
// can give a thousand communes a certificate of their own.
//
// Thread safety: not thread-safe; one owner.

#include <memory>
#include <string>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "node/config.h"

namespace steersync::bench {

class TestCa {
 public:
  // Loads the test CA's certificate and key; exits the bench if it cannot.
  TestCa();
  // Writes <dir>/<n>.crt and .key for `node_id` (valid from an hour ago for
  // 30 days) and returns the files as a node's TLS options.
  node::TlsFiles Issue(const std::string& dir, int n, const std::string& node_id);

 private:
  struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
  };
  struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  std::unique_ptr<X509, X509Free> cert_;
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

}  // namespace steersync::bench
