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
  AddObligationCommands(app, action);
  AddOverdueCommand(app, action);
  AddSubtreeCommand(app, action);
  AddTaskCommands(app, action);
  AddRosterCommands(app, action);
  AddQuarantineCommands(app, action);
  AddRevocationCommands(app, action);
  AddConflictCommands(app, action);
  AddBackupCommand(app, action);
  app.require_subcommand(1);

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
