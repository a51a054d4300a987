#include "tests/bench/bench_certs.h"

#include <cstdio>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/bench/bench_util.h"
#include "tests/testutil/fixtures.h"

namespace steersync::bench {
namespace {

struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileClose>;

File OpenOrFail(const std::string& path, const char* mode) {
  File f(std::fopen(path.c_str(), mode));
  if (!f) Fail("cannot open " + path);
  return f;
}

void AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) Fail("certificate extension " + value);
  X509_EXTENSION_free(ext);
}

}  // namespace

TestCa::TestCa() {
  File crt = OpenOrFail(testing::CertDir() + "/ca.crt", "r");
  File key = OpenOrFail(testing::CertDir() + "/ca.key", "r");
  cert_.reset(PEM_read_X509(crt.get(), nullptr, nullptr, nullptr));
  key_.reset(PEM_read_PrivateKey(key.get(), nullptr, nullptr, nullptr));
  if (!cert_ || !key_) Fail("cannot read the test CA");
}

node::TlsFiles TestCa::Issue(const std::string& dir, int n, const std::string& node_id) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!key || !cert) Fail("cannot make a key");
  X509_set_version(cert.get(), X509_VERSION_3);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(node_id.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert_.get(), cert.get(), nullptr, nullptr, 0);
  AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature");
  AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
  AddExtension(cert.get(), &ctx, NID_subject_alt_name,
               "URI:urn:steersync:node:" + node_id + ",DNS:localhost,IP:127.0.0.1");
  AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), key_.get(), EVP_sha256()) <= 0) Fail("cannot sign a certificate");
  node::TlsFiles files{testing::CertDir() + "/ca.crt", dir + "/" + std::to_string(n) + ".crt",
                       dir + "/" + std::to_string(n) + ".key"};
  File crt = OpenOrFail(files.cert, "w");
  File pem = OpenOrFail(files.key, "w");
  if (PEM_write_X509(crt.get(), cert.get()) != 1 ||
      PEM_write_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    Fail("cannot write " + files.cert);
  }
  return files;
}

}  // namespace steersync::bench
