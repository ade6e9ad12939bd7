#include "framework/calibration/stage.h"

#include <cstdio>
#include <filesystem>

#include "attention/context.h"
#include "datasets/image_corruption.h"
#include "framework/calibration/fitted_methods.h"
#include "framework/config/loader.h"
#include "framework/config/schema.h"
#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/io/npy.h"
#include "framework/registry/catalog.h"
#include "framework/train/batch_input.h"

namespace attnlab::calibration {
namespace fs = std::filesystem;
namespace {

// The cached outputs of one condition: <dir>/<stem>_probs.npy and _labels.npy, valid while
// <dir>/source.txt names the same checkpoint.
class OutputCache {
 public:
  OutputCache(std::string dir, const std::string& checkpoint, bool recompute) : dir_(std::move(dir)) {
    const std::string source = dir_ + "/source.txt";
    valid_ = !recompute && fs::exists(source) && io::read_file(source) == checkpoint + "\n";
    if (!valid_) {
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      io::write_file_atomic(source, checkpoint + "\n");
    }
  }
  template <typename Compute>
  Scored get(const std::string& stem, Compute&& compute) {
    const std::string probs = dir_ + "/" + stem + "_probs.npy", labels = dir_ + "/" + stem + "_labels.npy";
    if (valid_ && fs::exists(probs) && fs::exists(labels)) return {io::read_npy(probs), io::read_npy(labels)};
    Scored s = compute();
    io::write_npy(probs, s.probs);
    io::write_npy(labels, s.labels);
    return s;
  }

