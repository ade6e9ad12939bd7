// `attnlab eval RUN_DIR|CHECKPOINT [--split NAME] [--checkpoint best|last] [--json]`.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "framework/errors.h"
#include "framework/run/experiment.h"
#include "framework/train/attention_interpretability.h"
#include "framework/train/evaluator.h"
#include "tools/commands/commands.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab eval RUN_DIR|CHECKPOINT_DIR [--split NAME] [--checkpoint best|last] [--json]\n"
    "                   [--site NAME] [--no-attention]\n"
    "\n"
    "Rebuilds the model from the run's recipe.yaml, loads verified weights and evaluates a split\n"
    "(default: the recipe's eval.test_split). For a run directory the best checkpoint is used when\n"
    "the run recorded one (--checkpoint last for the newest). --json prints one JSON object.\n"
    "\n"
    "For classifiers it also measures the attention at one site (--site; default \"pool\" if the\n"
    "model has it, else its last attention site): mean attention entropy, agreement with\n"
    "gradient-times-input importance (Pearson r, Kendall tau), and, when the dataset marks the\n"
    "evidence tokens or MIL witness instances, rationale AUPRC / average precision / ROC-AUC and\n"
    "the pooled localisation AUC. --no-attention skips this.\n";

}  // namespace

int eval_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string target, split, which = "best";
  std::string site;
  bool json = false, attention = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--split" || a == "--checkpoint" || a == "--site") && i + 1 < args.size()) {
      (a == "--split" ? split : a == "--site" ? site : which) = args[++i];
    } else if (a == "--no-attention") {
      attention = false;
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
  std::optional<train::InterpretabilityResult> interpretability;
  if (attention && t.dataset->spec().task == datasets::Task::kClassification) {
    train::InterpretabilityOptions options;
    options.site = site;
    options.batch_size = std::min<int64_t>(t.recipe.eval.batch_size, 64);
    try {
      interpretability = train::evaluate_interpretability(*t.model, *data, options, torch::Device(torch::kCPU));
    } catch (const std::invalid_argument& e) {
      if (!site.empty()) throw UserError(std::string("--site: ") + e.what());
      // A model without attention has nothing to measure; evaluation itself still stands.
    }
  } else if (!site.empty()) {
    throw UserError("--site: attention is measured for classifiers only");
  }
  if (json) {
    auto j = result.to_json();
    j["checkpoint"] = t.checkpoint;
    if (interpretability) j["attention"] = interpretability->to_json();
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n%s\n", t.checkpoint.c_str(), result.to_line().c_str());
    if (interpretability) std::printf("%s\n", interpretability->to_line().c_str());
  }
  return 0;
}

}  // namespace attnlab::tools
