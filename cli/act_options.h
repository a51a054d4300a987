#pragma once
// Flags shared by the commands that make acts (issue, acknowledge, return,
// recall, submit, withdraw, accept): the capacity an act is made in
// (DOMAIN-MODEL.md §1.5–§1.7) and message bodies.

#include <string>

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::cli {

// The capacity flags: --as ROLE, --member MEMBERSHIP_ID, --kt | --formula F,
// --in-body BODY_ID.
// All empty: the node picks the capacity (and refuses with
// CAPACITY_REQUIRED when it cannot).
struct ActOptions {
  std::string role;           // e.g. "HEAD", "DEPUTY_HEAD", "STANDING_AGENCY".
  std::string membership_id;  // Names one member when several hold `role`.
  bool kt = false;            // Sign for the Head ("KT.", D30 Art. 13.1).
  std::string formula;        // "KT", "TUQ" or "TL" under a SigningAuthorisation.
  std::string body_id;        // BODY record id; empty: the node's committee.
};

// Adds the capacity flags to `cmd`, in a help group of their own.
// `act` must outlive the parse.
void AddActOptions(CLI::App& cmd, ActOptions& act);

// The ActAs message the flags in `act` describe.
v1::ActAs FillActAs(const ActOptions& act);

// Message bodies: --body TEXT | --body-file F.
struct BodyOptions {
  std::string text;
  std::string file;
};

// Adds --body and --body-file to `cmd`, an option group of which exactly one
// is required. `body` must outlive the parse.
void AddBodyOptions(CLI::App& cmd, BodyOptions& body);

// The body text, reading --body-file fully if that was given.
absl::StatusOr<std::string> LoadBody(const BodyOptions& body);

}  // namespace steersync::cli
