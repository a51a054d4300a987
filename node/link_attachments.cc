// Attachments over one link (docs/replication.md "Attachments"): the
// receiver pulls the chunks of the files named by records it admitted from
// the peer, kChunkFetchWindow at a time; the sender answers only for files a
// record it sends that peer names, and parks requests for chunks it is
// itself still fetching. Each chunk is checked against its signed hash
// before it reaches the writer, and stored with the file's progress in one
// transaction.

#include <spdlog/spdlog.h>

#include "node/link.h"
#include "sync/routing.h"
#include "sync/text.h"

namespace steersync::node {

void Link::WarnAboutPeer(const std::string& what) {
  uint64_t suppressed = 0;
  bool log;
  {
    absl::MutexLock lock(&mu_);
    log = log_budget_.Allow(context_.clock->NowMicros(), &suppressed);
  }
  if (!log) return;
  spdlog::warn("link {}: {}{}", peer_id_, what,
               suppressed == 0 ? "" : " (" + std::to_string(suppressed) + " more lines about this peer suppressed)");
}

void Link::OnAttachmentMessage(v1::SyncMessage& message) {
  if (message.has_chunk_request()) {
    AnswerChunkRequest(message.chunk_request());
  } else if (message.has_chunk()) {
    OnChunk(*message.mutable_chunk());
  } else if (message.has_chunk_refused()) {
    const v1::ChunkRefused& r = message.chunk_refused();
    bool asked;
    {
      absl::MutexLock lock(&mu_);
      asked = fetcher_.OnRefused(r);
      if (asked) DrainFetcherLocked();
    }
    WarnAboutPeer(std::string(asked ? "" : "unasked ") + "refusal to send chunk " + std::to_string(r.index()) +
                  " of file " + sync::HexOf(r.sha256().substr(0, sync::kSha256Bytes)) + ": " +
                  sync::Printable(r.reason_code(), 32) + " (fetched again on the next connection)");
    Wake();
  }
}

// ---- Sending side --------------------------------------------------------

bool Link::NamedForPeer(const std::string& sha256) {
  {
    absl::MutexLock lock(&mu_);
    if (named_for_peer_.count(sha256) != 0) return true;
  }
  // Exactly the peers that receive a record naming the file may have it:
  // the rule the change feed follows (Session::FillWindow), record by record.
  absl::StatusOr<std::vector<std::string>> ids = context_.store->RecordsNaming(sha256);
  if (!ids.ok()) return false;
  for (const std::string& id : *ids) {
    absl::StatusOr<std::optional<v1::Record>> record = context_.store->GetRecord(id);
    v1::RecordBody body;
    if (!record.ok() || !record->has_value() || !body.ParseFromString((*record)->body())) continue;
    if (body.version().writer() != peer_id_ && sync::AddressedTo(body, context_.self_id, peer_id_)) {
      absl::MutexLock lock(&mu_);
      named_for_peer_.insert(sha256);
      return true;
    }
  }
  return false;
}

void Link::AnswerChunkRequest(const v1::ChunkRequest& request) {
  if (request.sha256().size() != sync::kSha256Bytes) {
    CloseForProtocolError(absl::InvalidArgumentError("ChunkRequest whose sha256 is not 32 bytes"));
    return;
  }
  bool over = false;
  {
    absl::MutexLock lock(&mu_);
    over = chunk_requests_pending_ >= kMaxChunkRequestsPending;
    if (!over) ++chunk_requests_pending_;
  }
  if (over) {
    CloseForProtocolError(absl::ResourceExhaustedError(
        "more than " + std::to_string(kMaxChunkRequestsPending) + " chunk requests unanswered"));
    return;
  }
  auto refuse = [&](const std::string& code) {
    absl::MutexLock lock(&mu_);
    v1::SyncMessage m;
    m.mutable_chunk_refused()->set_sha256(request.sha256());
    m.mutable_chunk_refused()->set_index(request.index());
    m.mutable_chunk_refused()->set_reason_code(code);
    outbox_.push_back(std::move(m));
  };
  const std::string hex = sync::HexOf(request.sha256());
  if (!NamedForPeer(request.sha256())) {
    // Refused, never sent: the file is not this peer's to have.
    WarnAboutPeer("refused chunk " + std::to_string(request.index()) + " of file " + hex +
                  ": no record sent to it names that file");
    refuse("NOT_NAMED");
    Wake();
    return;
  }
  absl::StatusOr<std::optional<LmdbStore::BlobState>> blob = context_.store->GetBlob(request.sha256());
  if (!blob.ok() || !blob->has_value()) {
    refuse("UNAVAILABLE");
    Wake();
    return;
  }
  if (request.index() >= sync::ChunkCount((*blob)->attachment.size())) {
    CloseForProtocolError(absl::InvalidArgumentError("ChunkRequest for chunk " + std::to_string(request.index()) +
                                                     " of file " + hex + ", which has " +
                                                     std::to_string(sync::ChunkCount((*blob)->attachment.size())) +
                                                     " chunks"));
    return;
  }
  if ((*blob)->phase == LmdbStore::BlobState::Phase::kMismatch) {
    refuse("UNAVAILABLE");
    Wake();
    return;
  }
  absl::StatusOr<std::optional<std::string>> data = context_.store->ReadChunk(request.sha256(), request.index());
  if (!data.ok()) {
    Fail(data.status());
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (!data->has_value()) {
      // Still arriving here: answered when it comes (OnBlobProgress).
      parked_requests_.push_back(request);
      return;
    }
    v1::SyncMessage m;
    v1::Chunk* chunk = m.mutable_chunk();
    chunk->set_sha256(request.sha256());
    chunk->set_index(request.index());
    chunk->set_data(std::move(**data));
    chunk_outbox_.push_back(std::move(m));
  }
  Wake();
}

void Link::OnBlobProgress() {
  std::vector<v1::ChunkRequest> parked;
  {
    absl::MutexLock lock(&mu_);
    if (failed_ || parked_requests_.empty()) return;
    parked.swap(parked_requests_);
    // Each is counted again by AnswerChunkRequest.
    chunk_requests_pending_ -= parked.size();
  }
  for (const v1::ChunkRequest& r : parked) AnswerChunkRequest(r);
}

// ---- Receiving side ------------------------------------------------------

void Link::DrainFetcherLocked() {
  // Asked only of a peer that said (in its Hello) it answers; until its
  // Hello, the requests wait in the fetcher.
  if (!session_.peer_hello_received() || !session_.peer_takes_attachments()) return;
  for (v1::SyncMessage& m : fetcher_.TakeRequests()) outbox_.push_back(std::move(m));
}

void Link::Fetch(const std::vector<v1::Attachment>& files) {
  std::vector<std::pair<const v1::Attachment*, std::vector<uint32_t>>> wanted;
  for (const v1::Attachment& a : files) {
    absl::StatusOr<std::optional<LmdbStore::BlobState>> held = context_.store->GetBlob(a.sha256());
    if (!held.ok() || !held->has_value() || (*held)->phase != LmdbStore::BlobState::Phase::kArriving) continue;
    absl::StatusOr<std::vector<uint32_t>> missing = context_.store->MissingChunks(**held);
    if (!missing.ok()) {
      spdlog::error("link {}: reading what is held of file {}: {}", peer_id_, sync::HexOf(a.sha256()),
                    missing.status().ToString());
      continue;
    }
    wanted.emplace_back(&a, std::move(*missing));
  }
  {
    absl::MutexLock lock(&mu_);
    if (failed_) return;
    for (auto& [a, missing] : wanted) fetcher_.Want(*a, std::move(missing));
    DrainFetcherLocked();
  }
  Wake();
}

void Link::FetchArrivingFromPeer() {
  absl::StatusOr<std::vector<LmdbStore::BlobState>> arriving = context_.store->ArrivingBlobsFrom(peer_id_);
  if (!arriving.ok()) {
    spdlog::error("link {}: listing the files still arriving: {}", peer_id_, arriving.status().ToString());
    return;
  }
  std::vector<v1::Attachment> files;
  for (LmdbStore::BlobState& b : *arriving) files.push_back(std::move(b.attachment));
  if (!files.empty()) {
    spdlog::info("link {}: resuming {} attachment file(s) still arriving", peer_id_, files.size());
    Fetch(files);
  }
}

void Link::OnChunk(v1::Chunk& chunk) {
  sync::ChunkFetcher::Verdict verdict;
  {
    absl::MutexLock lock(&mu_);
    verdict = fetcher_.OnChunk(chunk);
    if (verdict == sync::ChunkFetcher::Verdict::kAccept) pending_bytes_ += chunk.data().size();
    if (verdict == sync::ChunkFetcher::Verdict::kTampered) DrainFetcherLocked();  // other files go on
  }
  const std::string what = "chunk " + std::to_string(chunk.index()) + " of file " +
                           sync::HexOf(chunk.sha256().substr(0, sync::kSha256Bytes));
  if (verdict == sync::ChunkFetcher::Verdict::kUnrequested) {
    ++stats_->chunks_refused;
    WarnAboutPeer("refused " + what + ": this node did not ask for it");
    return;
  }
  if (verdict == sync::ChunkFetcher::Verdict::kTampered) {
    // Like a forged record: refused, never stored, logged and counted.
    ++stats_->chunks_refused;
    ++stats_->rejected;
    WarnAboutPeer("refused " + what + " (BAD_CHUNK): its " + std::to_string(chunk.data().size()) +
                  " bytes do not match the hash its signed record lists; the file is fetched again "
                  "on the next connection");
    Wake();
    return;
  }
  auto data = std::make_shared<std::string>(std::move(*chunk.mutable_data()));
  const std::string sha = chunk.sha256();
  const uint32_t index = chunk.index();
  auto outcome = std::make_shared<absl::StatusOr<LmdbStore::View::ChunkOutcome>>(
      absl::UnknownError("not applied"));
  std::weak_ptr<Link> weak = weak_from_this();
  const LinkContext& ctx = context_;
  context_.writer->Submit(
      [data, sha, index, outcome](LmdbStore::View& view) -> absl::Status {
        *outcome = view.PutChunk(sha, index, *data);
        return outcome->status();
      },
      [data, sha, index, outcome, weak, &ctx](absl::Status status) {
        if (!status.ok()) *outcome = status;
        if (status.ok() && ctx.on_blob_progress) ctx.on_blob_progress();
        if (auto self = weak.lock()) self->OnChunkStored(sha, index, data->size(), *outcome);
      });
}

void Link::OnChunkStored(const std::string& sha256, uint32_t index, size_t bytes,
                         absl::StatusOr<LmdbStore::View::ChunkOutcome> outcome) {
  {
    absl::MutexLock lock(&mu_);
    pending_bytes_ -= bytes;
    fetcher_.Stored(sha256, index);
    if (outcome.ok()) DrainFetcherLocked();
  }
  ResumeIfRoom();
  if (!outcome.ok()) {
    Fail(absl::Status(absl::IsResourceExhausted(outcome.status()) ? absl::StatusCode::kResourceExhausted
                                                                   : absl::StatusCode::kUnavailable,
                      "storing a chunk failed: " + outcome.status().ToString()));
    return;
  }
  using Outcome = LmdbStore::View::ChunkOutcome;
  if (*outcome == Outcome::kStored || *outcome == Outcome::kCompleted) {
    ++stats_->chunks_received;
    stats_->chunk_bytes_received += bytes;
  }
  if (*outcome == Outcome::kCompleted) {
    spdlog::info("link {}: attachment file {} complete", peer_id_, sync::HexOf(sha256));
  } else if (*outcome == Outcome::kMismatch) {
    spdlog::error("link {}: attachment file {}: every chunk matched its signed hash but the file does not "
                  "match its SHA-256 (its writer signed inconsistent hashes); dropped",
                  peer_id_, sync::HexOf(sha256));
  }
  Wake();
}

}  // namespace steersync::node
