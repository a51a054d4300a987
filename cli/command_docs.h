#pragma once
// Documentation generated from steerctl's own command tree, so that the
// manual page and the shell completion can never drift from the parser:
// `steerctl --manpage` and `steerctl --completion bash` (the build writes
// both into the package: CMakeLists.txt).

#include <string>

#include <CLI/CLI.hpp>

namespace steersync::cli {

// steerctl(8) in roff: every command with its description and options.
// `extra_sections` is appended verbatim (roff), e.g. EXIT STATUS, FILES.
std::string ManPage(const CLI::App& app, const std::string& version, const std::string& extra_sections);

// A bash completion script for `app`: subcommands, their options, and the
// values of options restricted to a set (e.g. --status). Falls back to file
// names (complete -o default) where nothing matches.
std::string BashCompletion(const CLI::App& app);

}  // namespace steersync::cli
