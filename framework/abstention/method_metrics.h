// The `clean` scoring of any abstention method (notes §1.5 "clean mode", §5, §6): every method is
// scored by the same definitions from its MethodOutput, the test probabilities and labels.
//
// Per method, with A = the answered (non-abstained) items:
//   answer_rate, abstention_rate       |A|/M and 1 - |A|/M
//   coverage                           mean over A of 1[y ∈ C]          (NaN when A is empty)
//   coverage_all                       mean over all M, abstained = not covered
//   average_set_size, singleton_rate, empty_rate    over A             (NaN when A is empty)
//   accuracy                           mean over A of 1[top(C) = y], top(C) = the set member of
//                                      highest probability (lowest index on ties); empty set = wrong
//   selective_risk                     1 - accuracy
//   set_size_counts                    [s] = answered items whose set has s labels, s = 0..K
//   penalty_score                      RS(c) over all M: +1 answered and top(C) = y, 0 abstained,
//                                      -c answered and wrong (notes §6)
// Per model (one confidence for all methods, κ = max_y p_y; correct = 1[argmax = y]):
//   accuracy, AURC, E-AURC, AUARC, AUROC (error detection), ECE/MCE with 15 bins and the
//   reliability-diagram bins, the risk-coverage curve, the penalty score's best empirical threshold
//   and the score of Chow's rule κ > c/(1+c).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "framework/abstention/method_output.h"
#include "framework/abstention/selective_metrics.h"

namespace attnlab::abstention {

struct MethodMetrics {
  int64_t items = 0;
  double answer_rate = 0.0, abstention_rate = 0.0;
  double coverage = 0.0, coverage_all = 0.0;
  double average_set_size = 0.0, singleton_rate = 0.0, empty_rate = 0.0;
  double accuracy = 0.0, selective_risk = 0.0;
  double penalty_score = 0.0;
  std::vector<int64_t> set_size_counts;  // K + 1 entries: the set-size histogram over answered items
};
MethodMetrics method_metrics(const MethodOutput& output, const torch::Tensor& probs,
                             const torch::Tensor& labels, double penalty_c);

struct ModelMetrics {
  int64_t items = 0;
  double accuracy = 0.0;
  double aurc = 0.0, eaurc = 0.0, auarc = 0.0, auroc = 0.0;
  CalibrationError calibration;
  RiskCoverageCurve risk_coverage;
  double penalty_c = 0.0;
  PenaltyThreshold best_penalty;   // the empirical optimum over thresholds
  double chow_threshold = 0.0;     // c/(1+c)
  double chow_penalty_score = 0.0; // RS(c) answering iff κ > c/(1+c)
};
ModelMetrics model_metrics(const torch::Tensor& probs, const torch::Tensor& labels, double penalty_c);

// max_y p_y and 1[argmax = y] (lowest index on ties), the shared confidence of `clean` mode.
std::vector<double> max_probability(const torch::Tensor& probs);
std::vector<bool> top1_correct(const torch::Tensor& probs, const torch::Tensor& labels);

}  // namespace attnlab::abstention
