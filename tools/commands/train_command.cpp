// `attnlab train RECIPE [overrides]`: train, then print the test metrics.
#include <csignal>
#include <cstdio>

#include "framework/calibration/stage.h"
#include "framework/run/recipe.h"
#include "framework/train/trainer.h"
#include "tools/commands/commands.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab train RECIPE [key=value | +key=value | ++key=value | ~key ...]\n"
    "\n"
    "Trains the recipe in its run directory (run_dir, default runs/<name>). If that directory has\n"
    "a checkpoint, training continues from it exactly (train.resume=auto; never; or a checkpoint\n"
    "path). SIGINT/SIGTERM save a checkpoint and exit (130/143); rerun the same command to resume.\n"
    "Writes recipe.yaml, recipe.provenance.yaml, metrics.jsonl, checkpoints/ and summary.json.\n"
    "With abstention.enabled: true the abstention stage follows on the best checkpoint (as\n"
    "`attnlab calibrate RUN_DIR`), writing abstention/results.json and table.txt.\n"
    "Examples:\n"
    "  attnlab train recipes/quickstart.yaml\n"
    "  attnlab train recipes/quickstart.yaml train.steps=200 model.attention.heads=2 run_dir=runs/h2\n";

}  // namespace

int train_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const Args overrides(args.begin() + 1, args.end());
  const run::Recipe recipe = run::load_recipe(args[0], overrides);
  // Read before training, so a bad abstention section fails now rather than after the run.
  const auto abstention = calibration::settings_with_overrides(recipe.tree.find("abstention"), {});
  const train::TrainResult result = train::train(recipe);
  if (result.status == "interrupted") return 128 + result.interrupt_signal;
  std::printf("%s: %s after %lld steps; summary in %s/summary.json\n", recipe.name.c_str(),
              result.status.c_str(), (long long)result.summary.value("steps", 0LL), recipe.run_dir.c_str());
  if (abstention.enabled && result.status != "paused" && result.lead) {
    const TrainedModel t = load_trained_model(recipe.run_dir, "best");
    calibration::StageInputs inputs{t.model.get(), t.dataset.get(), t.checkpoint, t.run_dir,
                                    recipe.eval.test_split, recipe.eval.batch_size};
    const auto stage = calibration::run_abstention_stage(inputs, abstention, false);
    std::fputs(stage.table.c_str(), stdout);
    std::printf("abstention results in %s\n", stage.results_path.c_str());
  }
  return 0;
}

bool wants_help(const Args& args) {
  for (const auto& a : args)
    if (a == "-h" || a == "--help") return true;
  return false;
}

}  // namespace attnlab::tools
