#!/usr/bin/env bash
# Configures and builds attnlab (Release) into ./build, or $ATTNLAB_BUILD_DIR.
# Extra arguments go to CMake's configure step, e.g. -DCMAKE_PREFIX_PATH=<CUDA LibTorch>.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${ATTNLAB_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
