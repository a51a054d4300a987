#pragma once
// The fuzz input format of sync_frame_fuzzer: a sequence of frames, each a
// 2-byte little-endian length followed by that many bytes of one serialized
// v1::SyncMessage. A length running past the end takes what is left, so any
// byte string is a valid input. How the fuzzer reads the first frames (a
// checkpoint, the peer's Hello): see sync_frame_fuzzer.cc.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace steersync::fuzz {

// At most this many frames of one input are fed to the session.
inline constexpr size_t kMaxFrames = 64;

// The link the fuzzer plays: we are the province, the peer is a commune.
// The seeds (make_seeds.cc) are signed for exactly this pair and time.
inline constexpr char kSelf[] = "vn/quang-ngai";
inline constexpr char kPeer[] = "vn/quang-ngai/tinh-phong";
inline constexpr int64_t kNow = 1'790'000'000'000'000;
// kNow's legal date (Asia/Ho_Chi_Minh): what a version stamped then signs as.
inline constexpr char kLegalDate[] = "2026-09-21";

inline std::vector<std::string_view> SplitFrames(const uint8_t* data, size_t size) {
  std::vector<std::string_view> frames;
  size_t pos = 0;
  while (pos + 2 <= size && frames.size() < kMaxFrames) {
    size_t len = static_cast<size_t>(data[pos]) | (static_cast<size_t>(data[pos + 1]) << 8);
    pos += 2;
    if (len > size - pos) len = size - pos;
    frames.emplace_back(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
  }
  return frames;
}

// Appends one frame holding `message` (at most 65535 bytes).
inline void AppendFrame(std::string& out, std::string_view message) {
  const size_t len = message.size() > 0xffff ? 0xffff : message.size();
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out.append(message.substr(0, len));
}

}  // namespace steersync::fuzz
