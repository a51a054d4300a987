#!/usr/bin/env bash
# Installs every build and run dependency of steersync from Debian 12 packages.
# Idempotent: when everything is already installed it returns in about a second
# without touching the network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git openssl ca-certificates procps
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  liblmdb-dev lmdb-utils libssl-dev libsystemd-dev
  libjemalloc-dev  # steersyncd's allocator (node/CMakeLists.txt)
  libgtest-dev libgmock-dev libbenchmark-dev
  help2man  # steersyncd(8)
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcivetweb-dev libtomlplusplus-dev
  clang libclang-rt-14-dev llvm  # tests/fuzz/: libFuzzer runtime, llvm-symbolizer
  python3 python3-grpcio python3-protobuf python3-cryptography  # tests/conformance/
  jq  # deploy/walkthrough.sh checks the answers
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
