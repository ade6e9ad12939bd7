#!/usr/bin/env bash
# From a fresh Debian 12 machine to a trained quickstart: install packages, build, train
# recipes/quickstart.yaml (digits, a small transformer encoder with multi-head attention) and
# print its test metrics. Extra arguments are recipe overrides, e.g. train.steps=300.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
./build/attnlab train recipes/quickstart.yaml "$@"
