// The split-conformal and dual-threshold fitters (fitted_methods.h).
#include <cmath>
#include <functional>

#include "framework/abstention/dual_threshold.h"
#include "framework/calibration/fitted_methods.h"
#include "framework/errors.h"

namespace attnlab::calibration {
namespace {

using abstention::ConformalOptions;

nlohmann::json thresholds_json(const std::vector<double>& q) {
  nlohmann::json j = nlohmann::json::array();
  for (double v : q) j.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json("inf"));
  return j;
}

class ConformalMethod : public FittedMethod {
 public:
  ConformalMethod(std::string name, ConformalOptions options, std::vector<double> thresholds, uint64_t test_seed)
      : name_(std::move(name)), options_(options), thresholds_(std::move(thresholds)), test_seed_(test_seed) {}
  std::string name() const override { return name_; }
  nlohmann::json parameters() const override { return {{"thresholds", thresholds_json(thresholds_)}}; }
  abstention::MethodOutput apply(const Scored& test, uint64_t seed) const override {
    abstention::MethodOutput out;
    out.method = name_;
    out.sets = abstention::predict_sets(test.probs, thresholds_, options_, test_seed_ ^ seed);
    out.decisions = abstention::decisions_from_sets(out.sets);
    return out;
  }

 private:
  std::string name_;
  ConformalOptions options_;
  std::vector<double> thresholds_;
  uint64_t test_seed_;
};

class DualMethod : public FittedMethod {
 public:
  DualMethod(abstention::DualThresholdOptions options, abstention::DualThresholdFit fit, uint64_t test_seed)
      : options_(options), fit_(std::move(fit)), test_seed_(test_seed) {}
  std::string name() const override { return "dual_threshold"; }
  nlohmann::json parameters() const override {
    return {{"set_thresholds", thresholds_json(fit_.set_thresholds)},
            {"tau", fit_.tau},
            {"calibration", {{"tpr", fit_.tpr}, {"fpr", fit_.fpr}, {"youden_j", fit_.youden_j},
                             {"abstention_rate", fit_.abstention_rate},
                             {"detection_auroc", fit_.detection_auroc}}}};
  }
  abstention::MethodOutput apply(const Scored& test, uint64_t seed) const override {
    const bool oracle = options_.score == abstention::AbstentionScore::oracle_neg_log_true_prob;
    return abstention::apply_dual_threshold(test.probs, fit_, options_, test_seed_ ^ seed,
                                            oracle ? test.labels : torch::Tensor());
  }
  nlohmann::json diagnostics(const Scored& test, uint64_t seed) const override {
    const auto q = abstention::detection_quality(test.probs, test.labels, fit_, options_, test_seed_ ^ seed);
    return {{"detection_tpr", q.tpr}, {"detection_fpr", q.fpr}, {"detection_auroc", q.auroc},
            {"paper_grid_auc", q.grid_auc}, {"paper_mean_grid_abstention", q.mean_grid_abstention}};
  }

 private:
  abstention::DualThresholdOptions options_;
  abstention::DualThresholdFit fit_;
  uint64_t test_seed_;
};

abstention::ScoreKind score_kind(const std::string& name) {
  if (name == "lac") return abstention::ScoreKind::lac;
  if (name == "aps") return abstention::ScoreKind::aps;
  if (name == "raps") return abstention::ScoreKind::raps;
  if (name == "top_k") return abstention::ScoreKind::top_k;
  throw UserError("unknown conformal score '" + name + "' (lac, aps, raps, top_k)");
}

abstention::AbstentionScore abstention_score(const std::string& name) {
  using abstention::AbstentionScore;
  if (name == "neg_log_max_prob") return AbstentionScore::neg_log_max_prob;
  if (name == "entropy") return AbstentionScore::entropy;
  if (name == "set_size") return AbstentionScore::set_size;
  if (name == "oracle_neg_log_true_prob") return AbstentionScore::oracle_neg_log_true_prob;
  throw UserError("unknown abstention score '" + name + "'");
}

// The library throws std::invalid_argument for inputs it cannot use; here that is the user's data.
template <typename F>
auto user_facing(const std::string& what, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    throw UserError(what + ": " + e.what());
  }
}

}  // namespace

ConformalOptions conformal_options(const std::string& score, const AbstentionSettings& s) {
  ConformalOptions o;
  o.score.kind = score_kind(score);
  o.score.randomized = s.randomized;
  o.score.k_reg = s.raps_k_reg;
  o.score.lambda = s.raps_lambda;
  o.alpha = s.alpha;
  o.quantile_mode = s.quantile == "numpy_higher" ? abstention::QuantileMode::numpy_higher : abstention::QuantileMode::exact;
  o.class_conditional = s.class_conditional;
  o.empty_set = s.empty_sets == "top1" ? abstention::EmptySetPolicy::fallback_top1 : abstention::EmptySetPolicy::allow_empty;
  return o;
}

uint64_t method_seed(const AbstentionSettings& settings, const std::string& method, const std::string& use) {
  // FNV-1a over "method/use", mixed with the seed: stable across platforms and runs.
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(settings.seed) * 0x9E3779B97F4A7C15ull;
  for (char c : method + "/" + use) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

std::unique_ptr<FittedMethod> fit_conformal(const std::string& score, const Scored& cal, const AbstentionSettings& s) {
  const ConformalOptions options = conformal_options(score, s);
  auto q = user_facing(score, [&] { return abstention::calibrate(cal.probs, cal.labels, options, method_seed(s, score, "cal")); });
  return std::make_unique<ConformalMethod>(score, options, std::move(q), method_seed(s, score, "test"));
}

std::unique_ptr<FittedMethod> fit_dual(const Scored& cal, const AbstentionSettings& s) {
  abstention::DualThresholdOptions options;
  options.conformal = conformal_options(s.dual_set_score, s);
  options.score = abstention_score(s.abstention_score);
  options.rule = s.threshold_rule == "target_fpr" ? abstention::ThresholdRule::target_fpr : abstention::ThresholdRule::youden;
  options.target_fpr = s.target_fpr;
  options.grid = s.threshold_grid == "paper_grid" ? abstention::ThresholdGrid::paper_grid : abstention::ThresholdGrid::exact;
  auto fit = user_facing("dual_threshold", [&] {
    return abstention::fit_dual_threshold(cal.probs, cal.labels, options, method_seed(s, "dual_threshold", "cal"));
  });
  return std::make_unique<DualMethod>(options, std::move(fit), method_seed(s, "dual_threshold", "test"));
}

}  // namespace attnlab::calibration
