#!/usr/bin/env bash
# Installs, idempotently, every Debian 12 package attnlab needs to build, test and run.
# Run as root (or with sudo). Packages already present are not touched; nothing else is
# downloaded: the data the tests and the quickstart use ships in these packages.
set -euo pipefail

packages=(
  build-essential cmake ninja-build git pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libyaml-cpp-dev         # recipes
  libgtest-dev            # tests
  libgloo-dev             # c10d's Gloo backend headers (distributed training on CPU)
  nlohmann-json3-dev      # JSON logs, manifests
  zlib1g-dev              # gzip data files (digits.csv.gz)
  libopenblas0-pthread    # fast BLAS: Debian's torch falls back to the reference BLAS without it
  python3-sklearn         # ships the digits data set the quickstart and the tests use
  chromium                # headless browser: the tests render `attnlab report` pages in it
  python3-torch           # the same 1.13 LibTorch from Python: `attnlab bench train` compares against it
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
