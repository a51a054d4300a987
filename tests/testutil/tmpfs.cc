#include "tests/testutil/tmpfs.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace steersync::testing {
namespace {

std::string Options(int size_mb) { return "size=" + std::to_string(size_mb) + "m,mode=0755"; }

}  // namespace

TmpfsMount::TmpfsMount(std::string dir, int size_mb) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    status_ = absl::InternalError("cannot create " + dir_ + ": " + ec.message());
    return;
  }
  const std::string options = Options(size_mb);
  if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    const int err = errno;
    status_ = absl::PermissionDeniedError("mount -t tmpfs -o " + options + " tmpfs " + dir_ + ": " +
                                          std::strerror(err) +
                                          (err == EPERM ? " (mounting needs root or CAP_SYS_ADMIN)" : ""));
    return;
  }
  mounted_ = true;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

absl::Status TmpfsMount::Resize(int size_mb) {
  if (!mounted_) return absl::FailedPreconditionError(dir_ + " is not mounted");
  const std::string options = Options(size_mb);
  if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return absl::InternalError("mount -o remount," + options + " " + dir_ + ": " + std::strerror(errno));
  }
  return absl::OkStatus();
}

}  // namespace steersync::testing
