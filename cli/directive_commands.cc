// steerctl directive issue | list | ack | return | recall: a directive's
// lifecycle (DOMAIN-MODEL.md §1.8–§1.9): issued in a capacity, acknowledged or
// returned by the units it reaches, replaced, amended, corrected or recalled
// by its issuer.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/act_options.h"
#include "cli/commands.h"
#include "cli/attachments.h"
#include "cli/list_options.h"
#include "cli/output.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::cli {
namespace {

// ---------------------------------------------------------------------------
// directive issue

struct IssueOptions {
  std::string number;    // Empty: the node allocates one from the series.
  std::string doc_type;  // Empty: the node's default ("CV").
  std::string title;
  BodyOptions body;
  std::vector<std::string> to_units;
  // Earlier directives of this issuer that the new one affects.
  std::vector<std::string> replaces, amends, corrects, recalls;
  bool local = false;
  std::vector<std::string> attach;  // Files to attach.
  ActOptions act;
};

absl::Status RunDirectiveIssue(const IssueOptions& options, AdminClient& admin, bool as_json) {
  v1::IssueDirectiveRequest request;
  request.set_number(options.number);
  request.set_title(options.title);
  SYNC_ASSIGN_OR_RETURN(*request.mutable_body(), LoadBody(options.body));
  for (const std::string& unit : options.to_units) request.add_to_units(unit);
  *request.mutable_act() = FillActAs(options.act);
  request.set_doc_type(options.doc_type);
  request.set_local(options.local);
  SYNC_RETURN_IF_ERROR(LoadAttachments(options.attach, *request.mutable_attachments()));
  const std::pair<v1::DocumentRelation::Kind, const std::vector<std::string>*> relations[] = {
      {v1::DocumentRelation::REPLACES, &options.replaces},
      {v1::DocumentRelation::AMENDS, &options.amends},
      {v1::DocumentRelation::CORRECTS, &options.corrects},
      {v1::DocumentRelation::RECALLS, &options.recalls},
  };
  for (const auto& [kind, targets] : relations) {
    for (const std::string& target : *targets) {
      v1::DocumentRelation* rel = request.add_relations();
      rel->set_kind(kind);
      rel->set_target(target);
    }
  }
  SYNC_ASSIGN_OR_RETURN(const v1::IssueDirectiveReply reply,
                        admin.Call(&v1::Admin::Stub::IssueDirective, request));
  return PrintReply(reply, "issued " + reply.id(), as_json);
}

void AddDirectiveIssueCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("issue", "Issue a directive to subordinate units");
  auto options = std::make_shared<IssueOptions>();
  cmd->add_option("--number", options->number,
                  "Directive number (default: the next of its series, e.g. 03/KH-BCĐ)");
  cmd->add_option("--type", options->doc_type,
                  "Document type code: KH, QĐ, CT, TB, GM, ... (default CV)");
  cmd->add_option("--title", options->title, "Directive title")->required();
  AddBodyOptions(*cmd, options->body);
  CLI::Option* to = cmd->add_option("--to", options->to_units,
                                     "Addressed unit (repeatable; default: all)")
                        ->allow_extra_args(false);
  cmd->add_flag("--local", options->local,
                "Keep it on this node: internal minutes and plans are not sent (DOMAIN-MODEL §2)")
      ->excludes(to);
  constexpr char kRelations[] = "Relations to earlier directives of this issuer (repeatable)";
  cmd->add_option("--replaces", options->replaces, "Replace directive ID")
      ->allow_extra_args(false)
      ->group(kRelations);
  cmd->add_option("--amends", options->amends, "Amend directive ID")
      ->allow_extra_args(false)
      ->group(kRelations);
  cmd->add_option("--corrects", options->corrects, "Correct directive ID")
      ->allow_extra_args(false)
      ->group(kRelations);
  cmd->add_option("--recalls", options->recalls, "Recall directive ID")
      ->allow_extra_args(false)
      ->group(kRelations);
  AddAttachOption(*cmd, options->attach);
  AddActOptions(*cmd, options->act);
  cmd->callback([options, &action] {
    action = [options](AdminClient& admin, bool as_json) {
      return RunDirectiveIssue(*options, admin, as_json);
    };
  });
}

// ---------------------------------------------------------------------------
// directive list

