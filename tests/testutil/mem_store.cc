#include "tests/testutil/mem_store.h"

#include <sstream>

#include "sync/merge.h"
#include "sync/signed_log.h"

namespace steersync::testing {
namespace {

// FNV-1a, 64 bits: a stable fingerprint of a version's exact bytes.
uint64_t Fingerprint(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// "<version key>#<fingerprint of body and signature>".
std::string VersionLabel(const v1::Record& record) {
  v1::RecordBody body;
  std::string key = body.ParseFromString(record.body()) ? sync::VersionKey(body.version())
                                                        : std::string("<unparsable>");
  std::ostringstream out;
  out << key << "#" << std::hex << Fingerprint(record.body()) << "."
      << Fingerprint(record.signature());
  return out.str();
}

}  // namespace

// The write side of one transaction: changes are staged over the committed
// state and copied into it only by CommitTo(), so a failed Write() leaves the
// store untouched (the same effect as running on a copy and swapping, without
// copying the whole store per transaction).
class MemStore::View : public sync::WriteView {
 public:
  explicit View(const State& base) : base_(base) {}

  absl::StatusOr<std::optional<v1::Record>> Get(std::string_view id) override {
    if (auto it = current_.find(id); it != current_.end()) return std::optional(it->second);
    if (auto it = base_.current.find(id); it != base_.current.end()) {
      return std::optional(it->second);
    }
    return std::optional<v1::Record>();
  }

