#pragma once
// A small tmpfs mounted on a directory for the life of the object: a disk
// that fills (process-level tests of a full store). mount(2) needs
// CAP_SYS_ADMIN (root, as CI runs); status() says why a mount failed.
//
// Thread safety: not thread-safe; one owner.

#include <string>

#include "absl/status/status.h"

namespace steersync::testing {

class TmpfsMount {
 public:
  // Creates `dir` if missing and mounts a tmpfs of `size_mb` MiB on it.
  TmpfsMount(std::string dir, int size_mb);
  // Unmounts (lazily, MNT_DETACH: even while a killed daemon's files are
  // still open) if mounted.
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  // OK once mounted; otherwise the mount(2) error, naming the directory.
  const absl::Status& status() const { return status_; }
  const std::string& dir() const { return dir_; }
  // `mount -o remount,size=<size_mb>m`: grows (or shrinks) the file system
  // in place; what it holds stays.
  absl::Status Resize(int size_mb);

 private:
  std::string dir_;
  absl::Status status_;
  bool mounted_ = false;
};

}  // namespace steersync::testing
