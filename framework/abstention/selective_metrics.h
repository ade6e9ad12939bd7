// Selective-classification metrics, `clean` conventions (notes §5, §6, §1.5 clean mode).
// Inputs are per-item vectors: confidence κ_i (higher = more confident, finite) and correct_i
// (the prediction on item i is right); ℓ_i = 1 - correct_i. Throws std::invalid_argument on
// empty or mismatched inputs and non-finite confidences.
//
// Risk-coverage (Geifman & El-Yaniv 2017, notes §5): items sorted by κ descending; for the top m,
//   coverage_m = m/n, risk_m = (1/m)·Σ_{i<=m} ℓ_(i), m = 1..n.
//   Ties in κ are grouped (notes §5 "group the tied items"): inside a tied group of size s with g
//   errors, the first j members contribute j·g/s errors (the expectation over orderings), so the
//   result never depends on the input order and a constant κ gives risk_m = r̂ for every m.
// AURC = (1/n)·Σ_m risk_m.  AURC* (discrete, n_c correct) = (1/n)·Σ_{m=n_c+1}^{n} (m - n_c)/m.
// E-AURC = AURC - AURC*.  AUARC = (1/n)·Σ_m (1 - risk_m) = 1 - AURC (clean; same discretisation).
// AUROC of κ for error detection: positive = correct, Mann-Whitney with tied pairs counted 1/2;
//   NaN when only one class is present (vlm-uncertainty would return 0.5; clean reports undefined).
// ECE (Guo et al. 2017, notes §5): M equal-width bins ((b-1)/M, b/M], the first closed at 0
//   ([0, 1/M]), so conf = b/M falls in bin b; ECE = Σ_b (n_b/n)·|acc_b - conf_b| over non-empty
//   bins, MCE = max of |acc_b - conf_b|. Confidences must lie in [0, 1].
// Penalty score (TrustSQL, notes §6): +1 answered & correct, 0 abstained, -c answered & wrong;
//   RS(c) = 100·Σ score_i / N (N counts abstentions). Chow/TrustSQL rule: answer iff κ > c/(1+c).
#pragma once

#include <cstdint>
#include <vector>

namespace attnlab::abstention {

// NaN when nothing was answered (notes §7.16).
double accuracy_on_answered(const std::vector<bool>& correct, const std::vector<bool>& answered);
double abstention_rate(const std::vector<bool>& answered);

struct RiskCoverageCurve {
  std::vector<double> coverage;  // m/n, m = 1..n
  std::vector<double> risk;      // risk_m
};
RiskCoverageCurve risk_coverage_curve(const std::vector<double>& confidence,
                                      const std::vector<bool>& correct);
// risk_m at m = ceil(coverage·n) (at least 1); coverage in (0, 1].
double selective_risk_at_coverage(const std::vector<double>& confidence,
                                  const std::vector<bool>& correct, double coverage);
double aurc(const std::vector<double>& confidence, const std::vector<bool>& correct);
double aurc_optimal(const std::vector<bool>& correct);
double eaurc(const std::vector<double>& confidence, const std::vector<bool>& correct);
double auarc(const std::vector<double>& confidence, const std::vector<bool>& correct);

double auroc_correct(const std::vector<double>& confidence, const std::vector<bool>& correct);

struct ReliabilityBin {
  double lower = 0.0, upper = 0.0;  // (lower, upper]; the first bin also holds 0
  int64_t count = 0;
  double mean_confidence = 0.0;     // NaN for an empty bin
  double accuracy = 0.0;            // NaN for an empty bin
};
struct CalibrationError {
  double ece = 0.0;
  double mce = 0.0;
  std::vector<ReliabilityBin> bins;  // all M bins, the reliability diagram's data
};
CalibrationError calibration_error(const std::vector<double>& confidence,
                                   const std::vector<bool>& correct, int64_t bins = 15);
// The 0-based bin of a confidence in [0, 1] under the convention above.
int64_t calibration_bin(double confidence, int64_t bins);

double penalty_score(const std::vector<bool>& correct, const std::vector<bool>& answered, double c);
double chow_threshold(double c);  // c / (1 + c)
struct PenaltyThreshold {
  double threshold = 0.0;  // answer iff κ > threshold; -inf = answer everything
  double score = 0.0;      // RS(c) at that threshold
};
// The empirical best threshold over -inf and every distinct κ; ties go to the larger threshold.
PenaltyThreshold optimal_penalty_threshold(const std::vector<double>& confidence,
                                           const std::vector<bool>& correct, double c);

}  // namespace attnlab::abstention
