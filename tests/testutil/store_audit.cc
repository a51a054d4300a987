#include "tests/testutil/store_audit.h"

#include <algorithm>

#include "node/link.h"
#include "node/store/lmdb_store.h"
#include "sync/merge.h"
#include "sync/meta_keys.h"
#include "sync/node_path.h"

namespace steersync::testing {

size_t StoreAudit::CountKind(v1::RecordKind kind) const {
  return static_cast<size_t>(
      std::count_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.second == kind; }));
}

bool IsBookkeeping(v1::RecordKind kind) { return kind == v1::UNIT_STATUS || kind == v1::SEQUENCE_HEAD; }

size_t StoreAudit::CommitteeRecords() const {
  return static_cast<size_t>(
      std::count_if(kinds.begin(), kinds.end(), [](const auto& k) { return !IsBookkeeping(k.second); }));
}

absl::StatusOr<StoreAudit> AuditStore(const std::string& data_dir) {
  node::lmdb::EnvOptions read_only;
  read_only.read_only = true;
  auto opened = node::LmdbStore::Open(data_dir, read_only);
  if (!opened.ok()) return opened.status();
  const node::LmdbStore& store = **opened;
  StoreAudit a;

  // Current versions first: the log read after holds each of them.
  std::map<std::string, std::string> current_version;  // id -> VersionKey
  absl::Status s = store.ForEachRecord([&](const v1::Record& r, const v1::RecordBody& b) {
    a.current[b.id()] = r.body();
    a.kinds[b.id()] = b.kind();
    current_version[b.id()] = sync::VersionKey(b.version());
    if (b.kind() == v1::ACKNOWLEDGEMENT) {
      v1::Acknowledgement ack;
      if (ack.ParseFromString(b.payload())) a.states[b.id()] = ack.state().empty() ? "ACKNOWLEDGED" : ack.state();
    } else if (b.kind() == v1::REPORT_STATUS) {
      v1::ReportStatus st;
      if (st.ParseFromString(b.payload())) a.states[b.id()] = st.state();
    }
  });
  if (!s.ok()) return s;

  std::set<std::string> logged;
  uint64_t after = 0;
  for (int guard = 0; guard < 1'000'000; ++guard) {  // bounded: 1,000 entries a round
    auto entries = store.ReadLog(after, 1000, size_t{64} << 20);
    if (!entries.ok()) return entries.status();
    if (entries->empty()) break;
    for (const sync::LogEntry& e : *entries) {
      v1::RecordBody b;
      if (!b.ParseFromString(e.record.body())) {
        return absl::DataLossError("log entry " + std::to_string(e.seq) + " does not parse");
      }
      const std::string key = b.id() + " " + sync::VersionKey(b.version());
      if (!logged.insert(key).second) a.duplicate_log_versions.push_back(key);
      ++a.log_entries;
      if (!IsBookkeeping(b.kind())) ++a.committee_log_entries;
      after = e.seq;
    }
  }
  a.head_seq = after;
  for (const auto& [id, version] : current_version) {
    // A node rewrites its bookkeeping (status, sequence heads) as it runs,
    // each version forgetting the last one's entry: read from a running
    // node, the log may already hold a newer version than the one read above.
    if (IsBookkeeping(a.kinds[id])) continue;
    if (logged.count(id + " " + version) == 0) a.unlogged.push_back(id + " " + version);
  }

  a.quarantined = store.QuarantineCount();
  auto conflicts = store.ListConflicts();
  if (!conflicts.ok()) return conflicts.status();
  for (const auto& c : *conflicts) {
    v1::RecordBody b;
    b.ParseFromString(c.loser.body());
    a.conflicts.push_back(c.record_id + " " + sync::VersionKey(b.version()) + " lost to " + c.winner_version +
                          " by " + c.rule);
  }
  auto returned = store.MetaScan(node::kReturnedPrefix);
  if (!returned.ok()) return returned.status();
  a.returned = returned->size();
  auto gaps = store.MetaScan(sync::meta::kAudienceGapPrefix);
  if (!gaps.ok()) return gaps.status();
  a.gaps = gaps->size();
  auto local = store.MetaGet(sync::meta::kLocalCounter);
  if (local.ok() && local->has_value() && (*local)->size() == 8) a.local_counter = sync::meta::DecodeU64(**local);
  auto counters = store.MetaScan(sync::meta::kWriterCounterPrefix);
  if (!counters.ok()) return counters.status();
  for (const auto& [key, value] : *counters) {
    if (value.size() == 8) {
      a.writer_counters[key.substr(sizeof(sync::meta::kWriterCounterPrefix) - 1)] = sync::meta::DecodeU64(value);
    }
  }
  return a;
}

