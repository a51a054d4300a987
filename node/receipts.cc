#include "node/receipts.h"

#include <set>

#include "sync/node_path.h"
#include "sync/status_macros.h"

namespace steersync::node {

void RegisterReceipts(DirectiveActs& directive_acts, ReportActs& report_acts,
                      const std::vector<std::pair<std::string, v1::RecordKind>>& admitted) {
  constexpr std::string_view kStatus = "/status";
  std::vector<std::string> reports;
  std::vector<std::string> directives;
  for (const auto& [id, kind] : admitted) {
    if (kind == v1::REPORT) reports.push_back(id);
    // The SUBMITTED status follows its report: the receipt descends from it.
    if (kind == v1::REPORT_STATUS && id.size() > kStatus.size()) {
      reports.push_back(id.substr(0, id.size() - kStatus.size()));
    }
    if (kind == v1::DIRECTIVE) directives.push_back(id);
  }
  if (!reports.empty()) report_acts.Receive(std::move(reports));
  if (!directives.empty()) directive_acts.Receive(std::move(directives));
}

absl::Status RegisterPendingReceipts(const LmdbStore& store, const std::string& self,
                                     DirectiveActs& directive_acts, ReportActs& report_acts) {
  std::vector<std::string> reports;
  std::vector<std::string> directives;
  std::set<std::string> receipts;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    v1::ReportStatus st;
    if (body.kind() == v1::REPORT_STATUS && st.ParseFromString(body.payload()) &&
        st.state() == "SUBMITTED" && sync::ParentOf(body.version().writer()) == self) {
      reports.push_back(st.report_id());
    }
    if (body.kind() == v1::DIRECTIVE && body.version().writer() != self) directives.push_back(body.id());
    if (body.kind() == v1::ACKNOWLEDGEMENT) receipts.insert(body.id());
  }));
  std::erase_if(directives, [&](const std::string& d) { return receipts.count(self + "/a/" + d) > 0; });
  if (!reports.empty()) report_acts.Receive(std::move(reports));
  if (!directives.empty()) directive_acts.Receive(std::move(directives));
  return absl::OkStatus();
}

}  // namespace steersync::node
