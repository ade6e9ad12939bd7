#!/usr/bin/env bash
# The whole GPU check of the custom CUDA kernels (attention/kernels/, DESIGN.md §7), for a Linux
# machine with an NVIDIA GPU, nvcc, CMake, ninja and a Python torch 2.x, but no package access.
#
#   tools/gpu_check.sh prepare [DIR]   on a Debian 12 machine with apt: download the .deb files the
#                                      build needs and the GPU machine lacks into DIR (default
#                                      .gpu_debs, ignored by git); carry DIR to the GPU machine
#   tools/gpu_check.sh run [DIR]       on the GPU machine: unpack DIR's .debs under DIR/root, build
#                                      attnlab against the LibTorch inside Python's torch (so the CUDA
#                                      kernels and their glue are compiled and registered), run the
#                                      kernel tests (kernel against ATen reference) and the Mega and
#                                      MoH tests, `attnlab bench kernels`, and the ListOps Mega recipe
#                                      for 300 steps with and without the kernels, and print one
#                                      report: GPU, driver, CUDA, LibTorch, commit, tests, tables.
# The report is also written to build-gpu/gpu_check.md and the table to build-gpu/kernels.json.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
dir="${2:-.gpu_debs}"
packages=(libyaml-cpp-dev libyaml-cpp0.7 libgtest-dev nlohmann-json3-dev zlib1g-dev)

case "$mode" in
  prepare)
    mkdir -p "$dir"
    (cd "$dir" && apt-get download "${packages[@]}")
    echo "gpu_check: $(ls "$dir"/*.deb | wc -l) packages in $dir; carry it and run: tools/gpu_check.sh run $dir"
    ;;
  run)
    compgen -G "$dir/*.deb" >/dev/null || { echo "gpu_check: no .deb files in $dir (run 'prepare' first)" >&2; exit 2; }
    command -v nvidia-smi >/dev/null || { echo "gpu_check: nvidia-smi not found: not a GPU machine" >&2; exit 2; }
    root="$(pwd)/$dir/root"
    mkdir -p "$root"
    for f in "$dir"/*.deb; do dpkg -x "$f" "$root"; done
    export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    python="${PYTHON:-python3}"
    torch_prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
    torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
    nvcc_path="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
    build=build-gpu
    start=$(date +%s)
    # Python's torch is built with the C++11 ABI or not; CMake learns which from TorchConfig.
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$torch_prefix;$root/usr" -DCMAKE_CUDA_COMPILER="$nvcc_path" \
      -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DZLIB_INCLUDE_DIR="$root/usr/include" -DZLIB_LIBRARY="$root/usr/lib/x86_64-linux-gnu/libz.a" 2>&1 | tee "$build.configure.log" |
      grep -E "attnlab|CUDA|Error" || true
    grep -q "attnlab: CUDA kernels ON" "$build.configure.log" ||
      { echo "gpu_check: CMake did not find a CUDA LibTorch at $torch_prefix (see $build.configure.log)" >&2; exit 1; }
    cmake --build "$build" -j "$(nproc)"
    echo "gpu_check: built in $(( $(date +%s) - start )) s"
    tests_log="$build/kernel_tests.log"
    set +e
    (cd "$build" && ctest --output-on-failure -R 'Cuda|EmaScan|MegaEma|Moh|Mha|TapAttention' 2>&1) | tee "$tests_log"
    tests_rc=${PIPESTATUS[0]}
    set -e
    "$build/attnlab" bench kernels --json "$build/kernels.json" | tee "$build/kernels.md"
    # End to end: the ListOps Mega recipe with the kernels and without (same seed and batches).
    for kernels in true false; do
      "$build/attnlab" train recipes/mega/listops_mega.yaml train.device=cuda train.steps=300 \
        train.eval_every=300 train.cuda_kernels=$kernels train.resume=never train.progress=lines \
        run_dir="$build/e2e_kernels_$kernels" >"$build/e2e_kernels_$kernels.log" 2>&1 ||
        echo "gpu_check: the ListOps Mega run with cuda_kernels=$kernels failed (see $build/e2e_kernels_$kernels.log)"
    done
    "$python" - "$build" >"$build/e2e.md" <<'PY'
import json, sys
build = sys.argv[1]
print("| ListOps Mega, 300 steps | steps/s | last train loss | val accuracy |")
print("|---|---|---|---|")
for kernels in ("true", "false"):
    run = f"{build}/e2e_kernels_{kernels}"
    try:
        summary = json.load(open(f"{run}/summary.json"))
        rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
        train = [r for r in rows if r.get("kind") == "train"][-1]
        val = [r for r in rows if r.get("kind") == "eval" and r.get("split") == "val"][-1]
        print(f"| cuda_kernels={kernels} | {summary['throughput']['steps_per_s']:.2f} | "
              f"{train['loss']:.4f} | {val['accuracy']:.3f} |")
    except (OSError, KeyError, IndexError, ValueError) as error:
        print(f"| cuda_kernels={kernels} | failed: {error} | | |")
PY
    cat "$build/e2e.md"
    {
      echo "# attnlab GPU check"
      echo
      echo "- GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)"
      echo "- CUDA: $("$nvcc_path" --version | grep -o 'release [0-9.]*')"
      echo "- LibTorch: $torch_version (Python torch)"
      echo "- commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
      echo "- kernel tests: $(grep -E 'tests passed|tests failed' "$tests_log" | tail -1)"
      echo
      cat "$build/kernels.md"
      echo
      cat "$build/e2e.md"
    } | tee "$build/gpu_check.md"
    exit "$tests_rc"
    ;;
  *)
    echo "usage: tools/gpu_check.sh prepare [DIR] | run [DIR]" >&2
    exit 2
    ;;
esac
