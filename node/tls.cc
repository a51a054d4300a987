#include "node/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <spdlog/spdlog.h>

namespace steersync::node {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct X509StackDeleter {
  void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); }
};

absl::Status CheckReadable(const TlsFiles& files) {
  for (const std::string* path : {&files.ca, &files.cert, &files.key}) {
    auto text = ReadFileToString(*path);
    if (!text.ok()) return text.status();
    if (text->find("-----BEGIN") == std::string::npos) {
      return absl::InvalidArgumentError(*path + " is not a PEM file");
    }
  }
  return absl::OkStatus();
}

// Adapts PeerCheck to gRPC's verifier interface. Owned by gRPC.
class PeerCheckVerifier : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit PeerCheckVerifier(std::shared_ptr<PeerCheck> check) : check_(std::move(check)) {}
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>, grpc::Status* sync_status) override {
    // The leaf first, then whatever else the peer sent as untrusted
    // intermediates (gRPC's full chain does not promise leaf-first order).
    grpc::string_ref leaf = request->peer_cert();
    grpc::string_ref chain = request->peer_cert_full_chain();
    *sync_status = check_->Check(std::string(leaf.data(), leaf.size()) +
                                 std::string(chain.data(), chain.size()));
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  std::shared_ptr<PeerCheck> check_;
};

}  // namespace

PeerCheck::PeerCheck(std::string ca_pem, const RevocationSet* revoked,
                     std::function<bool(const std::string&)> accept, std::string side,
                     std::string uri_prefix)
    : store_(X509_STORE_new()),
      revoked_(revoked),
      accept_(std::move(accept)),
      side_(std::move(side)),
      uri_prefix_(std::move(uri_prefix)) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store_.get(), ca);
    X509_free(ca);
  }
  ERR_clear_error();
}

uint64_t NextRefusalOrder() {
  static std::atomic<uint64_t> next{0};
  return ++next;
}

std::string PeerCheck::last_refusal(uint64_t* order) const {
  absl::MutexLock lock(&mu_);
  if (order != nullptr) *order = last_refusal_order_;
  return last_refusal_;
}

grpc::Status PeerCheck::Refuse(std::string why) {
  spdlog::warn("{}: refused TLS peer: {}", side_, why);
  {
    absl::MutexLock lock(&mu_);
    // Named by the side that refused: a node has up to three (the sync
    // listener, the admin TCP listener, the dialler to its parent).
    last_refusal_ = side_ + ": " + why;
    last_refusal_order_ = NextRefusalOrder();
  }
  // Counted after the reason is recorded: whoever sees the count sees why.
  ++refused_;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, why);
}

grpc::Status PeerCheck::Check(const std::string& peer_chain_pem) {
  if (peer_chain_pem.empty()) return Refuse("peer presented no certificate");
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(peer_chain_pem.data(), static_cast<int>(peer_chain_pem.size())));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    ERR_clear_error();
    return Refuse("peer presented no parsable certificate");
  }
  std::unique_ptr<STACK_OF(X509), X509StackDeleter> rest(sk_X509_new_null());
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(rest.get(), extra);
  }
  ERR_clear_error();
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store_.get(), leaf.get(), rest.get());
  if (X509_verify_cert(ctx.get()) != 1) {
    const std::string reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return Refuse("certificate not accepted by the federation CA: " + reason);
  }
  auto id = CertificateUriName(leaf.get(), uri_prefix_);
  if (!id.ok()) return Refuse(std::string(id.status().message()));
  // The minimum holds for the peer's certificate and any intermediate it
  // sent, whatever OpenSSL's system policy (gRPC's verifier bypasses it).
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i + 1 < sk_X509_num(chain); ++i) {  // the last one is our CA
    if (auto strong = CheckCertificateStrength(sk_X509_value(chain, i)); !strong.ok()) {
      return Refuse(std::string(i == 0 ? "certificate" : "an issuer of the certificate") + " of '" +
                    *id + "': " + std::string(strong.message()));
    }
  }
  const std::string serial = SerialHex(leaf.get());
  if (revoked_ != nullptr && revoked_->RevokedAt(serial).has_value()) {
    return Refuse("certificate " + serial + " of '" + *id + "' is revoked");
  }
  if (!accept_(*id)) return Refuse("'" + *id + "' is not a peer of this side");
  return grpc::Status::OK;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, std::shared_ptr<PeerCheck> check, const TlsOptions& options) {
  if (auto s = CheckReadable(files); !s.ok()) return s;
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key, files.cert, files.ca, options.refresh_interval_sec);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  // The certificate is requested but neither required nor verified by TLS:
  // PeerCheck decides, so that every refusal is counted and explained,
  // including a client that presents none (OpenSSL's own "required" check
  // would end the handshake before any verifier runs). gRPC runs the
  // verifier for every handshake; PeerCheck refuses an empty chain.
  tls.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<PeerCheckVerifier>(std::move(check)));
  tls.set_check_call_host(false);
  return grpc::experimental::TlsServerCredentials(tls);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, std::shared_ptr<PeerCheck> check, const TlsOptions& options) {
  if (auto s = CheckReadable(files); !s.ok()) return s;
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key, files.cert, files.ca, options.refresh_interval_sec);
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  // The parent is identified by its URI SAN (PeerCheck), not by host name.
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<PeerCheckVerifier>(std::move(check)));
  tls.set_check_call_host(false);
  return grpc::experimental::TlsCredentials(tls);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files) {
  if (auto s = CheckReadable(files); !s.ok()) return s;
  auto ca = ReadFileToString(files.ca);
  auto key = ReadFileToString(files.key);
  auto cert = ReadFileToString(files.cert);
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *ca;
  options.pem_private_key = *key;
  options.pem_cert_chain = *cert;
  return grpc::SslCredentials(options);
}

std::optional<std::string> PeerCertSerial(const grpc::AuthContext& context) {
  for (const auto& value : context.FindPropertyValues("x509_pem_cert")) {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(value.data(), static_cast<int>(value.size())));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (cert) return SerialHex(cert.get());
  }
  return std::nullopt;
}

int64_t PeerCertNotAfter(const grpc::AuthContext& context) {
  for (const auto& value : context.FindPropertyValues("x509_pem_cert")) {
    return Verifier::NotAfter(std::string(value.data(), value.size()));
  }
  return 0;
}

std::optional<std::string> PeerNodeId(const grpc::AuthContext& context) {
  std::optional<std::string> found;
  for (const auto& value : context.FindPropertyValues("peer_uri")) {
    std::string uri(value.data(), value.size());
    if (uri.rfind(kNodeUriPrefix, 0) != 0) continue;
    if (found.has_value()) return std::nullopt;  // two node identities: ambiguous
    found = uri.substr(sizeof(kNodeUriPrefix) - 1);
  }
  return found;
}

}  // namespace steersync::node
