// `attnlab bench distributed`: data-parallel scaling on this machine. Trains a recipe (default the
// quickstart) for `steps` steps with one process and with `nproc` processes (`attnlab launch`), the
// same batch per process and one thread each, and reads back each run's wall time and, for the
// multi-process run, the per-step wait for gradient buckets after backward and the number of
// buckets that left during backward (metrics.jsonl). Runs in a temporary directory, deleted after.
#pragma once

#include <cstdint>
#include <string>

#include "tools/commands/commands.h"

namespace attnlab::tools {

struct DistributedBenchSettings {
  std::string recipe = "recipes/quickstart.yaml";
  int64_t steps = 300;
  int64_t batch = 32;       // per process
  double bucket_mb = 25.0;
  int64_t nproc = 2;
};

struct DistributedBenchResult {
  double single_steps_per_s = 0.0, single_examples_per_s = 0.0;
  double multi_steps_per_s = 0.0, multi_examples_per_s = 0.0;
  double speedup = 0.0;                // examples/s, multi over single
  double median_wait_ms = 0.0;         // after backward, per step
  double median_buckets_during_backward = 0.0;
  int64_t buckets = 0;
};

// UserError when the recipe is missing or a run fails (its exit code and the end of its output).
DistributedBenchResult run_distributed_bench(const DistributedBenchSettings& settings);

}  // namespace attnlab::tools
