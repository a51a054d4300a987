#!/usr/bin/env bash
# Installs the dependencies (Debian packages) and builds steersync into
# ./build. Idempotent and incremental (ccache); safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
# ccache hits across checkouts in different directories (CI clones afresh).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build -j"${STEERSYNC_JOBS:-2}"