void PrintDirectives(const v1::ListDirectivesReply& r) {
  Table table({"ID", "NUMBER", "DATE", "STATUS", "SIGNED-AS", "TO", "RECEIVED", "ACKS", "TITLE"});
  for (const v1::DirectiveInfo& d : r.directives()) {
    table.AddRow({d.id(), d.number(), OrDash(d.issued_date()), OrDash(d.status()), OrDash(d.signed_as()),
                  d.local() ? "(local)" : d.to().empty() ? "all" : std::to_string(d.to_size()),
                  std::to_string(d.received_by_size() + d.acks_size()), std::to_string(d.acks_size()), d.title()});
  }
  table.Print(std::cout);
}

absl::Status RunDirectiveList(const v1::ListDirectivesRequest& filter, AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::ListDirectivesReply reply, admin.Call(&v1::Admin::Stub::ListDirectives, filter));
  if (as_json) return PrintMessageListJson(reply.directives());
  PrintDirectives(reply);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// directive show

absl::Status RunDirectiveShow(const std::string& id, AdminClient& admin, bool as_json) {
  v1::ShowRequest request;
  request.set_id(id);
  SYNC_ASSIGN_OR_RETURN(const v1::DirectiveInfo d, admin.Call(&v1::Admin::Stub::ShowDirective, request));
  if (as_json) return PrintShowJson(d);
  auto p = [](const std::string& s) { return sync::Printable(s, 400); };
  std::cout << p(d.number()) << "  " << p(d.title()) << "\n"
            << "  id:          " << d.id() << "  (" << d.status() << (d.local() ? ", kept local" : "") << ")\n"
            << "  type:        " << p(d.doc_type()) << ", issued " << p(d.issued_date())
            << (d.identity().empty() ? "" : ", identity " + p(d.identity())) << "\n"
            << "  issuer:      " << d.issuer() << ", signed " << OrDash(p(d.signed_as())) << "\n"
            << "  to:          " << (d.to().empty() ? "every unit below " + d.issuer() : JoinOrDash(d.to())) << "\n";
  for (const v1::DocumentRelation& rel : d.relations()) {
    std::cout << "  " << v1::DocumentRelation::Kind_Name(rel.kind()) << ": " << rel.target() << "\n";
  }
  if (!d.affected_by().empty()) std::cout << "  affected by: " << JoinOrDash(d.affected_by()) << "\n";
  std::cout << "  received:    " << JoinOrDash(d.received_by()) << "  (registered on arrival, not yet acknowledged)\n"
            << "  acknowledged: " << JoinOrDash(d.acks()) << "\n";
  if (!d.returned_by().empty()) std::cout << "  returned by: " << JoinOrDash(d.returned_by()) << "\n";
  if (!d.recalled_from().empty()) std::cout << "  recalled from: " << JoinOrDash(d.recalled_from()) << "\n";
  PrintAttachments(std::cout, d.attachments());
  std::cout << "  version:     " << d.version() << "\n\n";
  PrintDocumentText(std::cout, d.body());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// directive ack | return: the receiving unit's receipt.

struct ReceiptOptions {
  std::string directive_id;
  std::string reason;      // Why it is returned (return only).
  std::string if_version;  // Receipt version this edit is based on; empty: current.
  ActOptions act;
};

// `state` is "ACKNOWLEDGED" or "RETURNED"; `verb` starts the text output.
absl::Status RunReceipt(const ReceiptOptions& options, const std::string& state,
                        const std::string& verb, AdminClient& admin, bool as_json) {
  v1::AckDirectiveRequest request;
  request.set_directive_id(options.directive_id);
  *request.mutable_act() = FillActAs(options.act);
  request.set_state(state);
  request.set_reason(options.reason);
  request.set_if_version(options.if_version);
  SYNC_ASSIGN_OR_RETURN(const v1::AckDirectiveReply reply,
                        admin.Call(&v1::Admin::Stub::AckDirective, request));
  return PrintReply(reply, verb + " " + options.directive_id + " as " + reply.id(), as_json);
}

// Adds `directive ack` (returning == false) or `directive return`.
void AddReceiptCommand(CLI::App& parent, Action& action, bool returning) {
  CLI::App* cmd =
      returning ? parent.add_subcommand(
                      "return", "Return a directive to its issuer as misaddressed (D30 Art. 21.2)")
                : parent.add_subcommand("ack", "Acknowledge a directive");
  auto options = std::make_shared<ReceiptOptions>();
  cmd->add_option("ID", options->directive_id, "Directive id")->required();
  if (returning) cmd->add_option("--reason", options->reason, "Why it is returned")->required();
  cmd->add_option("--if-version", options->if_version,
                  "Receipt version this edit is based on (steerctl why <unit>/a/ID)");
  AddActOptions(*cmd, options->act);
  cmd->callback([options, returning, &action] {
    action = [options, returning](AdminClient& admin, bool as_json) {
      return returning ? RunReceipt(*options, "RETURNED", "returned", admin, as_json)
                       : RunReceipt(*options, "ACKNOWLEDGED", "acknowledged", admin, as_json);
    };
  });
}

// ---------------------------------------------------------------------------
// directive recall

struct RecallOptions {
  std::string directive_id;
  std::string reason;
  ActOptions act;
};

absl::Status RunDirectiveRecall(const RecallOptions& options, AdminClient& admin, bool as_json) {
  v1::RecallDirectiveRequest request;
  request.set_directive_id(options.directive_id);
  request.set_reason(options.reason);
  *request.mutable_act() = FillActAs(options.act);
  SYNC_ASSIGN_OR_RETURN(const v1::RecallDirectiveReply reply,
                        admin.Call(&v1::Admin::Stub::RecallDirective, request));
  if (as_json) return PrintMessageJson(reply);
  std::cout << "recalled " << options.directive_id << " from " << reply.ids_size()
            << " unit(s)\n";
  for (const std::string& id : reply.ids()) std::cout << "  receipt " << id << "\n";
  return absl::OkStatus();
}

void AddDirectiveRecallCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand(
      "recall", "Recall a directive this node issued from every unit that holds it");
  auto options = std::make_shared<RecallOptions>();
  cmd->add_option("ID", options->directive_id, "Directive id")->required();
  cmd->add_option("--reason", options->reason, "Why it is recalled")->required();
  AddActOptions(*cmd, options->act);
  cmd->callback([options, &action] {
    action = [options](AdminClient& admin, bool as_json) {
      return RunDirectiveRecall(*options, admin, as_json);
    };
  });
}

}  // namespace

