#!/usr/bin/env bash
# Data-parallel scaling on this machine: the quickstart transformer trained for STEPS steps by one
# process (batch B) and by `attnlab launch --nproc 2` (batch B per rank: twice the examples per
# step), one thread per process. Prints steps/s and examples/s of each, the speed-up in examples/s,
# and, for the 2-process run, the median time a step waited for its gradient buckets after backward
# and the median number of buckets that left during backward (overlap). Medians over logged steps.
#   bash tools/bench_distributed.sh [STEPS=300] [B=32] [BUCKET_MB=25]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300}"; batch="${2:-32}"; bucket="${3:-25}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
common=(recipes/quickstart.yaml "train.steps=$steps" "train.batch_size=$batch" train.threads=1 train.progress=none
        train.eval_every=100000 train.log_every=1 eval.test_split= "distributed.bucket_mb=$bucket")
./build/attnlab train "${common[@]}" "run_dir=$out/one" > /dev/null
./build/attnlab launch --nproc 2 -- train "${common[@]}" "run_dir=$out/two" > /dev/null
python3 - "$out" "$steps" "$batch" <<'PY'
import json, statistics, sys
out, steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def run(name):
    summary = json.load(open(f"{out}/{name}/summary.json"))
    train = [json.loads(l) for l in open(f"{out}/{name}/metrics.jsonl") if '"kind":"train"' in l]
    return summary["wall_time_s"], train
t1, _ = run("one")
t2, rec = run("two")
print(f"1 process : {steps / t1:7.1f} steps/s {steps * batch / t1:8.0f} examples/s")
print(f"2 processes: {steps / t2:7.1f} steps/s {2 * steps * batch / t2:8.0f} examples/s"
      f"  (x{(2 * steps * batch / t2) / (steps * batch / t1):.2f} examples/s)")
waits = [r["allreduce_wait_ms"] for r in rec[1:]]
early = [r["buckets_during_backward"] for r in rec[1:]]
print(f"2 processes: median wait for gradient buckets after backward {statistics.median(waits):.3f} ms per step; "
      f"median {statistics.median(early):.0f} of {rec[-1]['buckets']} buckets left during backward")
PY
