#pragma once
// steerctl's subcommands. Each Add*Commands adds its subcommands to `app`;
// when one of them is parsed, its callback sets `action` to what it does.
// REQUIRES (all): `action` outlives the parse; the global options were added
// to `app` first (see steerctl.cc), so subcommands inherit fallthrough.

#include <CLI/CLI.hpp>

#include "cli/admin_client.h"

namespace steersync::cli {

// node_commands.cc: status, peers, quarantine list, revocation publish,
// conflicts, why.
void AddStatusCommand(CLI::App& app, Action& action);
void AddPeersCommand(CLI::App& app, Action& action);
// steerctl subtree: every unit below the node (issue 12 item 7).
void AddSubtreeCommand(CLI::App& app, Action& action);
void AddQuarantineCommands(CLI::App& app, Action& action);
void AddRevocationCommands(CLI::App& app, Action& action);
void AddConflictCommands(CLI::App& app, Action& action);
// steerctl backup DEST: an online copy of the node's store (node_commands.cc).
void AddBackupCommand(CLI::App& app, Action& action);

// directive_commands.cc: directive issue | list | ack | return | recall.
void AddDirectiveCommands(CLI::App& app, Action& action);

// report_commands.cc: report submit | list | withdraw | accept | return.
void AddReportCommands(CLI::App& app, Action& action);

// obligation_commands.cc: obligation add | list; overdue.
void AddObligationCommands(CLI::App& app, Action& action);
void AddOverdueCommand(CLI::App& app, Action& action);

// task_commands.cc: task assign | update | done | accept | return | list.
void AddTaskCommands(CLI::App& app, Action& action);

// extension_commands.cc: extension request | grant | deny | list;
// calendar set | show.
void AddExtensionCommands(CLI::App& app, Action& action);
void AddCalendarCommands(CLI::App& app, Action& action);

// roster_commands.cc: unit, body, member, acting, authorisation.
void AddRosterCommands(CLI::App& app, Action& action);

}  // namespace steersync::cli