std::vector<std::string> SingleStoreProblems(const std::string& name, const StoreAudit& a) {
  std::vector<std::string> out;
  for (const auto& d : a.duplicate_log_versions) out.push_back(name + ": version logged twice: " + d);
  for (const auto& u : a.unlogged) out.push_back(name + ": current version not in the change log: " + u);
  if (a.quarantined != 0) out.push_back(name + ": " + std::to_string(a.quarantined) + " quarantine entries");
  for (const auto& c : a.conflicts) out.push_back(name + ": conflict (an id written twice?): " + c);
  if (a.returned != 0) out.push_back(name + ": " + std::to_string(a.returned) + " refusal notices from peers");
  if (a.gaps != 0) out.push_back(name + ": " + std::to_string(a.gaps) + " audience-sequence gaps");
  return out;
}

namespace {

constexpr size_t kMaxListed = 10;  // per kind of finding, the rest counted

void Add(Tally& t, std::vector<std::string>& listed, size_t& more, std::string line) {
  if (listed.size() < kMaxListed) {
    listed.push_back(std::move(line));
  } else {
    ++more;
  }
}

}  // namespace

Tally CheckPair(const std::string& commune_id, const StoreAudit& province, const StoreAudit& commune,
                const std::set<std::string>& acked, const std::set<std::string>& acknowledged,
                const std::set<std::string>& accepted) {
  Tally t;
  for (auto& p : SingleStoreProblems("province", province)) t.problems.push_back(std::move(p));
  for (auto& p : SingleStoreProblems("commune", commune)) t.problems.push_back(std::move(p));
  t.duplicated += province.duplicate_log_versions.size() + commune.duplicate_log_versions.size() +
                  province.conflicts.size() + commune.conflicts.size();

  std::vector<std::string> listed;
  size_t more = 0;
  // Acknowledged writes on both sides.
  for (const std::string& id : acked) {
    for (const auto* side : {&province, &commune}) {
      if (side->current.count(id) == 0) {
        ++t.lost;
        Add(t, listed, more, std::string(side == &province ? "province" : "commune") +
                                 ": acknowledged record missing: " + id);
      }
    }
  }
  // The same records, the same current version; but for the units'
  // statuses and sequence heads, rewritten all the time.
  auto status = [](const StoreAudit& side, const std::string& id) {
    auto k = side.kinds.find(id);
    return k != side.kinds.end() && IsBookkeeping(k->second);
  };
  for (const auto& [id, body] : province.current) {
    if (status(province, id)) continue;
    auto it = commune.current.find(id);
    if (it == commune.current.end()) {
      Add(t, listed, more, "only on the province: " + id);
    } else if (it->second != body) {
      Add(t, listed, more, "different current versions of " + id);
    }
  }
  for (const auto& [id, body] : commune.current) {
    if (!status(commune, id) && province.current.count(id) == 0) Add(t, listed, more, "only on the commune: " + id);
  }
  // Every directive received (the commune's receipt), every report received
  // (the province's status), on both sides.
  for (const auto* side : {&province, &commune}) {
    const std::string name = side == &province ? "province" : "commune";
    for (const auto& [id, kind] : side->kinds) {
      if (kind == v1::DIRECTIVE && side->current.count(commune_id + "/a/" + id) == 0) {
        ++t.lost;
        Add(t, listed, more, name + ": no receipt of directive " + id);
      }
      if (kind == v1::REPORT) {
        auto st = side->states.find(id + "/status");
        if (st == side->states.end() || st->second == "SUBMITTED") {
          ++t.lost;
          Add(t, listed, more, name + ": report " + id + " not registered received (status " +
                                   (st == side->states.end() ? "none" : st->second) + ")");
        }
      }
    }
    for (const std::string& id : acknowledged) {
      auto st = side->states.find(id);
      if (st != side->states.end() && st->second != "ACKNOWLEDGED") {
        ++t.lost;
        Add(t, listed, more, name + ": acknowledged receipt " + id + " is " + st->second);
      }
    }
    for (const std::string& id : accepted) {
      auto st = side->states.find(id);
      if (st != side->states.end() && st->second != "ACCEPTED") {
        ++t.lost;
        Add(t, listed, more, name + ": accepted report status " + id + " is " + st->second);
      }
    }
  }
  // The commune never reuses a counter the province holds.
  auto held = province.writer_counters.find(commune_id);
  if (held != province.writer_counters.end() && held->second > commune.local_counter) {
    Add(t, listed, more, "the province holds counter " + std::to_string(held->second) +
                             " of the commune, whose own counter is " + std::to_string(commune.local_counter));
  }
  for (auto& l : listed) t.problems.push_back(std::move(l));
  if (more != 0) t.problems.push_back("... and " + std::to_string(more) + " more");
  return t;
}

}  // namespace steersync::testing
