// Attachments (issue 12 item 1): --attach FILE on `directive issue` and
// `report submit`, the ATTACHMENTS lines of `directive show` / `report show`,
// and `steerctl attachment get RECORD_ID NAME --out FILE`.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/attachments.h"
#include "cli/output.h"
#include "sync/attachments.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::cli {

void AddAttachOption(CLI::App& cmd, std::vector<std::string>& files) {
  cmd.add_option("--attach", files,
                 "Attach FILE (repeatable): signed with the document, sent to its addressees; "
                 "at most [node] max_attachment_mb (default 20 MiB) each")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
}

absl::Status LoadAttachments(const std::vector<std::string>& paths,
                             google::protobuf::RepeatedPtrField<v1::AttachmentFile>& out) {
  for (const std::string& path : paths) {
    v1::AttachmentFile* file = out.Add();
    file->set_name(std::filesystem::path(path).filename().string());
    SYNC_ASSIGN_OR_RETURN(*file->mutable_content(), ReadFile(path, "attachment"));
  }
  return absl::OkStatus();
}

void PrintAttachments(std::ostream& out,
                      const google::protobuf::RepeatedPtrField<v1::AttachmentInfo>& attachments) {
  for (const v1::AttachmentInfo& a : attachments) {
    out << "  attachment:  " << sync::Printable(a.name(), 200) << "  " << a.size() << " bytes  sha256 "
        << a.sha256()
        << (a.complete() ? "" : "  (arriving: " + std::to_string(a.received()) + " bytes here)") << "\n";
  }
}

void AttachmentSizesAsNumbers(json& doc) {
  if (!doc.contains("attachments")) return;
  for (json& a : doc["attachments"]) {
    for (const char* key : {"size", "received"}) {
      if (a.contains(key) && a[key].is_string()) a[key] = std::stoull(a[key].get<std::string>());
    }
  }
}

absl::Status PrintShowJson(const google::protobuf::Message& reply) {
  SYNC_ASSIGN_OR_RETURN(json doc, MessageToJson(reply));
  AttachmentSizesAsNumbers(doc);
  PrintJson(doc);
  return absl::OkStatus();
}

namespace {

struct GetOptions {
  std::string record_id;
  std::string name;
  std::string out;
};

// Streams the file into OUT.part, checks its SHA-256 against what the node
// said, then renames it to OUT: OUT holds the exact bytes or is not written.
absl::Status RunAttachmentGet(const GetOptions& options, AdminClient& admin, bool as_json) {
  v1::AttachmentGetRequest request;
  request.set_record_id(options.record_id);
  request.set_name(options.name);
  const std::string part = options.out + ".part";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
  sync::Sha256Stream sha;
  uint64_t size = 0, written = 0;
  std::string expected_hex;
  bool write_failed = false;
  absl::Status status = admin.GetAttachment(request, [&](const v1::AttachmentPiece& piece) {
    if (!piece.sha256().empty()) {
      size = piece.size();
      expected_hex = piece.sha256();
      file.reset(std::fopen(part.c_str(), "wb"));
      if (file == nullptr) {
        write_failed = true;
        return false;
      }
    }
    if (file == nullptr) return false;
    if (!piece.data().empty()) {
      if (std::fwrite(piece.data().data(), 1, piece.data().size(), file.get()) != piece.data().size()) {
        write_failed = true;
        return false;
      }
      sha.Update(piece.data());
      written += piece.data().size();
    }
    return true;
  });
  const bool flushed = file != nullptr && std::fflush(file.get()) == 0 && ::fsync(fileno(file.get())) == 0;
  file.reset();
  auto fail = [&](absl::Status s) {
    std::remove(part.c_str());
    return s;
  };
  if (write_failed || (status.ok() && !flushed)) {
    return fail(absl::PermissionDeniedError("cannot write " + part + ": " + std::strerror(errno)));
  }
  if (!status.ok()) return fail(status);
  const std::string got = sync::HexOf(sha.Finish());
  if (written != size || got != expected_hex) {
    return fail(absl::DataLossError("received " + std::to_string(written) + " bytes with SHA-256 " + got +
                                    ", expected " + std::to_string(size) + " bytes with " + expected_hex));
  }
  if (std::rename(part.c_str(), options.out.c_str()) != 0) {
    return fail(absl::PermissionDeniedError("cannot rename " + part + " to " + options.out + ": " +
                                            std::strerror(errno)));
  }
  if (as_json) {
    PrintJson(json{{"name", options.name}, {"sha256", got}, {"size", size}, {"out", options.out}});
  } else {
    std::cout << "wrote " << options.out << " (" << size << " bytes, sha256 " << got << ")\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddAttachmentCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("attachment", "Files attached to directives and reports");
  cmd->require_subcommand(1);
  CLI::App* get = cmd->add_subcommand(
      "get", "Write the exact bytes of a file a directive or report names (checked against its SHA-256)");
  auto options = std::make_shared<GetOptions>();
  get->add_option("RECORD_ID", options->record_id, "Directive or report id")->required();
  get->add_option("NAME", options->name, "The attachment's name (see `directive show` / `report show`)")
      ->required();
  get->add_option("--out", options->out, "File to write (written whole, or not at all)")->required();
  get->callback([options, &action] {
    action = [options](AdminClient& admin, bool as_json) { return RunAttachmentGet(*options, admin, as_json); };
  });
}

}  // namespace steersync::cli
