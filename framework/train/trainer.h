// The training loop (single process): micro-batches with gradient accumulation, the objective,
// gradient-norm clipping, the non-finite guard, the lr schedule, evaluation, the best checkpoint
// and early stopping, checkpoints with exact resume, SIGINT/SIGTERM handling, and logs
// (progress, metrics.jsonl, summary.json). See framework/train/README.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "framework/run/recipe.h"

namespace attnlab::train {

// The run stopped because too many steps in a row were not finite. The message names the first
// parameter whose gradient went non-finite.
class DivergedError : public std::runtime_error {
 public:
  explicit DivergedError(const std::string& m) : std::runtime_error(m) {}
};

struct TrainResult {
  std::string status;    // completed | early_stopped | interrupted | paused
  int interrupt_signal = 0;
  nlohmann::json summary;  // also written to <run_dir>/summary.json (by rank 0)
  bool lead = true;        // false on the other ranks of a data-parallel job
};

// Trains `recipe` in its run directory, resuming per train.resume. Throws UserError for bad
// input, DivergedError when the non-finite guard gives up.
TrainResult train(const run::Recipe& recipe);

}  // namespace attnlab::train
