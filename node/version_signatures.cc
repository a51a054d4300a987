#include "node/version_signatures.h"

#include "sync/status_macros.h"

namespace steersync::node {

absl::Status NodeSignatureCheck::Verify(const v1::Record& record, const v1::RecordBody& body) const {
  SYNC_RETURN_IF_ERROR(verifier_.Verify(record, body));
  if (body.kind() != v1::REVOCATION_LIST) return absl::OkStatus();
  v1::RevocationList list;
  if (!list.ParseFromString(body.payload())) return absl::InvalidArgumentError("not a RevocationList");
  auto crl = verifier_.VerifyCrl(list.crl());
  if (!crl.ok()) return absl::UnauthenticatedError("revocation list: " + std::string(crl.status().message()));
  if (revocations_.Merge(*crl) && on_revocation_) on_revocation_();
  return absl::OkStatus();
}

}  // namespace steersync::node
