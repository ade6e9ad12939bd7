#!/usr/bin/env bash
# From a fresh Debian 12 machine to green tests: install packages, build, run the CTest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 900
