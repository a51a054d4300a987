#pragma once
// The node's own credentials for signing: signs local versions with the
// node's key (sync::VersionSigner) and picks up a renewed certificate and key
// (deploy/pki.sh renew) on the next use, so rotation needs no restart. The one
// place that watches the node's certificate file for signing and status
// (gRPC's TLS provider watches it for the handshakes).
//
// Thread safety: thread-safe.

#include <filesystem>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "node/certificate_book.h"
#include "node/identity.h"
#include "sync/replica.h"

namespace steersync::node {

class RenewingSigner : public sync::VersionSigner {
 public:
  // Every certificate it signs with goes into `certificates` (which must
  // outlive it) before its first signature.
  static absl::StatusOr<std::unique_ptr<RenewingSigner>> Load(std::string node_id, std::string cert_path,
                                                              std::string key_path,
                                                              CertificateBook& certificates);
  absl::Status Sign(v1::Record& record) const override ABSL_LOCKS_EXCLUDED(mu_);
  // The current certificate's notAfter (Unix seconds), kept from its last
  // load: reading it costs a stat of the file, not a parse.
  int64_t NotAfter() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  RenewingSigner(std::string node_id, std::string cert_path, std::string key_path,
                 CertificateBook& certificates)
      : node_id_(std::move(node_id)),
        cert_path_(std::move(cert_path)),
        key_path_(std::move(key_path)),
        certificates_(certificates) {}
  // Reloads the pair if the certificate file changed.
  void RefreshIfRenewed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string node_id_;
  const std::string cert_path_;
  const std::string key_path_;
  CertificateBook& certificates_;
  mutable absl::Mutex mu_;
  mutable std::unique_ptr<Signer> signer_ ABSL_GUARDED_BY(mu_);
  mutable std::filesystem::file_time_type cert_mtime_ ABSL_GUARDED_BY(mu_);
  mutable int64_t not_after_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace steersync::node
