#!/usr/bin/env bash
# Steps/s of one training configuration under OpenMP wait policies, OpenBLAS thread counts and
# glibc malloc settings: the figures of the README's "Threads" and "Not done yet, measured".
# Each row is one `attnlab train` of STEPS steps (the first 5 untimed: summary.json's throughput)
# with the environment and overrides shown, plus its user and system CPU seconds.
#
#   tools/bench/threads_policy.sh [STEPS (20)] [RECIPE (recipes/mega/listops_transformer.yaml)] [key=value ...]
#
# The default recipe and overrides are `attnlab bench train`'s listops_mha_medium. Run from the
# repository root; the binary is $ATTNLAB or ./build/attnlab. Single runs: rerun to see the noise.
set -euo pipefail
steps="${1:-20}"
recipe="${2:-recipes/mega/listops_transformer.yaml}"
shift $(( $# > 2 ? 2 : $# ))
overrides=("$@")
if [ ${#overrides[@]} -eq 0 ]; then overrides=(model.d_model=256 "model.attention={name: mha, heads: 8}"); fi
attnlab="${ATTNLAB:-./build/attnlab}"
dir="$(mktemp -d /tmp/attnlab-threads-XXXXXX)"
trap 'rm -rf "$dir"' EXIT

rows=(
  "OMP_WAIT_POLICY=PASSIVE|train.blas_threads=0"
  "OMP_WAIT_POLICY=PASSIVE|train.blas_threads=1"
  "OMP_WAIT_POLICY=ACTIVE|train.blas_threads=1"
  "OMP_WAIT_POLICY=ACTIVE|train.blas_threads=0"
  "OMP_WAIT_POLICY=PASSIVE MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184|train.blas_threads=0"
)
printf '%-90s %8s %8s %8s\n' "environment | override" "steps/s" "user s" "sys s"
for row in "${rows[@]}"; do
  env_part="${row%%|*}"
  override="${row##*|}"
  rm -rf "$dir/run"
  # shellcheck disable=SC2086  # env_part is a list of NAME=VALUE words
  /usr/bin/time -f "%U %S" -o "$dir/time" env $env_part "$attnlab" train "$recipe" "${overrides[@]}" \
    "train.steps=$steps" train.epochs=0 train.shuffle=false train.progress=none "train.eval_every=$steps" \
    "eval.test_split=" train.deterministic=false "$override" "run_dir=$dir/run" > "$dir/log" 2>&1 \
    || { echo "threads_policy.sh: the run failed ($row):" >&2; tail -5 "$dir/log" >&2; exit 1; }
  rate=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["throughput"]["steps_per_s"])' \
    "$dir/run/summary.json")
  read -r user sys < "$dir/time"
  printf '%-90s %8s %8s %8s\n' "$env_part | $override" "$rate" "$user" "$sys"
done
