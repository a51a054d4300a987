#include "node/domain/unit_status.h"

#include "node/domain/calendar.h"
#include "node/domain/documents.h"
#include "sync/node_path.h"
#include "sync/text.h"

namespace steersync::domain {
namespace {

constexpr std::string_view kStatusSuffix = "/status";

std::string TopOf(std::string_view unit) { return std::string(unit.substr(0, unit.find('/'))); }

StatusVerdict Malformed(std::string detail) { return {"MALFORMED_PAYLOAD", std::move(detail)}; }

// A unit strictly below `writer`.
bool IsBelow(std::string_view writer, const std::string& unit) {
  return sync::IsValidNodeId(unit) && unit != writer && sync::IsSelfOrAncestor(writer, unit);
}

StatusVerdict CheckOverdue(const v1::UnitStatus& s, std::string_view writer) {
  if (s.overdue_size() > kMaxStatusOverdue) {
    return Malformed(std::to_string(s.overdue_size()) + " overdue entries (at most " +
                     std::to_string(kMaxStatusOverdue) + ")");
  }
  if (s.overdue_total() < static_cast<uint32_t>(s.overdue_size())) {
    return Malformed("overdue_total below the entries carried");
  }
  for (const v1::UnitStatus::Overdue& o : s.overdue()) {
    if (!IsBelow(writer, o.unit())) {
      return {"ISSUER_MISMATCH", "overdue entry of '" + sync::Printable(o.unit(), 80) + "', not a unit below '" +
                                     std::string(writer) + "'"};
    }
    if (o.kind() != "report" && o.kind() != "task" && o.kind() != "ack") {
      return Malformed("overdue kind '" + sync::Printable(o.kind(), 16) + "' is not report, task or ack");
    }
    if (!sync::IsValidRecordId(o.ref()) || !ParseDate(o.due()).has_value() ||
        (o.kind() == "report" ? !IsReportingPeriod(o.period()) : !o.period().empty())) {
      return Malformed("overdue entry " + sync::Printable(o.ref(), 80) + " has a bad ref, period or due date");
    }
  }
  if (s.overdue_by_unit_size() > kMaxStatusChildren) return Malformed("too many overdue counts");
  uint64_t counted = 0;
  for (const v1::UnitStatus::UnitCount& c : s.overdue_by_unit()) {
    if (!IsBelow(writer, c.unit())) {
      return {"ISSUER_MISMATCH", "overdue count of '" + sync::Printable(c.unit(), 80) + "', not a unit below '" +
                                     std::string(writer) + "'"};
    }
    counted += c.count();
  }
  if (counted != s.overdue_total()) return Malformed("overdue counts do not add up to overdue_total");
  return {};
}

}  // namespace

std::string StatusRecordId(std::string_view unit) { return std::string(unit) + std::string(kStatusSuffix); }

std::string StatusOwner(std::string_view id) {
  if (id.size() <= kStatusSuffix.size() || id.substr(id.size() - kStatusSuffix.size()) != kStatusSuffix) return "";
  const std::string_view owner = id.substr(0, id.size() - kStatusSuffix.size());
  return sync::IsValidNodeId(owner) ? std::string(owner) : "";
}

v1::Audience StatusAudience(std::string_view unit) {
  v1::Audience audience;
  const std::string top = TopOf(unit);
  if (top == unit) {
    audience.set_direction(v1::Audience::LOCAL);
    audience.set_root(std::string(unit));
  } else {
    audience.set_direction(v1::Audience::UP);
    audience.set_root(top);
  }
  return audience;
}

StatusVerdict CheckUnitStatus(const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  if (body.payload().size() > kMaxStatusPayloadBytes) {
    return {"TOO_LARGE", "a status of " + std::to_string(body.payload().size()) + " bytes (at most " +
                             std::to_string(kMaxStatusPayloadBytes) + ")"};
  }
  v1::UnitStatus s;
  if (!s.ParseFromString(body.payload())) return Malformed("not a UnitStatus");
  if (s.unit() != writer || body.id() != StatusRecordId(writer)) {
    return {"ISSUER_MISMATCH", "a node writes only its own status ('" + writer + "/status'), not '" +
                                   sync::Printable(body.id(), 80) + "' of '" + sync::Printable(s.unit(), 80) + "'"};
  }
  const v1::Audience want = StatusAudience(writer);
  if (body.audience().direction() != want.direction() || body.audience().root() != want.root() ||
      body.audience().units_size() != 0) {
    return {"WRONG_DIRECTION", "a status flows up to '" + want.root() + "' (local on the top node)"};
  }
  if (s.children_size() > kMaxStatusChildren) {
    return Malformed(std::to_string(s.children_size()) + " units below (at most " +
                     std::to_string(kMaxStatusChildren) + ")");
  }
  for (const v1::UnitStatus::Child& c : s.children()) {
    if (!sync::IsValidNodeId(c.unit()) || sync::ParentOf(c.unit()) != writer) {
      return {"ISSUER_MISMATCH", "'" + sync::Printable(c.unit(), 80) + "' is not a unit directly below '" + writer + "'"};
    }
  }
  return CheckOverdue(s, writer);
}

}  // namespace steersync::domain
