// `attnlab eval RUN_DIR|CHECKPOINT [--split NAME] [--checkpoint best|last] [--json]`.
#include <cstdio>
#include <filesystem>

#include "framework/config/loader.h"
#include "framework/errors.h"
#include "framework/run/experiment.h"
#include "framework/run/run_dir.h"
#include "framework/train/evaluator.h"
#include "framework/train/train_state.h"
#include "tools/commands/commands.h"

namespace attnlab::tools {
namespace {

namespace fs = std::filesystem;

const char* kHelp =
    "usage: attnlab eval RUN_DIR|CHECKPOINT_DIR [--split NAME] [--checkpoint best|last] [--json]\n"
    "\n"
    "Rebuilds the model from the run's recipe.yaml, loads verified weights and evaluates a split\n"
    "(default: the recipe's eval.test_split). For a run directory the best checkpoint is used when\n"
    "the run recorded one (--checkpoint last for the newest). --json prints one JSON object.\n";

}  // namespace

int eval_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string target, split, which = "best";
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--split" || a == "--checkpoint") && i + 1 < args.size()) {
      (a == "--split" ? split : which) = args[++i];
    } else if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      throw UserError("unknown option '" + a + "' (see attnlab eval --help)");
    } else if (target.empty()) {
      target = a;
    } else {
      throw UserError("unexpected argument '" + a + "' (see attnlab eval --help)");
    }
  }
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

  const run::Recipe recipe = run::recipe_from_tree(config::parse_yaml_file(dir.recipe_path()), dir.recipe_path());
  torch::manual_seed(static_cast<uint64_t>(recipe.seed));
  const auto dataset = run::build_dataset(recipe);
  if (split.empty()) split = recipe.eval.test_split.empty() ? recipe.eval.split : recipe.eval.test_split;
  const auto data = run::split_or_error(*dataset, split, "--split");
  auto model = run::build_model(recipe, dataset->spec());
  train::load_model_weights(*model, checkpoint);
  const auto result = train::evaluate(*model, *data, split, recipe.eval.batch_size, run::build_objective(recipe),
                                      run::build_metrics(recipe), torch::Device(torch::kCPU));
  if (json) {
    auto j = result.to_json();
    j["checkpoint"] = checkpoint;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n%s\n", checkpoint.c_str(), result.to_line().c_str());
  }
  return 0;
}

}  // namespace attnlab::tools
