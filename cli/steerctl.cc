// steerctl: the admin CLI of a steersync node.
//
// Parses flags, calls the node's Admin service over its local Unix socket (or
// its TCP admin listener) and prints the reply, either as readable tables or
// (with --json) as exactly one JSON document on stdout.
//
// Exit codes: 0 on success, 1 on a runtime error (RPC failure, unreadable
// file), 2 on a usage error. Every error is exactly one line on stderr.
//
// Layout: admin_client.h (connection), output.h (tables, JSON),
// act_options.h (capacity and body flags), commands.h (the subcommands, one
// file per area).

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/admin_client.h"
#include "cli/command_docs.h"
#include "cli/attachments.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "steersync/version.h"

namespace steersync::cli {

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

// Adds --socket, --config, --address (with --ca, --cert, --key) and --json.
// Exactly one of --socket, --config and --address is required (an option
// group). fallthrough() lets subcommands hand them up, so they work before or
// after the subcommand.
// REQUIRES: called before any subcommand is added (fallthrough is inherited
// at creation).
void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.fallthrough();
  app.add_flag("--json", options.json, "Print one JSON document instead of tables");
  CLI::Option_group* node = app.add_option_group("Node", "Where the node is");
  node->require_option(1);
  node->add_option("--socket", options.socket, "Admin Unix socket of the node");
  node->add_option("--config", options.config, "node.toml to read [admin] socket from")
      ->check(CLI::ExistingFile);
  CLI::Option* address = node->add_option(
      "--address", options.address, "TCP admin listener HOST:PORT");
  CLI::Option* ca = app.add_option("--ca", options.ca, "federation CA (PEM)");
  CLI::Option* cert = app.add_option("--cert", options.cert, "admin client certificate (PEM)");
  CLI::Option* key = app.add_option("--key", options.key, "admin client key (PEM)");
  for (CLI::Option* o : {ca, cert, key}) {
    o->check(CLI::ExistingFile)->needs(address);
    address->needs(o);
  }
}

// Handles a CLI11 parse outcome: help goes to stdout with exit 0, a usage
// error is one line on stderr with exit 2.
int HandleParseError(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  std::cerr << "steerctl: " << OneLine(e.what()) << " (see steerctl --help)\n";
  return kExitUsageError;
}

// Sections of steerctl(8) that are not in the command tree.
constexpr char kManPageTail[] = R"(.SH OUTPUT
Tables for people; with \fB\-\-json\fR exactly one JSON document on stdout (an object, or an array for lists).
.SH EXIT STATUS
0 on success; 1 on a runtime error (the node refused the act, an RPC failed, a file could not be read);
2 on a usage error. Every error is one line on stderr.
.SH FILES
.TP
.I /etc/steersync/<id>.toml
the node's configuration; \fB\-\-config\fR reads its [admin] socket from it.
.TP
.I /run/steersync/<id>/admin.sock
the admin socket of a node run by steersyncd@<id>.service.
.SH SEE ALSO
.BR steersyncd (8);
/usr/share/doc/steersync/operations.md, committee.md, install.md.
)";

// --manpage and --completion bash print documentation generated from the
// command tree just built, and exit 0 before any requirement is checked
// (neither needs a node). Hidden from --help's option list noise: grouped.
// REQUIRES: every command has been added.
void AddDocumentationFlags(CLI::App& app) {
  app.add_flag_callback(
         "--manpage",
         [&app] {
           std::cout << ManPage(app, std::string("steersync ") + STEERSYNC_VERSION, kManPageTail);
           throw CLI::Success();
         },
         "Print this manual page (roff) and exit: steerctl --manpage | man -l -")
      ->trigger_on_parse()
      ->group("Documentation");
  app.add_option_function<std::string>(
         "--completion",
         [&app](const std::string&) {
           std::cout << BashCompletion(app);
           throw CLI::Success();
         },
         "Print a completion script for SHELL (bash) and exit")
      ->check(CLI::IsMember({"bash"}))
      ->type_name("SHELL")
      ->trigger_on_parse()
      ->group("Documentation");
}

int Main(int argc, char** argv) {
  CLI::App app("Admin CLI of a steersync node", "steerctl");
  app.set_version_flag("--version", std::string("steerctl ") + STEERSYNC_VERSION,
                       "Print steerctl's version and exit");
  GlobalOptions options;
  Action action;
  AddGlobalOptions(app, options);
  AddStatusCommand(app, action);
  AddPeersCommand(app, action);
  AddDirectiveCommands(app, action);
  AddReportCommands(app, action);
  AddAttachmentCommands(app, action);
  AddObligationCommands(app, action);
  AddOverdueCommand(app, action);
  AddSubtreeCommand(app, action);
  AddTaskCommands(app, action);
  AddExtensionCommands(app, action);
  AddCalendarCommands(app, action);
  AddRosterCommands(app, action);
  AddQuarantineCommands(app, action);
  AddRevocationCommands(app, action);
  AddConflictCommands(app, action);
  AddBackupCommand(app, action);
  app.require_subcommand(1);
  AddDocumentationFlags(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return HandleParseError(app, e);
  }

  const absl::Status status = Execute(options, action);
  if (!status.ok()) {
    std::cerr << "steerctl: " << OneLine(std::string(status.message())) << "\n";
    return kExitRuntimeError;
  }
  return 0;
}

}  // namespace
}  // namespace steersync::cli

int main(int argc, char** argv) { return steersync::cli::Main(argc, argv); }
