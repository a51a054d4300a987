// steerctl commands about the node itself: status, peers, quarantine list,
// revocation publish, conflicts, why, backup.
#include <cstdio>
#include <thread>
#include <ctime>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/list_options.h"
#include "cli/output.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::cli {
namespace {

// ---------------------------------------------------------------------------
// status

void PrintStatus(const v1::StatusReply& r) {
  const std::string parent =
      r.parent_address().empty()
          ? "(none, this is the root)"
          : r.parent_address() + (r.parent_connected() ? " (connected)" : " (disconnected)");
  PrintKeyValues({
      {"node", r.node_id()},
      {"parent", parent},
      {"head seq", std::to_string(r.head_seq())},
      {"children seen", JoinOrDash(r.children_seen())},
      {"records", std::to_string(r.record_count())},
      {"quarantined", std::to_string(r.quarantined_count())},
      {"attachments", std::to_string(r.attachments_complete()) + " complete, " +
                          std::to_string(r.attachments_arriving()) + " arriving (" +
                          std::to_string(r.attachment_bytes_held()) + " of " +
                          std::to_string(r.attachment_bytes_expected()) + " bytes held)"},
      {"refused peers", std::to_string(r.refused_handshakes()) +
                            (r.last_refusal().empty() ? "" : " (last: " + r.last_refusal() + ")")},
      {"revoked certs", std::to_string(r.revoked_certificates())},
      {"recovering", r.recovering().empty() ? "no" : "yes"},
      {"catching up", r.catching_up().empty() ? "no" : sync::Printable(r.catching_up(0), 200)},
  });
  for (int i = 1; i < r.catching_up_size(); ++i) {
    std::cout << "              " << sync::Printable(r.catching_up(i), 200) << "\n";
  }
  for (const auto& w : r.warnings()) std::cout << "WARNING: " << sync::Printable(w, 1000) << "\n";
}

absl::Status RunStatus(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::StatusReply reply,
                        admin.Call(&v1::Admin::Stub::GetStatus, v1::StatusRequest()));
  if (as_json) return PrintMessageJson(reply);
  PrintStatus(reply);
  return absl::OkStatus();
}

