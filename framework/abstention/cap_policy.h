// Abstention_CP, the three-way conformal policy of Tayebati et al. (notes §1.2), and its RL cost (§1.3).
//
// Calibration (LAC, notes §1.2): s_i = 1 - p_{y_i}(x_i) on the calibration items, then
//   q_predict = conformal_quantile(s, alpha, mode)  (level ceil((n+1)(1-alpha))/n, clipped to 1)
//   q_abstain = conformal_quantile(s, beta,  mode)  (level ceil((n+1)(1-beta))/n,  clipped to 1)
// The paper computes both with np.quantile(..., method="higher"), so the default mode here is
// QuantileMode::numpy_higher (this file reproduces the paper's method); QuantileMode::exact is the
// clean order statistic (+inf when k > n: then nothing is ever abstained on). alpha is NOT the
// miscoverage target of the sets: alpha in [0.75, 0.90] puts q_predict near the 10-25th percentile of
// the scores (a strict "confident" cut), beta in [0.01, 0.05] puts q_abstain near the 95-99th.
//
// Per test item, with p_max = max_y p_y and s = 1 - p_max:
//   action probabilities (columns single, set, abstain; slope c = 5):
//     p_single = sigmoid(-c·(s - q_predict)), p_abstain = sigmoid(c·(s - q_abstain)),
//     p_set = max(0, 1 - p_single - p_abstain); each clamped to >= 1e-6, then divided by their sum;
//     a row with NaN/inf falls back to [0.4, 0.2, 0.4].
//   hard mode (the notes' "deterministic hard mode", the sigmoid midpoints as a rule):
//     single  if p_max > 1 - q_predict;
//     abstain if p_max < 1 - q_abstain (the (1-beta) LAC set would be empty), checked second;
//     set     otherwise.
//     With alpha > beta, q_predict <= q_abstain, so the regions are ordered in p_max and disjoint.
//   stochastic mode (the paper: torch.multinomial, unseeded): one uniform u per item, in item order,
//     from std::mt19937_64(seed) as (engine() >> 11)·2^-53; action = single if u < p_single, set if
//     u < p_single + p_set, abstain otherwise. A fixed seed gives the same actions on any platform.
//   outputs (MethodOutput.sets, (M, K) bool):
//     single  -> one-hot arg-max (lowest index on ties);
//     set     -> the LAC set at level 1-beta, {y : p_y >= 1 - q_abstain}, or {arg-max} when empty;
//     abstain -> an empty row.
//
// Summary as coded (§1.2 "Returned quantities"; §1.3 ratios), over the M test items:
//   accuracy        = (#single correct + #set actions whose set contains y) / #non-abstained
//                     (0 when everything is abstained, as the code returns);
//   abstention_rate = #abstain / M;  avg_set_size = mean |set| over set actions only (0 if none);
//   single_fraction, set_fraction, abstain_fraction = the action fractions pi_single, pi_set, pi_abstain.
//
// Cost (§1.3), reward = -cost:
//   cost = (1 - accuracy) + l1·avg_set_size + l2·abstention_rate - l3·(1 - abstention_rate)
//          - l4·H(pi) + l5·max(0, pi_single - 0.8),
//   H(pi) = -sum_a pi_a·ln(pi_a + eps) with eps = 1e-8 as in train_policy.py (0 gives the plain entropy);
//   l1..l5 = 0.3, 0.3, 0.4, 0.2, 0.5. "coverage" in the paper's cost is the answer rate 1 - abstention_rate.
//
// Bad input throws std::invalid_argument naming the function and the argument.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "framework/abstention/method_output.h"
#include "framework/abstention/quantile.h"

namespace attnlab::abstention {

struct CapThresholds {
  double alpha = 0.85;  // sets q_predict; each in (0, 1)
  double beta = 0.025;  // sets q_abstain
};

enum class CapDecisionMode { hard, stochastic };

struct CapQuantiles {
  double q_predict = 0.0;
  double q_abstain = 0.0;
};

struct CapOptions {
  CapDecisionMode mode = CapDecisionMode::hard;
  double slope = 5.0;  // c in the sigmoids, > 0
  // numpy_higher: the paper's np.quantile(method="higher"); this policy exists to reproduce the paper.
  QuantileMode quantile_mode = QuantileMode::numpy_higher;
  uint64_t seed = 0;  // stochastic mode only
};

// The two thresholds from calibration probabilities (N, K) and labels (N). Throws on an empty
// calibration set, bad shapes/labels, or alpha/beta outside (0, 1).
CapQuantiles cap_calibrate(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                           const CapThresholds& thresholds,
                           QuantileMode mode = QuantileMode::numpy_higher);

// (M, 3) float64 action probabilities, columns [single, set, abstain]; slope > 0.
torch::Tensor cap_action_probabilities(const torch::Tensor& test_probs, const CapQuantiles& quantiles,
                                       double slope = 5.0);

struct CapResult {
  MethodOutput output;         // method = "abstention_cp"
  torch::Tensor action_probs;  // (M, 3) as cap_action_probabilities
  CapQuantiles quantiles;
};

// Decisions and sets for test probabilities (M, K) under already computed thresholds.
CapResult cap_predict(const torch::Tensor& test_probs, const CapQuantiles& quantiles,
                      const CapOptions& options = {});

// cap_calibrate followed by cap_predict: the paper's Abstention_CP(cal, test, {alpha, beta}).
CapResult abstention_cp(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                        const torch::Tensor& test_probs, const CapThresholds& thresholds,
                        const CapOptions& options = {});

struct CapSummary {
  double accuracy = 0.0;
  double abstention_rate = 0.0;
  double avg_set_size = 0.0;
  double single_fraction = 0.0;
  double set_fraction = 0.0;
  double abstain_fraction = 0.0;
};

// The summary of a MethodOutput against labels (M); set rows are scored by membership of y.
CapSummary cap_summary(const MethodOutput& output, const torch::Tensor& labels);

struct CapRewardWeights {
  double lambda1 = 0.3;  // average set size
  double lambda2 = 0.3;  // abstention rate
  double lambda3 = 0.4;  // "coverage" = answer rate (subtracted)
  double lambda4 = 0.2;  // action entropy (subtracted)
  double lambda5 = 0.5;  // single fraction above single_cap
  double single_cap = 0.8;
  double entropy_eps = 1e-8;  // inside the log, as the code
};

double cap_cost(const CapSummary& summary, const CapRewardWeights& weights = {});
double cap_reward(const CapSummary& summary, const CapRewardWeights& weights = {});  // -cap_cost

}  // namespace attnlab::abstention
