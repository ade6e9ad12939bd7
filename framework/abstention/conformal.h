// Split conformal classification (notes §3): thresholds from calibration probabilities + labels,
// prediction sets for test probabilities.
//
// Marginal: one threshold q = conformal_quantile(calibration label scores, alpha, mode).
// Class-conditional (Mondrian, notes §3 "Guarantee", §4): one threshold per class c from the
// calibration items labelled c only; label y enters the set iff s(x, y) <= q_y. A class with no
// calibration items gets q = +inf (always in the set: no data, no evidence against it).
// Sets: (M, K) bool, set[i][y] = s(x_i, y) <= q (or q_y). Empty-set policy (notes §7.12):
// allow_empty keeps empty sets (they count as not covered); fallback_top1 adds the arg-max label
// (lowest index on ties) to an empty set, as vlm-uncertainty does.
// Randomised scores: calibrate and predict take their own seeds; use different seeds so the
// calibration and test uniforms are independent.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "framework/abstention/quantile.h"
#include "framework/abstention/scores.h"

namespace attnlab::abstention {

enum class EmptySetPolicy { allow_empty, fallback_top1 };

struct ConformalOptions {
  ScoreParams score;
  double alpha = 0.1;
  QuantileMode quantile_mode = QuantileMode::exact;
  bool class_conditional = false;
  EmptySetPolicy empty_set = EmptySetPolicy::allow_empty;
};

// Thresholds: size 1 (marginal) or K (class-conditional).
std::vector<double> calibrate(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                              const ConformalOptions& options, uint64_t seed);

// Sets from precomputed (M, K) scores and thresholds; probs (M, K) is needed for the top-1 fallback.
torch::Tensor sets_from_scores(const torch::Tensor& scores, const std::vector<double>& thresholds,
                               const torch::Tensor& probs, EmptySetPolicy policy);

torch::Tensor predict_sets(const torch::Tensor& test_probs, const std::vector<double>& thresholds,
                           const ConformalOptions& options, uint64_t seed);

}  // namespace attnlab::abstention
