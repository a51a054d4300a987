#include "node/renewing_signer.h"

#include <spdlog/spdlog.h>

#include "node/tls.h"

#include "sync/status_macros.h"

namespace steersync::node {

absl::StatusOr<std::unique_ptr<RenewingSigner>> RenewingSigner::Load(std::string node_id,
                                                                     std::string cert_path,
                                                                     std::string key_path,
                                                                     CertificateBook& certificates) {
  std::unique_ptr<RenewingSigner> out(
      new RenewingSigner(std::move(node_id), std::move(cert_path), std::move(key_path), certificates));
  SYNC_ASSIGN_OR_RETURN(std::unique_ptr<Signer> signer, Signer::Load(out->cert_path_, out->key_path_));
  if (signer->node_id() != out->node_id_) {
    return absl::InvalidArgumentError("certificate " + out->cert_path_ + " is for node '" + signer->node_id() +
                                      "' but node.id is '" + out->node_id_ + "'");
  }
  if (!certificates.Add(signer->cert_digest(), signer->cert_der())) {
    return absl::ResourceExhaustedError("the certificate book is full");
  }
  absl::MutexLock lock(&out->mu_);
  out->signer_ = std::move(signer);
  std::error_code ec;
  out->cert_mtime_ = std::filesystem::last_write_time(out->cert_path_, ec);
  if (auto pem = ReadFileToString(out->cert_path_); pem.ok()) out->not_after_ = Verifier::NotAfter(*pem);
  return out;
}

void RenewingSigner::RefreshIfRenewed() const {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(cert_path_, ec);
  if (ec || mtime == cert_mtime_) return;
  auto renewed = Signer::Load(cert_path_, key_path_);
  if (!renewed.ok() || (*renewed)->node_id() != node_id_) {
    // Mid-rotation (key written, certificate not yet) or a bad file: keep
    // signing with the current pair and look again on the next write.
    spdlog::warn("{}: renewed certificate not usable yet: {}", node_id_,
                 renewed.ok() ? "it names another node" : renewed.status().ToString());
    return;
  }
  if (!certificates_.Add((*renewed)->cert_digest(), (*renewed)->cert_der())) {
    spdlog::warn("{}: renewed certificate not used: the certificate book is full", node_id_);
    return;
  }
  signer_ = std::move(*renewed);
  cert_mtime_ = mtime;
  if (auto pem = ReadFileToString(cert_path_); pem.ok()) not_after_ = Verifier::NotAfter(*pem);
  spdlog::info("{}: signing with the renewed certificate {}", node_id_, cert_path_);
}

int64_t RenewingSigner::NotAfter() const {
  absl::MutexLock lock(&mu_);
  RefreshIfRenewed();
  return not_after_;
}

absl::Status RenewingSigner::Sign(v1::Record& record) const {
  absl::MutexLock lock(&mu_);
  RefreshIfRenewed();
  return signer_->Sign(record);
}

}  // namespace steersync::node
