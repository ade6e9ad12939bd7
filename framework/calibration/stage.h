// The abstention stage of a trained run (`attnlab calibrate RUN_DIR`, or the end of `attnlab
// train` when the recipe's `abstention.enabled` is true):
//   1. the model's class probabilities on the calibration and test splits (and on every
//      corrupted test split of the robustness sweep), cached as .npy under
//      RUN_DIR/abstention/outputs/ together with the checkpoint they came from, so a second
//      calibration with other settings does not evaluate the model again;
//   2. every method fitted on the calibration split, scored on the test split (comparison.h);
//   3. a sweep: the same fitted thresholds applied to the test split under each corruption and
//      severity (image datasets only);
//   4. RUN_DIR/abstention/results.json and table.txt, written atomically.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "framework/calibration/comparison.h"
#include "framework/calibration/settings.h"
#include "framework/config/value.h"
#include "models/model.h"

namespace attnlab::calibration {

// Softmax of the model's logits on a whole split, in order, without gradients (CPU or device).
Scored model_probabilities(models::Model& model, const datasets::Split& split, int64_t batch_size,
                           const torch::Device& device);

// The settings from the recipe's `abstention` map (absent: defaults) with `key=value` overrides
// applied, validated as a recipe section would be. UserError naming the key on a bad value.
AbstentionSettings settings_with_overrides(const config::Value* recipe_section, const std::vector<std::string>& overrides);

struct StageInputs {
  models::Model* model = nullptr;
  const datasets::Dataset* dataset = nullptr;
  std::string checkpoint;          // the weights' checkpoint directory (the cache key)
  std::string run_dir;
  std::string default_test_split;  // the recipe's eval.test_split
  int64_t batch_size = 256;
};
struct StageResult {
  Comparison clean;
  std::vector<Comparison> sweep;  // one per (corruption, severity)
  std::string results_path;       // RUN_DIR/abstention/results.json
  std::string table;              // what was printed
};

// recompute: ignore cached outputs. Throws UserError for a split the dataset lacks, a sweep on a
// dataset that is not an image dataset, a severity outside 1..5.
StageResult run_abstention_stage(const StageInputs& inputs, const AbstentionSettings& settings, bool recompute);

// Fits on `calibration` and scores on `test` (for `attnlab calibrate --cal FILE --test FILE`).
Comparison compare_files(const Scored& calibration, const Scored& test, const AbstentionSettings& settings);

nlohmann::json settings_json(const AbstentionSettings& settings);

}  // namespace attnlab::calibration