// `status --watch`: the status every `seconds`, until interrupted (Ctrl-C)
// or the node stops answering; with --json one document per line.
absl::Status RunStatusWatch(int seconds, AdminClient& admin, bool as_json) {
  for (;;) {
    SYNC_ASSIGN_OR_RETURN(const v1::StatusReply reply,
                          admin.Call(&v1::Admin::Stub::GetStatus, v1::StatusRequest()));
    if (as_json) {
      SYNC_ASSIGN_OR_RETURN(json doc, MessageToJson(reply));
      std::cout << doc.dump() << std::endl;
    } else {
      // The operator's own clock, stamping what steerctl prints (the CLI is no
      // node: node/system_clock.h is the nodes' one clock).
      const std::time_t now = std::time(nullptr);
      char stamp[32];
      std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
      std::cout << "--- " << stamp << " (every " << seconds << " s; Ctrl-C to stop)\n";
      PrintStatus(reply);
      std::cout << std::flush;
    }
    // The interval an operator asked for between two looks, not a wait for
    // a state (steerctl is the one waiting here, on purpose).
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
}

// ---------------------------------------------------------------------------
// peers

// "N left, R/s, ETA S s" while a catch-up from the peer runs, else "-".
std::string CatchUpCell(const v1::PeerInfo& p) {
  if (p.catch_up_remaining() == 0) return "-";
  std::string cell = std::to_string(p.catch_up_remaining()) + " left";
  if (p.catch_up_eta_seconds() >= 0) {
    cell += ", " + std::to_string(p.catch_up_records_per_second()) + "/s, ETA " +
            std::to_string(p.catch_up_eta_seconds()) + " s";
  }
  return cell;
}

void PrintPeers(const v1::PeersReply& r) {
  Table table({"PEER", "RELATION", "CONNECTED", "LAST-CONTACT", "SENT", "RECEIVED", "BEHIND",
               "REJECTED", "QUARANTINED", "PROTOCOL-ERRORS", "CLOCK-OFFSET", "CATCH-UP"});
  for (const v1::PeerInfo& p : r.peers()) {
    char offset[32];
    std::snprintf(offset, sizeof(offset), "%+.1f s", static_cast<double>(p.clock_offset_micros()) / 1e6);
    table.AddRow({p.peer(), p.relation(), YesNo(p.connected()),
                  MicrosToText(p.last_contact_micros()), std::to_string(p.records_sent()),
                  std::to_string(p.records_received()), std::to_string(p.behind()),
                  std::to_string(p.rejected()),
                  std::to_string(p.quarantined()) +
                      (p.quarantine_evicted() == 0
                           ? ""
                           : " (" + std::to_string(p.quarantine_evicted()) + " evicted)"),
                  std::to_string(p.protocol_errors() + p.bad_notices()), offset, CatchUpCell(p)});
  }
  table.Print(std::cout);
}

absl::Status RunPeers(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::PeersReply reply,
                        admin.Call(&v1::Admin::Stub::ListPeers, v1::PeersRequest()));
  if (as_json) {
    return PrintMessageListJson(reply.peers(), [](json& peer) {
      MicrosFieldToIso(peer, "last_contact_micros", "last_contact");
    });
  }
  PrintPeers(reply);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// subtree

absl::Status RunSubtree(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::SubtreeListReply reply,
                        admin.Call(&v1::Admin::Stub::SubtreeList, v1::SubtreeListRequest()));
  if (as_json) {
    return PrintMessageListJson(reply.units(), [](json& unit) {
      MicrosFieldToIso(unit, "last_seen_micros", "last_seen");
      MicrosFieldToIso(unit, "as_of_micros", "as_of");
    });
  }
  if (reply.units().empty()) {
    std::cout << "no unit below this node\n";
    return absl::OkStatus();
  }
  Table table({"UNIT", "CONNECTED", "LAST-SEEN", "BEHIND", "UNACKED", "OVERDUE", "AS-OF"});
  for (const v1::SubtreeUnit& u : reply.units()) {
    table.AddRow({u.unit(), YesNo(u.connected()), MicrosToText(u.last_seen_micros()), std::to_string(u.behind()),
                  std::to_string(u.unacked()), std::to_string(u.overdue()),
                  u.as_of_micros() == 0 ? "-" : FormatMicros(u.as_of_micros())});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// quarantine list

void PrintQuarantine(const v1::ListQuarantineReply& r) {
  // Refused here (FROM the peer that sent it), or sent from here and
  // RETURNED BY the peer that refused it.
  Table table({"RECORD", "FROM", "REASON", "RECEIVED", "DETAIL"});
  for (const v1::QuarantineInfo& q : r.entries()) {
    const std::string from = q.returned_by().empty() ? OrDash(q.from_peer()) : "returned by " + q.returned_by();
    table.AddRow({q.record_id(), from, q.reason_code(), MicrosToText(q.received_micros()),
                  OneLine(q.detail())});
  }
  table.Print(std::cout);
}

absl::Status RunQuarantineList(const v1::ListQuarantineRequest& page, AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::ListQuarantineReply reply, admin.Call(&v1::Admin::Stub::ListQuarantine, page));
  if (as_json) {
    return PrintMessageListJson(reply.entries(), [](json& entry) {
      MicrosFieldToIso(entry, "received_micros", "received");
    });
  }
  PrintQuarantine(reply);
  if (reply.total() > static_cast<uint64_t>(page.offset()) + reply.entries_size()) {
    std::cout << "(" << reply.entries_size() << " of " << reply.total()
              << ", newest first: --offset " << page.offset() + reply.entries_size() << " for more)\n";
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// conflicts, why

absl::Status RunConflicts(const v1::ListFilter& filter, AdminClient& admin, bool as_json) {
  v1::ListConflictsRequest request;
  *request.mutable_filter() = filter;
  SYNC_ASSIGN_OR_RETURN(const v1::ListConflictsReply reply, admin.Call(&v1::Admin::Stub::ListConflicts, request));
  if (as_json) return PrintMessageListJson(reply.conflicts());
  if (reply.conflicts().empty()) {
    std::cout << "no conflicts\n";
    return absl::OkStatus();
  }
  Table table({"RECORD", "DATE", "RULE", "WINNER", "LOSER-FROM", "LOSER"});
  for (const auto& c : reply.conflicts()) {
    table.AddRow({c.record_id(), c.winner().legal_date(), c.loser().outcome(), c.winner().version(),
                  c.loser().writer(), c.loser().version()});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

absl::Status RunWhy(const std::string& record_id, AdminClient& admin, bool as_json) {
  v1::WhyRequest request;
  request.set_record_id(record_id);
  SYNC_ASSIGN_OR_RETURN(const v1::WhyReply reply, admin.Call(&v1::Admin::Stub::Why, request));
  if (as_json) return PrintMessageJson(reply);
  std::cout << reply.record_id() << " (" << reply.kind() << "): " << reply.versions_size()
            << " version(s)\n";
  for (const auto& v : reply.versions()) {
    std::cout << "  " << (v.outcome() == "winner" ? "WINNER " : "lost   ") << v.version() << "\n";
    if (!v.content().empty()) std::cout << "         says: " << v.content() << "\n";
    std::cout << "         unit depth " << v.unit_depth() << ", "
              << (v.formula().empty() ? "" : v.formula() + ". ") << v.capacity()
              << (v.officer().empty() ? "" : " " + v.officer()) << " (rank " << v.role_rank() << ")"
              << (v.acting_for_head() ? ", acting for the Head" : "")
              << (v.delegation_ref().empty() ? "" : " under " + v.delegation_ref())
              << ", legal date " << v.legal_date() << "\n"
              << "         " << v.explanation() << "\n";
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// revocation publish

absl::Status RunRevocationPublish(const std::string& path, AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const std::string crl, ReadFile(path, "revocation list"));
  v1::PublishRevocationListRequest request;
  request.set_crl(crl);
  SYNC_ASSIGN_OR_RETURN(const v1::PublishRevocationListReply reply,
                        admin.Call(&v1::Admin::Stub::PublishRevocationList, request));
  return PrintReply(reply,
                    "published " + reply.id() + ": " + std::to_string(reply.revoked()) +
                        " revoked certificate(s) now enforced",
                    as_json);
}

// ---------------------------------------------------------------------------
// backup

absl::Status RunBackup(const std::string& dest, AdminClient& admin, bool as_json) {
  v1::BackupRequest request;
  request.set_path(dest);
  SYNC_ASSIGN_OR_RETURN(const v1::BackupReply reply, admin.Call(&v1::Admin::Stub::Backup, request));
  return PrintReply(reply,
                    "backup written to " + reply.path() + " (" + std::to_string(reply.bytes()) +
                        " bytes) on the node's machine",
                    as_json);
}

}  // namespace

void AddBackupCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand(
      "backup",
      "Write a consistent copy of the node's store, taken while it runs, into the new directory "
      "DEST. The node's process writes it, so DEST is a path on the node's machine, writable by the "
      "node's user, outside its data_dir (under the systemd unit: in /var/backups/steersync). "
      "Restore: docs/operations.md");
  auto dest = std::make_shared<std::string>();
  cmd->add_option("DEST", *dest,
                  "new directory (must not exist; its parent must). A relative path is made absolute "
                  "against this shell's directory; over --address give an absolute path")
      ->required();
  cmd->callback([&action, dest] {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(*dest, ec);
    const std::string path = ec ? *dest : absolute.lexically_normal().string();
    action = [path](AdminClient& admin, bool as_json) { return RunBackup(path, admin, as_json); };
  });
}

void AddStatusCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("status", "Show this node's sync status");
  auto watch = std::make_shared<int>(0);
  cmd->add_option("--watch", *watch, "Print it again every SECONDS (default 2) until Ctrl-C")
      ->expected(0, 1)
      ->default_str("2")
      ->check(CLI::Range(1, 3600));
  cmd->callback([cmd, watch, &action] {
    if (cmd->count("--watch") == 0) {
      action = RunStatus;
      return;
    }
    const int seconds = *watch > 0 ? *watch : 2;
    action = [seconds](AdminClient& admin, bool as_json) { return RunStatusWatch(seconds, admin, as_json); };
  });
}

void AddPeersCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("peers", "List the parent and children and their sync state");
  cmd->callback([&action] { action = RunPeers; });
}

void AddSubtreeCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand(
      "subtree",
      "Every unit below this node, down to the communes: connected, last seen, records it still has to "
      "receive (BEHIND), directives it has not acknowledged (UNACKED), overdue entries; registered units "
      "that never connected too. AS-OF (as_of in --json, ISO-8601 UTC) is when the status the row is read "
      "from was made: now for the units directly below, else the last status record of the unit's parent");
  cmd->callback([&action] { action = RunSubtree; });
}

void AddQuarantineCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("quarantine", "Inspect records rejected by this node");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "List quarantined records, newest first, a page at a time");
  auto page = std::make_shared<v1::ListQuarantineRequest>();
  list->add_option_function<uint32_t>("--limit", [page](const uint32_t& n) { page->set_limit(n); }, "Entries per page (default 100, at most 1000)")
      ->check(CLI::Range(1, 1000));
  list->add_option_function<uint32_t>("--offset", [page](const uint32_t& n) { page->set_offset(n); }, "Entries to skip")
      ->check(CLI::NonNegativeNumber);
  list->add_option_function<std::string>("--since", [page](const std::string& d) { page->set_since(d); },
                                         "Only entries refused on or after YYYY-MM-DD (Asia/Ho_Chi_Minh)")
      ->check(IsoDate());
  list->add_option_function<std::string>("--from", [page](const std::string& p) { page->set_from(p); },
                                         "Only entries from (or returned by) this peer");
  list->add_option_function<std::string>("--status", [page](const std::string& c) { page->set_status(c); },
                                         "Only entries with this reason code, e.g. POWER_DENIED");
  list->callback([page, &action] {
    action = [page](AdminClient& admin, bool as_json) { return RunQuarantineList(*page, admin, as_json); };
  });
}

