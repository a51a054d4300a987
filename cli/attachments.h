#pragma once
// Attachments in steerctl (attachment_commands.cc): the --attach option of
// `directive issue` and `report submit`, what `show` prints of them, and
// `steerctl attachment get`.

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"
#include "cli/admin_client.h"
#include "cli/output.h"

namespace steersync::cli {

// Adds --attach FILE (repeatable) to `cmd`, collecting paths into `files`.
void AddAttachOption(CLI::App& cmd, std::vector<std::string>& files);
// Reads each file at `paths` into `out` (named by its base name).
absl::Status LoadAttachments(const std::vector<std::string>& paths,
                             google::protobuf::RepeatedPtrField<v1::AttachmentFile>& out);
// One "attachment:" line per file, for `show`.
void PrintAttachments(std::ostream& out,
                      const google::protobuf::RepeatedPtrField<v1::AttachmentInfo>& attachments);
// In a show document, "size" and "received" as JSON numbers (protobuf
// prints 64-bit integers as strings).
void AttachmentSizesAsNumbers(json& doc);
// A show reply as JSON, its attachment sizes as numbers.
absl::Status PrintShowJson(const google::protobuf::Message& reply);

// steerctl attachment get RECORD_ID NAME --out FILE.
void AddAttachmentCommands(CLI::App& app, Action& action);

}  // namespace steersync::cli
