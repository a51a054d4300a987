#pragma once
// The replica core: the one path by which a version becomes state, for a
// batch from a neighbour and for a local act alike:
//
//   checks of the version alone (the domain's: id grammar, owner, direction,
//   payload; then the signature) -> clock bound -> checks in context (the
//   domain's: roster, powers, versions held) -> merge -> change log ->
//   audience numbering -> checkpoint, all in the caller's one transaction.
//
// The daemon runs it inside LMDB transactions on its writer thread, the
// simulation over an in-memory store, the fuzzer over a fake: the same code.
// No I/O, no threads, no clock but the one injected.
//
// Thread safety: CheckAlone() may run on any thread at once; the write
// methods run inside one write transaction at a time (the caller's writer).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "sync/apply.h"
#include "sync/clock.h"
#include "sync/hlc.h"
#include "sync/session.h"
#include "sync/store.h"

namespace steersync::sync {

// What the core asks of the domain: which versions are admitted. The domain
// module (node/domain/admission.h) implements it; sync/ knows no rule.
class AdmissionPolicy {
 public:
  virtual ~AdmissionPolicy() = default;
  // Checks of one version on its own, from `from_peer` ("" for a local act).
  // Thread-safe: runs off the writer, on several threads at once.
  virtual Admission CheckAlone(std::string_view from_peer, const v1::RecordBody& body) const = 0;
  // Checks against what this replica holds (rosters, versions of the
  // record), inside the write transaction, in batch order. Never called for a
  // version already held byte for byte. A storage error is returned as a
  // Status, never as "admit".
  virtual absl::StatusOr<Admission> CheckInContext(WriteView& view, const v1::RecordBody& body,
                                                   std::string_view body_bytes) = 0;
  // `body` was admitted and merged in `view` (its record's current version is
  // the merge winner): the domain's own state derived from records follows.
  virtual absl::Status OnAdmitted(WriteView& view, const v1::RecordBody& body) = 0;
  // True for a record of which only the newest version matters (a node's
  // status): it is not numbered in its audience, and a version that becomes
  // current takes the previous current version's change-log entry out of the
  // log (WriteView::ForgetLogEntry), so that the log does not grow with it.
  // Thread-safe.
  virtual bool KeepsNewestOnly(const v1::RecordBody&) const { return false; }
};

// The signature of a version, checked against its writer's certificate.
class SignatureCheck {
 public:
  virtual ~SignatureCheck() = default;
  // The verdict on the version's signatures, with the reason code a refusal
  // is quarantined under (e.g. BAD_SIGNATURE). `linked`: the body is already
  // authenticated, by a later version of the same writer and audience in its
  // batch whose signature verified and which links to this body's digest
  // (sync/signed_log.h): the signature itself need not be checked again,
  // everything else (who signed, revocation, kind-specific signatures) is.
  // Thread-safe.
  virtual Admission Verify(const v1::Record& record, const v1::RecordBody& body, bool linked) const = 0;
};

// Signs local versions.
class VersionSigner {
 public:
  virtual ~VersionSigner() = default;
  // Sets record.signature (and what else proves it) over record.body().
  virtual absl::Status Sign(v1::Record& record) const = 0;
};

struct ReplicaOptions {
  std::string self_id;
  // A peer's version stamped further ahead of this node's clock is refused
  // (CLOCK_AHEAD): it never moves this node's clock, so no peer can push this
  // node's timestamps or legal dates into the future.
  int64_t max_clock_skew_micros = 5LL * 60 * 1'000'000;
};

// Shape bounds of any version, local or a peer's, checked before anything
// else reads it (issue 10): what a peer controls is bounded before it reaches
// the store. A record holds its signed body, signature and signer's
// certificate; text longer than this goes in attachments.
inline constexpr size_t kMaxRecordBytes = 256 << 10;
// Entries of a version vector: the writers that touched one record (a few
// levels of the hierarchy, each with its own entry and recovery entries).
inline constexpr int kMaxVectorEntries = 64;

// CheckAlone's result for a batch, by index in its records: each version's
// verdict, and the body it parsed, handed on to the writer so that no body
// is parsed twice (nullopt: it does not parse; ApplyRecords quarantines it).
struct AloneVerdicts {
  std::vector<Admission> verdicts;
  std::vector<std::optional<v1::RecordBody>> bodies;
  // BodyDigest of each numbered version (sync/signed_log.h NumberedDigests).
  std::vector<std::string> digests;

