// `attnlab train RECIPE [overrides]`: train, then print the test metrics.
#include <csignal>
#include <cstdio>

#include "framework/run/recipe.h"
#include "framework/train/trainer.h"
#include "tools/commands/commands.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab train RECIPE [key=value | +key=value | ++key=value | ~key ...]\n"
    "\n"
    "Trains the recipe in its run directory (run_dir, default runs/<name>). If that directory has\n"
    "a checkpoint, training continues from it exactly (train.resume=auto; never; or a checkpoint\n"
    "path). SIGINT/SIGTERM save a checkpoint and exit (130/143); rerun the same command to resume.\n"
    "Writes recipe.yaml, recipe.provenance.yaml, metrics.jsonl, checkpoints/ and summary.json.\n"
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
  const train::TrainResult result = train::train(recipe);
  if (result.status == "interrupted") return 128 + result.interrupt_signal;
  std::printf("%s: %s after %lld steps; summary in %s/summary.json\n", recipe.name.c_str(),
              result.status.c_str(), (long long)result.summary.value("steps", 0LL), recipe.run_dir.c_str());
  return 0;
}

bool wants_help(const Args& args) {
  for (const auto& a : args)
    if (a == "-h" || a == "--help") return true;
  return false;
}

}  // namespace attnlab::tools
