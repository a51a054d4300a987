#include "node/version_signatures.h"


namespace steersync::node {

sync::Admission NodeSignatureCheck::Verify(const v1::Record& record, const v1::RecordBody& body,
                                           bool linked) const {
  if (absl::Status s = verifier_.Verify(record, body, linked); !s.ok()) {
    return sync::Admission{false, "BAD_SIGNATURE", std::string(s.message())};
  }
  if (body.kind() != v1::REVOCATION_LIST) return {};
  v1::RevocationList list;
  if (!list.ParseFromString(body.payload())) {
    return sync::Admission{false, "MALFORMED_PAYLOAD", "not a RevocationList"};
  }
  auto crl = verifier_.VerifyCrl(list.crl());
  if (!crl.ok()) return sync::Admission{false, "BAD_REVOCATION_LIST", std::string(crl.status().message())};
  if (revocations_.Merge(*crl) && on_revocation_) on_revocation_();
  return {};
}

}  // namespace steersync::node
