#pragma once
// The node's side of the replica core's signature interfaces
// (sync/replica.h), over the X.509 identities of node/identity.h.
//
// Thread safety: thread-safe.

#include <functional>

#include "node/identity.h"
#include "node/revocation.h"
#include "sync/replica.h"

namespace steersync::node {

// A version's signature against the federation CA; for a revocation list
// also the CA's signature over the list itself, and an admitted list is
// merged into `revocations` (then `on_revocation` runs, from the verifying
// thread). No logging here: the fuzzer links this file as shipped.
class NodeSignatureCheck : public sync::SignatureCheck {
 public:
  // All three must outlive this object.
  NodeSignatureCheck(const Verifier& verifier, RevocationSet& revocations,
                     std::function<void()> on_revocation)
      : verifier_(verifier), revocations_(revocations), on_revocation_(std::move(on_revocation)) {}

  // BAD_SIGNATURE, or BAD_REVOCATION_LIST for a list the CA did not sign.
  sync::Admission Verify(const v1::Record& record, const v1::RecordBody& body, bool linked) const override;

 private:
  const Verifier& verifier_;
  RevocationSet& revocations_;
  const std::function<void()> on_revocation_;
};

}  // namespace steersync::node