 private:
  std::string dir_;
  bool valid_ = false;
};

void say(const std::string& line) {
  std::fprintf(stderr, "abstention: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

Scored model_probabilities(models::Model& model, const datasets::Split& split, int64_t batch_size,
                           const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<torch::Tensor> probs, labels;
  for (int64_t start = 0; start < split.size(); start += batch_size) {
    const datasets::Batch batch = split.batch(train::index_range(start, std::min(split.size(), start + batch_size)));
    const models::ModelInput input = train::model_input(batch, device);
    attention::ForwardContext ctx;
    const auto out = model.forward(input, ctx);
    if (out.logits.dim() != 2) throw UserError("abstention needs a classifier (logits (B, K)); this model predicts tokens");
    probs.push_back(torch::softmax(out.logits.to(torch::kCPU, torch::kFloat64), 1));
    labels.push_back(batch.labels.to(torch::kCPU, torch::kLong));
  }
  if (was_training) model.train();
  if (probs.empty()) return {torch::empty({0, 0}, torch::kFloat64), torch::empty({0}, torch::kLong)};
  return {torch::cat(probs), torch::cat(labels)};
}

AbstentionSettings settings_with_overrides(const config::Value* recipe_section, const std::vector<std::string>& overrides) {
  config::Value section = recipe_section && recipe_section->is_map() ? *recipe_section : config::Value::map();
  for (const std::string& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UserError("'" + o + "' is not key=value (keys: `attnlab list section abstention`)");
    }
    const std::string key = o.substr(0, eq);
    config::Value value = config::parse_yaml_text(o.substr(eq + 1), "command line '" + o + "'");
    section.set(key, std::move(value));
  }
  std::vector<config::Problem> problems;
  config::validate(section, abstention_schema(), "abstention", registry::Catalog::global().lookup(), problems);
  config::throw_if_problems(problems);
  AbstentionSettings s = read_abstention_settings(config::Section(&section, "abstention"));
  for (int64_t v : s.severities) {
    if (v < 1 || v > 5) throw UserError("abstention.severities: " + std::to_string(v) + " is not in 1..5");
  }
  if (s.methods.empty()) throw UserError("abstention.methods: name at least one method");
  return s;
}

nlohmann::json settings_json(const AbstentionSettings& s) {
  return {{"calibration_split", s.calibration_split}, {"test_split", s.test_split},
          {"alpha", s.alpha}, {"methods", s.methods},
          {"randomized", s.randomized}, {"quantile", s.quantile},
          {"class_conditional", s.class_conditional}, {"empty_sets", s.empty_sets},
          {"raps_k_reg", s.raps_k_reg}, {"raps_lambda", s.raps_lambda},
          {"dual_set_score", s.dual_set_score}, {"abstention_score", s.abstention_score},
          {"threshold_rule", s.threshold_rule}, {"target_fpr", s.target_fpr},
          {"threshold_grid", s.threshold_grid}, {"rl_epochs", s.rl_epochs}, {"rl_lr", s.rl_lr},
          {"rl_tuning_fraction", s.rl_tuning_fraction}, {"metrics_mode", s.metrics_mode},
          {"penalty_c", s.penalty_c}, {"seed", s.seed}, {"corruptions", s.corruptions},
          {"severities", s.severities}};
}

Comparison compare_files(const Scored& calibration, const Scored& test, const AbstentionSettings& settings) {
  if (calibration.probs.size(1) != test.probs.size(1)) {
    throw UserError("the calibration data has " + std::to_string(calibration.probs.size(1)) +
                    " classes, the test data " + std::to_string(test.probs.size(1)));
  }
  const FittedMethods methods = fit_methods(calibration, test, settings);
  return compare(methods, test, settings);
}

StageResult run_abstention_stage(const StageInputs& in, const AbstentionSettings& settings, bool recompute) {
  const std::string test_split = settings.test_split.empty() ? in.default_test_split : settings.test_split;
  if (test_split.empty()) throw UserError("abstention.test_split: no test split (eval.test_split is \"\" too)");
  auto split_of = [&](const std::string& name, const std::string& key) {
    try {
      return in.dataset->split(name);
    } catch (const datasets::DataError& e) {
      throw UserError("abstention." + key + ": " + e.what());
    }
  };
  const auto cal_split = split_of(settings.calibration_split, "calibration_split");
  const auto test_data = split_of(test_split, "test_split");
  const auto* images = dynamic_cast<const datasets::CorruptibleImages*>(in.dataset);
  if (!settings.corruptions.empty() && !images) {
    throw UserError("abstention.corruptions: this dataset is not an image dataset (only digits can be corrupted)");
  }
  const torch::Device cpu(torch::kCPU);
  const std::string dir = in.run_dir + "/abstention";
  OutputCache cache(dir + "/outputs", in.checkpoint, recompute);
  auto probabilities = [&](const datasets::Split& split, const std::string& what) {
    say("class probabilities on " + what + " (" + std::to_string(split.size()) + " examples)");
    return model_probabilities(*in.model, split, in.batch_size, cpu);
  };
  const Scored cal = cache.get(settings.calibration_split, [&] { return probabilities(*cal_split, settings.calibration_split); });
  const Scored test = cache.get(test_split, [&] { return probabilities(*test_data, test_split); });

  say("fitting " + std::to_string(settings.methods.size()) + " methods on '" + settings.calibration_split + "'");
  StageResult result;
  const FittedMethods methods = fit_methods(cal, test, settings);
  result.clean = compare(methods, test, settings, "clean");
  result.table = comparison_table(result.clean, settings.alpha);
  for (const std::string& name : settings.corruptions) {
    const auto corruption = datasets::corruption_from_name(name);
    for (int64_t severity : settings.severities) {
      const std::string condition = name + "@" + std::to_string(severity);
      const std::string stem = test_split + "_" + name + "_s" + std::to_string(severity);
      const Scored shifted = cache.get(stem, [&] {
        // The corruption's randomness depends on the seed and the condition only.
        const uint64_t seed = method_seed(settings, condition, "corruption");
        return probabilities(*images->corrupted_split(test_split, corruption, severity, seed), condition);
      });
      result.sweep.push_back(compare(methods, shifted, settings, condition));
    }
  }
  if (!result.sweep.empty()) {
    std::vector<Comparison> all = {result.clean};
    all.insert(all.end(), result.sweep.begin(), result.sweep.end());
    result.table += "\nrobustness sweep (thresholds from the clean calibration split):\n" + sweep_table(all);
  }

  nlohmann::json j;
  j["checkpoint"] = in.checkpoint;
  j["calibration_split"] = settings.calibration_split;
  j["calibration_items"] = cal.labels.size(0);
  j["test_split"] = test_split;
  j["settings"] = settings_json(settings);
  j["clean"] = result.clean.to_json();
  j["sweep"] = nlohmann::json::array();
  for (const auto& c : result.sweep) j["sweep"].push_back(c.to_json());
  result.results_path = dir + "/results.json";
  io::write_file_atomic(result.results_path, j.dump(2) + "\n");
  io::write_file_atomic(dir + "/table.txt", result.table);
  return result;
}

}  // namespace attnlab::calibration
