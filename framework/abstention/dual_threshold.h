// Dual-threshold conformal abstention (Kumar et al. 2025, notes §2): a conformal threshold makes
// the prediction set C(x); a second threshold τ on an abstention score a(x) decides whether to
// answer at all: abstain iff a(x) > τ.
//
// The event τ is tuned to detect is "should abstain" := y ∉ C(x), measured on the calibration
// split (the sets there come from the calibration threshold itself, as in the paper's code).
// TPR = TP/(TP+FN), FPR = FP/(FP+TN) with positive = "y ∉ C(x)" and predicted positive =
// "abstained"; a rate with an empty denominator is 0.
//
// Abstention scores (higher = more reason to abstain):
//   neg_log_max_prob  -log max_y p_y(x)                 label-free (deployable)
//   entropy           -Σ_y p_y log p_y (natural log)    label-free
//   set_size          |C(x)|                             label-free
//   oracle_neg_log_true_prob  -log(p_y(x) + 1e-7)       the paper's score; reads the TRUE label,
//                      so it is a diagnostic that cannot be deployed (test labels needed).
// Threshold rules, on the calibration split only (never the test split):
//   youden      τ* = argmax_τ TPR(τ) - FPR(τ); ties go to the larger τ (fewer abstentions);
//   target_fpr  the smallest τ with FPR(τ) <= target (the most detections the FPR budget allows).
// Candidate thresholds: `exact` = -inf and every distinct calibration score (the full empirical
// ROC); `paper_grid` = the paper's ~150 points (unique values of linspace(0, 0.1, 50) ∪
// linspace(0.1, 1, 50) ∪ exp(linspace(0, ln 5, 50))).
// Detection AUROC: exact = Mann-Whitney (ties ½), which equals the trapezoid over the exact ROC;
// the paper's value is np.trapz of TPR over FPR at the grid points, no end points added.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "framework/abstention/conformal.h"
#include "framework/abstention/method_output.h"

namespace attnlab::abstention {

enum class AbstentionScore { neg_log_max_prob, entropy, set_size, oracle_neg_log_true_prob };
enum class ThresholdRule { youden, target_fpr };
enum class ThresholdGrid { exact, paper_grid };

// (M) scores. sets (M, K) bool is read by set_size only; labels by the oracle only (undefined
// otherwise; the oracle throws std::invalid_argument without them).
std::vector<double> abstention_scores(const torch::Tensor& probs, const torch::Tensor& sets,
                                      AbstentionScore kind, const torch::Tensor& labels = {});

struct RocPoint {
  double threshold = 0.0;
  double tpr = 0.0;
  double fpr = 0.0;
  double abstention_rate = 0.0;
};
// One point per threshold, in the thresholds' order; abstain iff score > threshold.
std::vector<RocPoint> abstention_roc(const std::vector<double>& scores,
                                     const std::vector<bool>& should_abstain,
                                     const std::vector<double>& thresholds);
std::vector<double> candidate_thresholds(const std::vector<double>& scores, ThresholdGrid grid);
std::vector<double> paper_threshold_grid();
// Index of the chosen point of `roc` under `rule`.
size_t choose_threshold(const std::vector<RocPoint>& roc, ThresholdRule rule, double target_fpr);
// Trapezoid of TPR over FPR, points sorted by (FPR, TPR); end points only if the ROC has them.
double roc_trapezoid(std::vector<RocPoint> roc);

struct DualThresholdOptions {
  ConformalOptions conformal;  // the set (paper: randomised RAPS, k_reg 5, λ 0.02)
  AbstentionScore score = AbstentionScore::neg_log_max_prob;
  ThresholdRule rule = ThresholdRule::youden;
  double target_fpr = 0.05;
  ThresholdGrid grid = ThresholdGrid::exact;
};

struct DualThresholdFit {
  std::vector<double> set_thresholds;  // conformal q (one, or one per class)
  double tau = 0.0;                    // abstain iff a(x) > tau
  // On the calibration split, at tau:
  double tpr = 0.0, fpr = 0.0, youden_j = 0.0, abstention_rate = 0.0;
  double detection_auroc = 0.0;  // exact, Mann-Whitney (NaN with one class only)
  std::vector<RocPoint> roc;     // the candidates' ROC on the calibration split
};

// seed: the calibration uniforms of randomised scores (the sets on the calibration split reuse
// them, so each calibration item's set is the one its own score was measured against).
DualThresholdFit fit_dual_threshold(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                                    const DualThresholdOptions& options, uint64_t seed);

// The test decisions: abstain iff a(x) > tau, else the conformal set. `labels` only for the oracle.
MethodOutput apply_dual_threshold(const torch::Tensor& test_probs, const DualThresholdFit& fit,
                                  const DualThresholdOptions& options, uint64_t seed,
                                  const torch::Tensor& labels = {});

// "Should abstain" (y ∉ C(x)) per item, and the detection quality of the abstention score on a
// labelled split at the fitted tau.
struct DetectionQuality {
  double tpr = 0.0, fpr = 0.0;
  double auroc = 0.0;            // exact
  double grid_auc = 0.0;         // paper: trapezoid over the paper grid, no end points
  double mean_grid_abstention = 0.0;  // paper's logged "abstention rate": the mean over the grid
};
DetectionQuality detection_quality(const torch::Tensor& probs, const torch::Tensor& labels,
                                   const DualThresholdFit& fit, const DualThresholdOptions& options,
                                   uint64_t seed);

}  // namespace attnlab::abstention
