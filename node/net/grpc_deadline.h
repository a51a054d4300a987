#pragma once
// gRPC takes absolute deadlines as system-clock time points. This is the one
// place the wall clock is read for them: transport plumbing (how long to wait
// for an RPC or a shutdown), never protocol time, which always comes from
// the injected sync::Clock.

#include <chrono>

namespace steersync::node {

inline std::chrono::system_clock::time_point GrpcDeadline(std::chrono::milliseconds from_now) {
  return std::chrono::system_clock::now() + from_now;
}

}  // namespace steersync::node