void AddDirectiveCommands(CLI::App& app, Action& action) {
  CLI::App* cmd =
      app.add_subcommand("directive", "Issue, list, acknowledge, return and recall directives");
  cmd->require_subcommand(1);
  AddDirectiveIssueCommand(*cmd, action);
  CLI::App* list = cmd->add_subcommand("list", "List directives, their status and receipts");
  auto filter = std::make_shared<v1::ListDirectivesRequest>();
  list->add_option("--status", *filter->mutable_status(), "Only directives in this status")
      ->check(CLI::IsMember({"EFFECTIVE", "SUPERSEDED", "AMENDED", "CORRECTED", "RECALLED"}));
  list->add_option("--since", *filter->mutable_since(), "Only directives issued on or after YYYY-MM-DD")
      ->check(IsoDate());
  list->add_option("--from", *filter->mutable_from(), "Only directives issued by this unit");
  list->add_option_function<uint32_t>("--limit", [filter](const uint32_t& n) { filter->set_limit(n); }, "At most N: the last in id order (for one unit's records, its newest)")
      ->check(CLI::Range(1, 1000000));
  list->callback([filter, &action] {
    action = [filter](AdminClient& admin, bool as_json) { return RunDirectiveList(*filter, admin, as_json); };
  });
  CLI::App* show = cmd->add_subcommand("show", "Print one directive whole: its text, signer, addressees, receipts");
  auto show_id = std::make_shared<std::string>();
  show->add_option("ID", *show_id, "Directive id")->required();
  show->callback([show_id, &action] {
    action = [show_id](AdminClient& admin, bool as_json) { return RunDirectiveShow(*show_id, admin, as_json); };
  });
  AddReceiptCommand(*cmd, action, /*returning=*/false);
  AddReceiptCommand(*cmd, action, /*returning=*/true);
  AddDirectiveRecallCommand(*cmd, action);
}

}  // namespace steersync::cli
