// Learning Abstention_CP's (alpha, beta) with REINFORCE (notes §1.3, §8), in two variants.
//
// Policy (policy_network.py): state -> Linear(state_dim -> 64) -> ReLU -> two heads, mean =
// Linear(64 -> 2), log_std = Linear(64 -> 2), std = exp(log_std); a diagonal Gaussian over
// Delta = (Delta_alpha, Delta_beta). The state is the raw (alpha, beta) (state_dim 2), no per-input
// features, as the code. One epoch = one episode:
//   Delta ~ N(mean(state), std(state))              (log_prob of the UNCLAMPED Delta, summed over dims)
//   alpha' = clamp(alpha + 0.005·Delta_alpha, 0.75, 0.90), beta' = clamp(beta + 0.005·Delta_beta, 0.01, 0.05)
//   one Abstention_CP pass (cap_policy.h) at (alpha', beta') -> CapSummary -> reward R = -cap_cost
//   loss = -log_prob·(R - b); Adam(lr 1e-3) step; state <- (alpha', beta').
// 200 epochs, init (0.85, 0.025). Every number is an option below, bounds included.
//
// learn_thresholds_paper — AS PUBLISHED, AND IT SELECTS THE THRESHOLDS ON TEST DATA:
//   the reward is computed on the TEST split (it takes test probabilities AND TEST LABELS), the same
//   split the paper then evaluates on; no baseline (b = 0); stochastic decisions; the returned
//   thresholds are the LAST epoch's. Use it only to reproduce the paper's numbers; metrics computed on
//   that test split afterwards are optimistically biased.
// learn_thresholds_sound — the clean variant (notes §8):
//   takes only calibration probabilities + labels (its signature has no test data at all); splits
//   them with a seeded permutation (not stratified) into a conformal part (the quantiles) and a
//   tuning part (the reward) of llround(n·tuning_fraction) rows (default 0.5), clamped to [1, n-1]
//   (n >= 2 needed); subtracts a moving-average reward
//   baseline b (b starts at the first epoch's reward, so the first step has advantage 0; after each
//   step b <- m·b + (1-m)·R, m = baseline_momentum = 0.9); hard decisions during the reward by
//   default; returns the last and the BEST (highest tuning reward, first on ties) thresholds and
//   chooses the best. Evaluate the chosen thresholds with abstention_cp on the full calibration set
//   (or on conformal_indices only) against the test split.
//   Optional per-input features (tuning_features): the state becomes (alpha, beta, mean p_max,
//   mean normalised entropy H(p)/ln K) of the tuning probabilities (K = 1: entropy 0). Within one
//   run these two numbers are constant, so they only matter for a policy reused across data sets.
//
// Randomness, all explicit (the global torch generator is left as it was):
//   network init: make_threshold_policy(state_dim, hidden, seed): every weight and bias
//     ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch::nn::Linear's default distribution) drawn from an
//     at::Generator seeded with `seed`; float64 parameters;
//   Delta: torch::randn from a second at::Generator seeded with splitmix64(seed ^ 1);
//   stochastic decisions in epoch e: CapOptions::seed = splitmix64(seed ^ (0x100 + e));
//   the sound split: a Fisher-Yates shuffle with std::mt19937_64(splitmix64(seed ^ 2)), j = engine() % (i+1).
// With a fixed seed the run is bit-reproducible on CPU.
// Bad input (shapes, labels, empty calibration, bounds not 0 < min <= max < 1, init outside its
// bounds, epochs < 1, lr < 0, ...) throws std::invalid_argument naming the function and the argument.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "framework/abstention/cap_policy.h"
#include "framework/abstention/quantile.h"

namespace attnlab::abstention {

struct ThresholdPolicyImpl : torch::nn::Module {
  explicit ThresholdPolicyImpl(int64_t state_dim = 2, int64_t hidden = 64);
  // (mean, std) of the Gaussian over Delta, each shaped (2), for a state shaped (state_dim).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& state);
  torch::nn::Linear fc{nullptr}, mean_head{nullptr}, log_std_head{nullptr};
};
TORCH_MODULE(ThresholdPolicy);

// A float64 policy initialised from an explicit generator seeded with `seed` (see above).
ThresholdPolicy make_threshold_policy(int64_t state_dim, int64_t hidden, uint64_t seed);

struct PolicySample {
  torch::Tensor delta;     // (2) float64, no grad: the unclamped action
  torch::Tensor log_prob;  // scalar, differentiable: sum over dims of log N(delta; mean, std)
};
PolicySample sample_threshold_action(ThresholdPolicy& policy, const torch::Tensor& state,
                                     at::Generator& generator);
// log pi(delta | state), summed over the two dims; differentiable w.r.t. the policy.
torch::Tensor threshold_action_log_prob(ThresholdPolicy& policy, const torch::Tensor& state,
                                        const torch::Tensor& delta);
// One REINFORCE update: loss = -log_prob·advantage; zero_grad, backward, step.
void reinforce_step(torch::optim::Optimizer& optimizer, const torch::Tensor& log_prob, double advantage);

struct RlThresholdOptions {
  CapThresholds init;  // (0.85, 0.025)
  double alpha_min = 0.75, alpha_max = 0.90;
  double beta_min = 0.01, beta_max = 0.05;
  double adjustment_scale = 0.005;
  double learning_rate = 1e-3;  // Adam; 0 freezes the policy
  int64_t epochs = 200;
  int64_t hidden = 64;
  double slope = 5.0;
  QuantileMode quantile_mode = QuantileMode::numpy_higher;  // the paper's quantile
  CapRewardWeights weights;
  uint64_t seed = 0;
};

struct SoundRlOptions : RlThresholdOptions {
  double tuning_fraction = 0.5;     // share of the calibration items that scores the reward
  double baseline_momentum = 0.9;   // moving-average reward baseline, in [0, 1)
  CapDecisionMode reward_decisions = CapDecisionMode::hard;
  bool tuning_features = false;     // state = (alpha, beta, mean p_max, mean normalised entropy)
};

// (alpha', beta') = clamp((alpha, beta) + adjustment_scale·delta) to the option bounds.
CapThresholds apply_threshold_action(const CapThresholds& current, const torch::Tensor& delta,
                                     const RlThresholdOptions& options);

struct RlThresholdResult {
  CapThresholds thresholds;  // the chosen ones: paper -> last, sound -> best
  CapThresholds last;        // those of the last epoch
  CapThresholds best;        // the highest reward's (paper: by TEST reward, for information only)
  double best_reward = 0.0;
  std::vector<double> rewards;                  // per epoch, the reward of trajectory[e]
  std::vector<CapThresholds> trajectory;        // per epoch, the (alpha', beta') evaluated
  std::vector<std::array<double, 2>> deltas;    // per epoch, the sampled unclamped Delta
  ThresholdPolicy policy{nullptr};              // the trained network
  std::vector<int64_t> conformal_indices;       // sound: calibration rows used for the quantiles
  std::vector<int64_t> tuning_indices;          // sound: calibration rows used for the reward
};

// As published: reward on the TEST split (uses test labels), no baseline, stochastic decisions,
// returns the last epoch's thresholds. See the warning above.
RlThresholdResult learn_thresholds_paper(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                                         const torch::Tensor& test_probs, const torch::Tensor& test_labels,
                                         const RlThresholdOptions& options = {});

// Clean: calibration data only (split into conformal and tuning parts), baseline, best thresholds.
RlThresholdResult learn_thresholds_sound(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                                         const SoundRlOptions& options = {});

}  // namespace attnlab::abstention
