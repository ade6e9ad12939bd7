// Rebuilding a trained model from a run directory or one of its checkpoints (for eval, export):
// the run's saved recipe.yaml, its dataset (for the model's input sizes) and verified weights.
#pragma once

#include <memory>
#include <string>

#include "datasets/dataset.h"
#include "framework/run/recipe.h"
#include "models/model.h"

namespace attnlab::tools {

struct TrainedModel {
  run::Recipe recipe;
  std::shared_ptr<datasets::Dataset> dataset;
  models::ModelPtr model;  // in eval mode, weights loaded
  std::string checkpoint;  // the checkpoint directory the weights came from
  std::string run_dir;     // the run directory it belongs to, as found from the target
};

// `target` is a run directory or a checkpoint directory inside one; `which` (best | last) picks
// the checkpoint of a run directory (best falls back to last when none is recorded).
// UserError for a missing target, a run directory without a usable checkpoint, or bad `which`.
TrainedModel load_trained_model(const std::string& target, const std::string& which);

}  // namespace attnlab::tools
