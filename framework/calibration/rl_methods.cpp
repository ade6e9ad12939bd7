// The RL-learned threshold fitters (fitted_methods.h): Abstention_CP with (alpha, beta) from
// REINFORCE, as published (rl_paper) and in the sound variant (rl_sound).
#include "framework/abstention/cap_policy.h"
#include "framework/abstention/rl_thresholds.h"
#include "framework/calibration/fitted_methods.h"
#include "framework/errors.h"

namespace attnlab::calibration {
namespace {

using abstention::CapDecisionMode;

class RlMethod : public FittedMethod {
 public:
  RlMethod(bool paper, Scored calibration, abstention::RlThresholdResult result, abstention::QuantileMode mode,
           uint64_t test_seed)
      : paper_(paper), calibration_(std::move(calibration)), result_(std::move(result)), mode_(mode),
        test_seed_(test_seed) {}
  std::string name() const override { return paper_ ? "rl_paper" : "rl_sound"; }
  bool tuned_on_test() const override { return paper_; }
  nlohmann::json parameters() const override {
    const auto q = abstention::cap_calibrate(calibration_.probs, calibration_.labels, result_.thresholds, mode_);
    return {{"alpha", result_.thresholds.alpha},
            {"beta", result_.thresholds.beta},
            {"q_predict", q.q_predict},
            {"q_abstain", q.q_abstain},
            {"decisions", paper_ ? "stochastic" : "hard"},
            {"quantile", mode_ == abstention::QuantileMode::exact ? "exact" : "numpy_higher"},
            {"reward_split", paper_ ? "test (as published)" : "held-out calibration"},
            {"last", {{"alpha", result_.last.alpha}, {"beta", result_.last.beta}}},
            {"best", {{"alpha", result_.best.alpha}, {"beta", result_.best.beta}, {"reward", result_.best_reward}}},
            {"final_reward", result_.rewards.empty() ? 0.0 : result_.rewards.back()},
            {"epochs", result_.rewards.size()}};
  }
  abstention::MethodOutput apply(const Scored& test, uint64_t seed) const override {
    abstention::CapOptions options;
    // The paper samples the action at evaluation too; the sound variant decides by the rule.
    options.mode = paper_ ? CapDecisionMode::stochastic : CapDecisionMode::hard;
    options.quantile_mode = mode_;
    options.seed = test_seed_ ^ seed;
    abstention::MethodOutput out =
        abstention::abstention_cp(calibration_.probs, calibration_.labels, test.probs, result_.thresholds, options).output;
    out.method = name();
    return out;
  }

 private:
  bool paper_;
  Scored calibration_;
  abstention::RlThresholdResult result_;
  abstention::QuantileMode mode_;
  uint64_t test_seed_;
};

}  // namespace

std::unique_ptr<FittedMethod> fit_rl(bool paper, const Scored& cal, const Scored& test, const AbstentionSettings& s) {
  const std::string name = paper ? "rl_paper" : "rl_sound";
  try {
    if (paper) {
      abstention::RlThresholdOptions o;
      o.epochs = s.rl_epochs;
      o.learning_rate = s.rl_lr;
      o.seed = method_seed(s, name, "policy");
      // As published: the paper's np.quantile, whatever `quantile` says for the other methods.
      o.quantile_mode = abstention::QuantileMode::numpy_higher;
      auto result = abstention::learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels, o);
      return std::make_unique<RlMethod>(true, cal, std::move(result), o.quantile_mode, method_seed(s, name, "test"));
    }
    abstention::SoundRlOptions o;
    o.epochs = s.rl_epochs;
    o.learning_rate = s.rl_lr;
    o.seed = method_seed(s, name, "policy");
    o.tuning_fraction = s.rl_tuning_fraction;
    o.quantile_mode = s.quantile == "numpy_higher" ? abstention::QuantileMode::numpy_higher : abstention::QuantileMode::exact;
    auto result = abstention::learn_thresholds_sound(cal.probs, cal.labels, o);
    return std::make_unique<RlMethod>(false, cal, std::move(result), o.quantile_mode, method_seed(s, name, "test"));
  } catch (const std::invalid_argument& e) {
    throw UserError(name + ": " + e.what());
  }
}

}  // namespace attnlab::calibration
