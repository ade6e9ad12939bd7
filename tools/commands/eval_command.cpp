// `attnlab eval RUN_DIR|CHECKPOINT [--split NAME] [--checkpoint best|last] [--json]`.
#include <cstdio>

#include "framework/errors.h"
#include "framework/run/experiment.h"
#include "framework/train/evaluator.h"
#include "tools/commands/commands.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

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
  const TrainedModel t = load_trained_model(target, which);
  if (split.empty()) split = t.recipe.eval.test_split.empty() ? t.recipe.eval.split : t.recipe.eval.test_split;
  const auto data = run::split_or_error(*t.dataset, split, "--split");
  const auto result = train::evaluate(*t.model, *data, split, t.recipe.eval.batch_size, run::build_objective(t.recipe),
                                      run::build_metrics(t.recipe, t.dataset->spec()), torch::Device(torch::kCPU));
  if (json) {
    auto j = result.to_json();
    j["checkpoint"] = t.checkpoint;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n%s\n", t.checkpoint.c_str(), result.to_line().c_str());
  }
  return 0;
}

}  // namespace attnlab::tools