  size_t size() const { return verdicts.size(); }
  const Admission& operator[](size_t i) const { return verdicts[i]; }
  std::vector<Admission>::const_iterator begin() const { return verdicts.begin(); }
  std::vector<Admission>::const_iterator end() const { return verdicts.end(); }
  // Appends the result for the records that follow these.
  void Append(AloneVerdicts rest);
};

// A local version made by WriteLocal.
struct LocalWrite {
  v1::Record record;
  v1::RecordBody body;
  std::string version_key;
};

class Replica {
 public:
  // `policy`, `signatures`, `hlc` and `clock` must outlive the replica.
  Replica(ReplicaOptions options, AdmissionPolicy& policy, const SignatureCheck& signatures,
          HybridClock& hlc, const Clock& clock);

  const ReplicaOptions& options() const { return options_; }
  AdmissionPolicy& policy() { return policy_; }

  // Stage 1 (any thread): the checks each version passes alone, then its
  // signature (one per run of linked versions, sync/signed_log.h), then the
  // clock bound. A record whose body does not parse gets
  // an admitted verdict here: ApplyFromPeer quarantines it as malformed.
  // Takes a span so that a large batch can be checked in slices on several
  // threads without copying records.
  AloneVerdicts CheckAlone(std::string_view from_peer, std::span<const v1::Record> records) const;

  // Stage 2 (the writer, inside the transaction of `view`): admits and merges
  // a batch from `from_peer` and records its checkpoint and epoch with it,
  // and the counter the peer said (KeepPeerCounter).
  // `alone` is CheckAlone's result for request.records, or null to compute it
  // here. Only storage failures are errors; refused versions are quarantined
  // and listed in the stats.
  absl::StatusOr<ApplyStats> ApplyFromPeer(WriteView& view, std::string_view from_peer,
                                           const ApplyRequest& request,
                                           const AloneVerdicts* alone);

  // The counter a local version made now would take (ids embed it).
  absl::StatusOr<uint64_t> NextCounter(WriteView& view);

  // Keeps the highest counter of its own that `peer` said (Hello, Batch
  // writer_counter; meta kWriterCounterPrefix), said back to it if it ever
  // loses its store so that its new ids never reuse one. The peer chooses
  // the number: it only ever raises what we say back to that peer itself,
  // and a value past any real counter is ignored. ApplyFromPeer keeps a
  // batch's with it; the owner keeps one said without a batch to apply.
  static absl::Status KeepPeerCounter(WriteView& view, std::string_view peer, uint64_t counter);

  // Stamps, signs, admits and merges a local version of `body` (id, kind,
  // audience, payload, legal date and authority set by the caller) with
  // `counter` from NextCounter(). `base`: the version the edit is based on,
  // when it is not the current one (the edit is then concurrent with what was
  // written since). A refused act writes nothing and returns
  // FailedPrecondition "refused: CODE: detail".
  absl::StatusOr<LocalWrite> WriteLocal(WriteView& view, uint64_t counter, v1::RecordBody body,
                                        const std::optional<v1::Version>& base,
                                        const VersionSigner& signer);

 private:
  struct OneVerdict {
    Admission admission;
    // The signature stage passed: the body is the writer's (a predecessor
    // linked to it is authenticated by it).
    bool authentic = false;
  };
  // `body` is record's parsed body when `parsed`.
  OneVerdict CheckOne(std::string_view from_peer, const v1::Record& record, const v1::RecordBody& body,
                      bool parsed, bool linked) const;
  // `digest`: BodyDigest(body_bytes) when the caller has it, or "".
  absl::Status AfterAdmitted(WriteView& view, const v1::RecordBody& body, std::string_view body_bytes,
                             uint64_t log_seq, std::string_view digest);
  // Only the newest version of `body`'s record matters: a sequence head
  // (sync/sequence_head.h), or what the policy says. Such versions are
  // never numbered, and each forgets its predecessor's log entry.
  bool KeepsNewestOnly(const v1::RecordBody& body) const {
    return body.kind() == v1::SEQUENCE_HEAD || policy_.KeepsNewestOnly(body);
  }
  // KeepsNewestOnly: `body`, logged at `log_seq`, is current now; forgets
  // the log entry of the version it replaced.
  absl::Status ForgetReplacedEntry(WriteView& view, const v1::RecordBody& body, uint64_t log_seq);

  const ReplicaOptions options_;
  AdmissionPolicy& policy_;
  const SignatureCheck& signatures_;
  HybridClock& hlc_;
  const Clock& clock_;
};

}  // namespace steersync::sync
