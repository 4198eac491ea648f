#!/usr/bin/env bash
# Installs the Debian 12 packages ckpt needs (when something is missing and we
# are root), then configures and builds. Usage: scripts/setup.sh [BUILD_DIR] [cmake args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}; shift || true

packages=(build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler libabsl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libleveldb-dev libsnappy-dev libisal-dev
  nlohmann-json3-dev libssl-dev libzip-dev
  libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: not root; install these with: sudo apt-get install ${missing[*]}" >&2
    exit 2
  fi
fi

cmake -S "$here" -B "$build" -G Ninja "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
