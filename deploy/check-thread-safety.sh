#!/usr/bin/env bash
# Compile-only check of the concurrency contracts: builds the libraries whose
# shared state carries absl thread-safety attributes (ABSL_GUARDED_BY, ...)
# with clang -Wthread-safety -Werror (STEERSYNC_THREAD_SAFETY_CHECK) into
# ./build-tsa. A member touched without its mutex, or any other warning in
# that code, fails the build. Run by CI (.ci/run); needs clang, which
# deploy/install-deps.sh installs. Incremental (ccache); safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across checkouts in different directories (as deploy/build.sh).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
# Debug at -O0 without debug info: assert()s are analysed too, and nothing is
# spent on code generation this check does not need.
CC=clang CXX=clang++ cmake -S . -B build-tsa -DSTEERSYNC_THREAD_SAFETY_CHECK=ON \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DBUILD_TESTING=OFF >/dev/null
cmake --build build-tsa -j"${STEERSYNC_JOBS:-2}" --target steersync_sync steersync_domain steersync_node
echo "check-thread-safety: OK (clang -Wthread-safety -Werror)"