void AddConflictCommands(CLI::App& app, Action& action) {
  CLI::App* conflicts = app.add_subcommand("conflicts", "List losing concurrent versions and the deciding rule");
  auto filter = std::make_shared<v1::ListFilter>();
  AddListFilterOptions(*conflicts, filter,
                       {"decided (the winner's legal date)", "the losing version's writer", {"R1", "R2", "R3", "R4", "R5"}});
  conflicts->callback([filter, &action] {
    action = [filter](AdminClient& admin, bool as_json) { return RunConflicts(*filter, admin, as_json); };
  });
  CLI::App* why = app.add_subcommand("why", "Explain every version of a record and which one won");
  auto id = std::make_shared<std::string>();
  why->add_option("RECORD_ID", *id, "record id")->required();
  why->callback([&action, id] {
    action = [id](AdminClient& admin, bool as_json) { return RunWhy(*id, admin, as_json); };
  });
}

void AddRevocationCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("revocation", "Certificate revocation lists");
  cmd->require_subcommand(1);
  CLI::App* publish =
      cmd->add_subcommand("publish", "Publish a CA-signed CRL (deploy/pki.sh revoke) to this node's subtree");
  auto path = std::make_shared<std::string>();
  publish->add_option("CRL_FILE", *path, "CRL file, PEM or DER")
      ->required()
      ->check(CLI::ExistingFile);
  publish->callback([&action, path] {
    action = [path](AdminClient& admin, bool as_json) {
      return RunRevocationPublish(*path, admin, as_json);
    };
  });
}

}  // namespace steersync::cli