  absl::Status SetCurrent(std::string_view id, const v1::Record& record) override {
    current_[std::string(id)] = record;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> AppendLog(const v1::Record& record) override {
    log_.push_back(record);
    return base_.log.size() + log_.size();
  }

  absl::StatusOr<std::vector<v1::Record>> Losers(std::string_view id) override {
    const auto base = base_.losers.find(id);
    const auto changes = loser_changes_.find(id);
    std::vector<v1::Record> out;
    if (changes == loser_changes_.end()) {  // the common case: copy once
      if (base != base_.losers.end()) {
        out.reserve(base->second.size());
        for (const auto& [key, record] : base->second) out.push_back(record);
      }
      return out;
    }
    std::map<std::string, v1::Record> merged;
    if (base != base_.losers.end()) merged = base->second;
    for (const auto& [key, change] : changes->second) {
      if (change.has_value()) {
        merged[key] = *change;
      } else {
        merged.erase(key);
      }
    }
    out.reserve(merged.size());
    for (auto& [key, record] : merged) out.push_back(std::move(record));
    return out;
  }

  absl::Status PutLoser(std::string_view id, const v1::Record& record) override {
    v1::RecordBody body;
    if (!body.ParseFromString(record.body())) {
      return absl::InvalidArgumentError("loser does not parse");
    }
    loser_changes_[std::string(id)][sync::LoserKey(body.version(), record.body())] = record;
    return absl::OkStatus();
  }

  absl::Status DeleteLoser(std::string_view id, std::string_view version_key) override {
    loser_changes_[std::string(id)][std::string(version_key)] = std::nullopt;
    return absl::OkStatus();
  }

  absl::Status PutQuarantine(const sync::QuarantineEntry& entry) override {
    quarantine_.push_back(entry);
    return absl::OkStatus();
  }

  absl::Status SetAppliedSeq(std::string_view peer, uint64_t seq) override {
    applied_[std::string(peer)] = seq;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> MetaGet(std::string_view name) override {
    if (auto it = meta_.find(name); it != meta_.end()) return it->second;
    if (auto it = base_.meta.find(name); it != base_.meta.end()) {
      return std::optional<std::string>(it->second);
    }
    return std::optional<std::string>();
  }

  absl::Status MetaPut(std::string_view name, std::string_view value) override {
    meta_[std::string(name)] = std::string(value);
    return absl::OkStatus();
  }

  absl::Status MetaDelete(std::string_view name) override {
    meta_[std::string(name)] = std::nullopt;
    return absl::OkStatus();
  }

  // Applies the staged changes to `state`; returns how many checkpoints moved
  // backwards.
  uint64_t CommitTo(State& state) {
    for (auto& [id, record] : current_) state.current[id] = std::move(record);
    for (auto& [id, changes] : loser_changes_) {
      auto& losers = state.losers[id];
      for (auto& [key, change] : changes) {
        if (change.has_value()) {
          losers[key] = std::move(*change);
        } else {
          losers.erase(key);
        }
      }
      if (losers.empty()) state.losers.erase(id);
    }
    for (auto& record : log_) state.log.push_back(std::move(record));
    for (auto& q : quarantine_) state.quarantine.push_back(std::move(q));
    for (auto& [name, value] : meta_) {
      if (value.has_value()) {
        state.meta[name] = std::move(*value);
      } else {
        state.meta.erase(name);
      }
    }
    uint64_t regressions = 0;
    for (const auto& [peer, seq] : applied_) {
      uint64_t& stored = state.applied[peer];
      if (seq < stored) ++regressions;
      stored = seq;
    }
    return regressions;
  }

 private:
  const State& base_;
  std::map<std::string, v1::Record, std::less<>> current_;
  // record id -> VersionKey -> new loser, or nullopt for a deletion.
  std::map<std::string, std::map<std::string, std::optional<v1::Record>>, std::less<>>
      loser_changes_;
  std::vector<v1::Record> log_;
  std::vector<sync::QuarantineEntry> quarantine_;
  std::map<std::string, uint64_t> applied_;
  std::map<std::string, std::optional<std::string>, std::less<>> meta_;  // nullopt: deleted
};

absl::StatusOr<std::vector<sync::LogEntry>> MemStore::ReadLog(uint64_t after_seq,
                                                             size_t max_entries,
                                                             size_t max_bytes) const {
  std::vector<sync::LogEntry> out;
  size_t bytes = 0;
  for (uint64_t seq = after_seq + 1;
       seq <= state_.log.size() && out.size() < max_entries && bytes < max_bytes; ++seq) {
    const v1::Record& record = state_.log[seq - 1];
    bytes += record.ByteSizeLong();
    out.push_back({seq, record});
  }
  return out;
}

absl::StatusOr<uint64_t> MemStore::AppliedSeq(std::string_view peer) const {
  auto it = state_.applied.find(peer);
  return it == state_.applied.end() ? 0 : it->second;
}

absl::Status MemStore::Write(const std::function<absl::Status(sync::WriteView&)>& fn) {
  View view(state_);
  absl::Status status = fn(view);
  if (!status.ok()) return status;
  checkpoint_regressions_ += view.CommitTo(state_);
  return absl::OkStatus();
}

namespace {
// Appends `bytes` with a length prefix, so concatenations cannot collide.
void AppendField(std::string& out, std::string_view bytes) {
  out += std::to_string(bytes.size());
  out += ':';
  out += bytes;
}
}  // namespace

std::string MemStore::Digest() const {
  std::string out;
  auto append_version = [&](const v1::Record& r) {
    AppendField(out, r.body());
    AppendField(out, r.signature());
  };
  for (const auto& [id, record] : state_.current) {
    AppendField(out, id);
    append_version(record);
    if (auto it = state_.losers.find(id); it != state_.losers.end()) {
      out += "L" + std::to_string(it->second.size());
      for (const auto& [key, loser] : it->second) append_version(loser);
    }
    out += '\n';
  }
  for (const auto& [id, losers] : state_.losers) {
    if (!state_.current.contains(id)) AppendField(out, "orphan losers of " + id);
  }
  return out;
}

std::string MemStore::Describe() const {
  std::ostringstream out;
  for (const auto& [id, record] : state_.current) {
    out << id << " current=" << VersionLabel(record) << " losers=[";
    if (auto it = state_.losers.find(id); it != state_.losers.end()) {
      const char* sep = "";
      for (const auto& [key, loser] : it->second) {
        out << sep << VersionLabel(loser);
        sep = ",";
      }
    }
    out << "]\n";
  }
  // Losers without a current version break an invariant; show them.
  for (const auto& [id, losers] : state_.losers) {
    if (!state_.current.contains(id)) out << id << " ORPHAN losers=" << losers.size() << "\n";
  }
  return out.str();
}

std::optional<v1::Record> MemStore::Current(std::string_view id) const {
  auto it = state_.current.find(id);
  if (it == state_.current.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> MemStore::Meta(std::string_view name) const {
  auto it = state_.meta.find(name);
  if (it == state_.meta.end()) return std::nullopt;
  return it->second;
}

std::vector<v1::Record> MemStore::Losers(std::string_view id) const {
  std::vector<v1::Record> out;
  if (auto it = state_.losers.find(id); it != state_.losers.end()) {
    for (const auto& [key, record] : it->second) out.push_back(record);
  }
  return out;
}

std::vector<std::string> MemStore::RecordIds() const {
  std::vector<std::string> ids;
  ids.reserve(state_.current.size());
  for (const auto& [id, record] : state_.current) ids.push_back(id);
  return ids;
}

sync::Admission TagSignatures::Verify(const v1::Record& record, const v1::RecordBody& body, bool linked) const {
  if (linked) return {};
  ++checked;
  if (record.signature() != Tag(body.version().writer(), record.body())) {
    return {false, "BAD_SIGNATURE", "tag does not match"};
  }
  return {};
}

absl::Status TagSignatures::Sign(v1::Record& record) const {
  v1::RecordBody body;
  if (!body.ParseFromString(record.body())) return absl::InvalidArgumentError("unparsable");
  record.set_signature(Tag(body.version().writer(), record.body()));
  return absl::OkStatus();
}

std::string TagSignatures::Tag(const std::string& writer, const std::string& body_bytes) {
  return writer + ":" + sync::BodyDigest(body_bytes);
}

}  // namespace steersync::testing
