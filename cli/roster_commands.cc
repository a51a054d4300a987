// steerctl unit | body | member | acting | authorisation: this node's roster
// (DOMAIN-MODEL.md §1.1–§1.7). Entries transcribe external decisions and cite
// them (--decision); the node checks dates, roles and windows.
//
// The `add`/`set`/`end` flags are bound straight to the fields of the Admin
// request they fill. The closed value sets documented in record.proto (unit
// level and kind, body kind, formula) are checked here for a quick usage
// error; the node checks every one of them again (node/domain/record_checks.cc).
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "sync/status_macros.h"

namespace steersync::cli {
namespace {

template <typename Request>
using WriteMethod = grpc::Status (v1::Admin::Stub::*)(grpc::ClientContext*, const Request&,
                                                      v1::WriteReply*);

// An action that sends `*request` with `method` and prints "<verb> <id>", or
// {"id", "version"} with --json.
template <typename Request>
Action WriteAction(WriteMethod<Request> method, std::shared_ptr<Request> request,
                   std::string verb) {
  return [method, request, verb](AdminClient& admin, bool as_json) -> absl::Status {
    SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(method, *request));
    return PrintReply(reply, verb + " " + reply.id(), as_json);
  };
}

// ---------------------------------------------------------------------------
// Listing: one RosterEntry kind as a table or a JSON array.

// A table column: its header and the entry field it shows ("id", "owner" or a
// key of RosterEntry.fields).
struct Column {
  const char* header;
  const char* field;
};

std::string Cell(const v1::RosterEntry& entry, const std::string& field) {
  if (field == "id") return entry.id();
  if (field == "owner") return entry.owner();
  const auto it = entry.fields().find(field);
  return it == entry.fields().end() ? "-" : OrDash(it->second);
}

// Lists the entries of `kind` in the order the node returns them.
absl::Status RunRosterList(const std::string& kind, const std::vector<Column>& columns,
                           AdminClient& admin, bool as_json) {
  v1::ListRosterRequest request;
  request.set_kind(kind);
  SYNC_ASSIGN_OR_RETURN(const v1::ListRosterReply reply,
                        admin.Call(&v1::Admin::Stub::ListRoster, request));
  if (as_json) return PrintMessageListJson(reply.entries());
  std::vector<std::string> header;
  for (const Column& c : columns) header.emplace_back(c.header);
  Table table(std::move(header));
  for (const v1::RosterEntry& entry : reply.entries()) {
    std::vector<std::string> row;
    for (const Column& c : columns) row.push_back(OneLine(Cell(entry, c.field)));
    table.AddRow(std::move(row));
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

// Adds `<parent> list`, listing the entries of `kind` with `columns`.
void AddListCommand(CLI::App& parent, Action& action, const std::string& kind,
                    std::vector<Column> columns, const std::string& description) {
  CLI::App* cmd = parent.add_subcommand("list", description);
  cmd->callback([kind, columns = std::move(columns), &action] {
    action = [kind, columns](AdminClient& admin, bool as_json) {
      return RunRosterList(kind, columns, admin, as_json);
    };
  });
}

// ---------------------------------------------------------------------------
// unit add | list

void AddUnitCommands(CLI::App& app, Action& action) {
  CLI::App* group = app.add_subcommand("unit", "Register this unit and the units below it");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand("add", "Register a unit (this node or one below it)");
  auto request = std::make_shared<v1::AddUnitRequest>();
  auto predecessors = std::make_shared<std::vector<std::string>>();
  add->add_option("UNIT", *request->mutable_unit(), "Unit node id, e.g. vn/quang-ngai/binh-son")
      ->required();
  add->add_option("--name", *request->mutable_name(), "Official name")->required();
  add->add_option("--level", *request->mutable_level(),
                  "Level (default: from the unit's depth)")
      ->check(CLI::IsMember({"NATIONAL", "PROVINCE", "COMMUNE"}));
  add->add_option("--kind", *request->mutable_commune_kind(), "Commune kind")
      ->check(CLI::IsMember({"XA", "PHUONG", "DAC_KHU"}));
  add->add_option("--code", *request->mutable_admin_code(), "Administrative code");
  add->add_option("--from", *request->mutable_valid_from(), "Valid from YYYY-MM-DD");
  add->add_option("--predecessor", *predecessors, "Unit merged into this one (repeatable)")
      ->allow_extra_args(false);
  add->callback([request, predecessors, &action] {
    for (const std::string& p : *predecessors) request->add_predecessors(p);
    action = WriteAction(&v1::Admin::Stub::AddUnit, request, "added");
  });

  AddListCommand(*group, action, "unit",
                 {{"ID", "id"},
                  {"LEVEL", "level"},
                  {"KIND", "commune_kind"},
                  {"CODE", "admin_code"},
                  {"FROM", "valid_from"},
                  {"NAME", "name"}},
                 "List registered units");
}

// ---------------------------------------------------------------------------
// body add | list

void AddBodyCommands(CLI::App& app, Action& action) {
  CLI::App* group = app.add_subcommand("body", "Committee bodies hosted on this node");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand("add", "Add a body; its id is <node>/<SLUG>");
  auto request = std::make_shared<v1::AddBodyRequest>();
  add->add_option("SLUG", *request->mutable_slug(), "Short name, unique on this node")->required();
  add->add_option("--name", *request->mutable_name(), "Full name")->required();
  add->add_option("--kind", *request->mutable_kind(),
                  "Body kind (default COMMITTEE)")
      ->check(CLI::IsMember(
          {"COMMITTEE", "STANDING_AGENCY", "ASSISTANCE_TEAM", "WORKING_TEAM", "WORKING_GROUP"}));
  add->add_option("--abbrev", *request->mutable_abbrev(),
                  "Abbreviation used in document numbers (default BCĐ)");
  add->add_option("--established-by", *request->mutable_established_by(),
                  "Decision establishing the body");
  add->add_option("--from", *request->mutable_valid_from(), "Valid from YYYY-MM-DD");
  add->callback([request, &action] {
    action = WriteAction(&v1::Admin::Stub::AddBody, request, "added");
  });

  AddListCommand(*group, action, "body",
                 {{"ID", "id"}, {"KIND", "kind"}, {"ABBREV", "abbrev"}, {"UNIT", "unit"},
                  {"NAME", "name"}},
                 "List bodies");
}

// ---------------------------------------------------------------------------
// member add | end | list

void AddMemberCommands(CLI::App& app, Action& action) {
  CLI::App* group = app.add_subcommand("member", "Memberships: who holds which role, when");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand("add", "Appoint a member, as a decision records it");
  auto request = std::make_shared<v1::AddMemberRequest>();
  add->add_option("--person", *request->mutable_person_id(), "Person id")->required();
  add->add_option("--name", *request->mutable_full_name(), "Full name")->required();
  add->add_option("--role", *request->mutable_role(),
                  "HEAD, STANDING_DEPUTY_HEAD, DEPUTY_HEAD, STANDING_AGENCY, MEMBER, SECRETARY, "
                  "TEAM_LEADER, WORKING_GROUP_LEAD, TEAM_MEMBER or STAFF")
      ->required();
  add->add_option("--from", *request->mutable_valid_from(), "First day YYYY-MM-DD")->required();
  add->add_option("--to", *request->mutable_valid_to(), "Last day YYYY-MM-DD (default: open)");
  add->add_option("--decision", *request->mutable_decision(),
                  "Appointing decision, e.g. 1742/QĐ-UBND")
      ->required();
  add->add_option("--in-body", *request->mutable_body_id(),
                  "BODY record id (default: this node's committee)");
  add->add_option_function<uint32_t>(
      "--order", [request](const uint32_t& n) { request->set_order_in_decision(n); },
      "Position in the decision's list of members");
  add->callback([request, &action] {
    action = WriteAction(&v1::Admin::Stub::AddMember, request, "added");
  });

  CLI::App* end = group->add_subcommand("end", "End a membership kept by this node");
  auto end_request = std::make_shared<v1::EndMemberRequest>();
  end->add_option("MEMBERSHIP_ID", *end_request->mutable_membership_id(), "Membership id")
      ->required();
  end->add_option("--to", *end_request->mutable_valid_to(), "Last day YYYY-MM-DD")->required();
  end->add_option("--decision", *end_request->mutable_decision(), "Decision ending it");
  end->callback([end_request, &action] {
    action = WriteAction(&v1::Admin::Stub::EndMember, end_request, "ended");
  });

  AddListCommand(*group, action, "member",
                 {{"ID", "id"},
                  {"ROLE", "role"},
                  {"RANK", "rank"},
                  {"NAME", "full_name"},
                  {"BODY", "body"},
                  {"FROM", "valid_from"},
                  {"TO", "valid_to"},
                  {"DECISION", "decision"}},
                 "List memberships");
}

// ---------------------------------------------------------------------------
// acting set | list

void AddActingCommands(CLI::App& app, Action& action) {
  CLI::App* group = app.add_subcommand("acting", "Windows in which a Deputy acts for the Head");
  group->require_subcommand(1);

  CLI::App* set = group->add_subcommand("set", "Let a Deputy Head act for the Head");
  auto request = std::make_shared<v1::SetActingRequest>();
  set->add_option("MEMBERSHIP_ID", *request->mutable_acting_membership_id(),
                  "Membership of the Deputy who acts")
      ->required();
  set->add_option("--from", *request->mutable_from(), "First day YYYY-MM-DD")->required();
  set->add_option("--to", *request->mutable_to(), "Last day YYYY-MM-DD")->required();
  set->add_option("--basis", *request->mutable_basis(),
                  "Legal basis: AUTO_P4_2, AUTO_C4_1 or 'DESIGNATED(<document>)' "
                  "(default: from the role and the unit's level)");
  set->add_option("--reason", *request->mutable_reason(), "Why, e.g. the Head's absence");
  set->callback([request, &action] {
    action = WriteAction(&v1::Admin::Stub::SetActing, request, "set");
  });

  AddListCommand(*group, action, "acting",
                 {{"ID", "id"},
                  {"MEMBER", "member"},
                  {"NAME", "full_name"},
                  {"FROM", "from"},
                  {"TO", "to"},
                  {"BASIS", "basis"},
                  {"REASON", "reason"}},
                 "List acting windows");
}

// ---------------------------------------------------------------------------
// absence set | list

absl::Status RunAbsenceSet(const v1::SetAbsenceRequest& request, AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::SetAbsenceReply reply, admin.Call(&v1::Admin::Stub::SetAbsence, request));
  if (as_json) return PrintMessageJson(reply);
  std::cout << "set " << reply.id() << "\n";
  if (!reply.acting_id().empty()) {
    std::cout << "acting for the Head: " << reply.acting_membership_id() << " (" << reply.acting_id() << ")\n";
  }
  if (!reply.warning().empty()) std::cout << "warning: " << reply.warning() << "\n";
  return absl::OkStatus();
}

void AddAbsenceCommands(CLI::App& app, Action& action) {
  CLI::App* group = app.add_subcommand("absence", "Members' absences; a Head's makes a Deputy act");
  group->require_subcommand(1);
  CLI::App* set = group->add_subcommand(
      "set", "Record an absence; for the Head, the Deputy the regulations name acts (P 4.2, C 4.1)");
  auto request = std::make_shared<v1::SetAbsenceRequest>();
  set->add_option("MEMBERSHIP_ID", *request->mutable_membership_id(), "Membership of the absent member")
      ->required();
  set->add_option("--from", *request->mutable_from(), "First day YYYY-MM-DD")->required();
  set->add_option("--to", *request->mutable_to(), "Last day YYYY-MM-DD")->required();
  set->add_option("--reason", *request->mutable_reason(), "Why");
  set->callback([request, &action] {
    action = [request](AdminClient& admin, bool as_json) { return RunAbsenceSet(*request, admin, as_json); };
  });
  AddListCommand(*group, action, "absence",
                 {{"ID", "id"}, {"MEMBER", "member"}, {"NAME", "full_name"}, {"FROM", "from"}, {"TO", "to"},
                  {"REASON", "reason"}},
                 "List absences");
}

// ---------------------------------------------------------------------------
// authorisation add | list

void AddAuthorisationCommands(CLI::App& app, Action& action) {
  CLI::App* group =
      app.add_subcommand("authorisation", "Written signing authorisations (D30 Art. 13)");
  group->require_subcommand(1);

  CLI::App* add = group->add_subcommand("add", "Authorise a member to sign KT, TUQ or TL");
  auto request = std::make_shared<v1::AddAuthorisationRequest>();
  auto scope = std::make_shared<std::vector<std::string>>();
  add->add_option("MEMBERSHIP_ID", *request->mutable_delegate_membership_id(),
                  "Membership of the delegate")
      ->required();
  add->add_option("--formula", *request->mutable_formula(), "Signing formula")
      ->required()
      ->check(CLI::IsMember({"KT", "TUQ", "TL"}));
  add->add_option("--scope", *scope, "Document type it covers (repeatable; default: all)")
      ->allow_extra_args(false);
  add->add_option("--from", *request->mutable_from(), "First day YYYY-MM-DD")->required();
  add->add_option("--to", *request->mutable_to(), "Last day YYYY-MM-DD")->required();
  add->add_option("--decision", *request->mutable_granted_by_doc(),
                  "Document granting it")
      ->required();
  add->callback([request, scope, &action] {
    for (const std::string& s : *scope) request->add_scope(s);
    action = WriteAction(&v1::Admin::Stub::AddAuthorisation, request, "added");
  });

  AddListCommand(*group, action, "authorisation",
                 {{"ID", "id"},
                  {"MEMBER", "member"},
                  {"FORMULA", "formula"},
                  {"SCOPE", "scope"},
                  {"FROM", "from"},
                  {"TO", "to"},
                  {"DECISION", "decision"}},
                 "List signing authorisations");
}

}  // namespace

void AddRosterCommands(CLI::App& app, Action& action) {
  AddUnitCommands(app, action);
  AddBodyCommands(app, action);
  AddMemberCommands(app, action);
  AddActingCommands(app, action);
  AddAbsenceCommands(app, action);
  AddAuthorisationCommands(app, action);
}

}  // namespace steersync::cli
