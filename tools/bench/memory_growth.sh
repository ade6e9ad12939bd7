#!/usr/bin/env bash
# Resident memory of a long training run over time (issue 9: no growth after warm-up). Starts
# `attnlab train RECIPE train.steps=STEPS overrides...` in a temporary run directory, samples the
# process's VmRSS every second together with the step it has logged, and prints the samples at
# 10%, 50% and 100% of the run, the maximum, and the growth from 10% (warm-up done) to the end.
#
#   tools/bench/memory_growth.sh [STEPS (20000)] [RECIPE (recipes/quickstart.yaml)] [key=value ...]
#
# Run from the repository root; the binary is $ATTNLAB or ./build/attnlab; $SAMPLE_SECONDS (1) is
# the sampling interval. Evaluations are pushed to the end (train.eval_every=STEPS) so the curve is
# the training loop's own.
set -euo pipefail
steps="${1:-20000}"
recipe="${2:-recipes/quickstart.yaml}"
shift $(( $# > 2 ? 2 : $# ))
attnlab="${ATTNLAB:-./build/attnlab}"
interval="${SAMPLE_SECONDS:-1}"
dir="$(mktemp -d /tmp/attnlab-memory-XXXXXX)"
trap 'rm -rf "$dir"' EXIT

"$attnlab" train "$recipe" "train.steps=$steps" "train.eval_every=$steps" train.log_every=20 train.progress=none \
  "eval.test_split=" "run_dir=$dir/run" "$@" > "$dir/train.log" 2>&1 &
pid=$!
samples="$dir/samples.tsv"   # step <TAB> rss KiB
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  step=$(tail -n 1 "$dir/run/metrics.jsonl" 2>/dev/null | sed -n 's/.*"step":\([0-9]*\).*/\1/p' || true)
  [ -n "$rss" ] && [ -n "$step" ] && printf '%s\t%s\n' "$step" "$rss" >> "$samples"
  sleep "$interval"
done
if ! wait "$pid"; then
  echo "memory_growth: the training failed:" >&2
  tail -n 20 "$dir/train.log" >&2
  exit 1
fi
[ -s "$samples" ] || { echo "memory_growth: no samples (the run ended before its first logged step was sampled)" >&2; exit 1; }
awk -v steps="$steps" -F'\t' '
  { step[NR] = $1; rss[NR] = $2; if ($2 > max) max = $2 }
  END {
    # The first sample at or after a fraction of the run.
    split("0.1 0.5 1.0", fractions, " ")
    for (k = 1; k <= 3; ++k) {
      at[k] = NR
      for (i = 1; i <= NR; ++i) if (step[i] >= fractions[k] * steps) { at[k] = i; break }
    }
    printf "samples %d, steps %d\n", NR, steps
    printf "RSS at step %d (10%%): %.1f MiB\n", step[at[1]], rss[at[1]] / 1024
    printf "RSS at step %d (50%%): %.1f MiB\n", step[at[2]], rss[at[2]] / 1024
    printf "RSS at step %d (end): %.1f MiB\n", step[NR], rss[NR] / 1024
    printf "max %.1f MiB; growth from 10%% to the end %+.1f MiB (%+.2f%%)\n", max / 1024,
           (rss[NR] - rss[at[1]]) / 1024, 100 * (rss[NR] - rss[at[1]]) / rss[at[1]]
  }' "$samples"
