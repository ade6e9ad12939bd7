// Run directory or checkpoint -> recipe, dataset and a model with verified weights.
#include "tools/commands/trained_model.h"

#include <filesystem>

#include "framework/config/loader.h"
#include "framework/errors.h"
#include "framework/run/experiment.h"
#include "framework/run/run_dir.h"
#include "framework/train/train_state.h"

namespace attnlab::tools {

namespace fs = std::filesystem;

TrainedModel load_trained_model(const std::string& target, const std::string& which) {
  if (which != "best" && which != "last") throw UserError("--checkpoint must be best or last, got '" + which + "'");
  if (!fs::exists(target)) throw UserError(target + ": no such run directory or checkpoint");

  // A checkpoint directory sits in <run_dir>/checkpoints/.
  std::string run_path = target, checkpoint;
  if (fs::exists(target + "/manifest.json")) {
    checkpoint = target;
    run_path = fs::path(target).lexically_normal().parent_path().parent_path().string();
  }
  const run::RunDir dir = run::RunDir::open(run_path);
  if (checkpoint.empty()) {
    checkpoint = which == "best" ? dir.best_checkpoint() : "";
    if (checkpoint.empty()) checkpoint = dir.last_checkpoint();
    if (checkpoint.empty()) throw UserError(run_path + ": has no usable checkpoint");
  }

  TrainedModel t{run::recipe_from_tree(config::parse_yaml_file(dir.recipe_path()), dir.recipe_path()), nullptr,
                 nullptr, checkpoint, run_path};
  torch::manual_seed(static_cast<uint64_t>(t.recipe.seed));
  t.dataset = run::build_dataset(t.recipe);
  t.model = run::build_model(t.recipe, t.dataset->spec());
  train::load_model_weights(*t.model, checkpoint);
  t.model->eval();
  return t;
}

}  // namespace attnlab::tools
