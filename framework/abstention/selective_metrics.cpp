#include "framework/abstention/selective_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Item indices sorted by confidence, descending (stable).
std::vector<size_t> by_confidence_descending(const std::vector<double>& confidence) {
  std::vector<size_t> order(confidence.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return confidence[a] > confidence[b]; });
  return order;
}

void check_answered(const std::vector<bool>& correct, const std::vector<bool>& answered,
                    const char* where) {
  if (answered.empty()) throw std::invalid_argument(std::string(where) + ": no items");
  if (correct.size() != answered.size())
    throw std::invalid_argument(std::string(where) + ": correct and answered differ in length");
}

}  // namespace

double accuracy_on_answered(const std::vector<bool>& correct, const std::vector<bool>& answered) {
  check_answered(correct, answered, "accuracy_on_answered");
  double right = 0.0, total = 0.0;
  for (size_t i = 0; i < answered.size(); ++i)
    if (answered[i]) {
      total += 1.0;
      right += correct[i] ? 1.0 : 0.0;
    }
  return total == 0.0 ? kNaN : right / total;
}

double abstention_rate(const std::vector<bool>& answered) {
  if (answered.empty()) throw std::invalid_argument("abstention_rate: no items");
  const auto answered_count = std::count(answered.begin(), answered.end(), true);
  return 1.0 - static_cast<double>(answered_count) / static_cast<double>(answered.size());
}

RiskCoverageCurve risk_coverage_curve(const std::vector<double>& confidence,
                                      const std::vector<bool>& correct) {
  check_confidence(confidence, correct, "risk_coverage_curve");
  const size_t n = confidence.size();
  const auto order = by_confidence_descending(confidence);
  RiskCoverageCurve curve;
  curve.coverage.reserve(n);
  curve.risk.reserve(n);
  double errors_before = 0.0;
  for (size_t start = 0; start < n;) {
    size_t end = start;
    double group_errors = 0.0;
    while (end < n && confidence[order[end]] == confidence[order[start]]) {
      group_errors += correct[order[end]] ? 0.0 : 1.0;
      ++end;
    }
    const double size = static_cast<double>(end - start);
    for (size_t m = start + 1; m <= end; ++m) {
      const double inside = static_cast<double>(m - start);
      curve.coverage.push_back(static_cast<double>(m) / static_cast<double>(n));
      curve.risk.push_back((errors_before + inside * group_errors / size) / static_cast<double>(m));
    }
    errors_before += group_errors;
    start = end;
  }
  return curve;
}

double selective_risk_at_coverage(const std::vector<double>& confidence,
                                  const std::vector<bool>& correct, double coverage) {
  if (!(coverage > 0.0 && coverage <= 1.0))
    throw std::invalid_argument("selective_risk_at_coverage: coverage must lie in (0, 1]");
  const auto curve = risk_coverage_curve(confidence, correct);
  const double n = static_cast<double>(curve.risk.size());
  auto m = static_cast<size_t>(std::ceil(coverage * n - 1e-9));
  m = std::clamp<size_t>(m, 1, curve.risk.size());
  return curve.risk[m - 1];
}

double aurc(const std::vector<double>& confidence, const std::vector<bool>& correct) {
  const auto curve = risk_coverage_curve(confidence, correct);
  return std::accumulate(curve.risk.begin(), curve.risk.end(), 0.0) /
         static_cast<double>(curve.risk.size());
}

double aurc_optimal(const std::vector<bool>& correct) {
  if (correct.empty()) throw std::invalid_argument("aurc_optimal: no items");
  const auto n = static_cast<int64_t>(correct.size());
  const auto n_correct = static_cast<int64_t>(std::count(correct.begin(), correct.end(), true));
  double sum = 0.0;
  for (int64_t m = n_correct + 1; m <= n; ++m)
    sum += static_cast<double>(m - n_correct) / static_cast<double>(m);
  return sum / static_cast<double>(n);
}

double eaurc(const std::vector<double>& confidence, const std::vector<bool>& correct) {
  return aurc(confidence, correct) - aurc_optimal(correct);
}

double auarc(const std::vector<double>& confidence, const std::vector<bool>& correct) {
  const auto curve = risk_coverage_curve(confidence, correct);
  double sum = 0.0;
  for (double r : curve.risk) sum += 1.0 - r;
  return sum / static_cast<double>(curve.risk.size());
}

double auroc_correct(const std::vector<double>& confidence, const std::vector<bool>& correct) {
  check_confidence(confidence, correct, "auroc_correct");
  const size_t n = confidence.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return confidence[a] < confidence[b]; });
  double positives = 0.0, rank_sum = 0.0;
  for (size_t start = 0; start < n;) {
    size_t end = start;
    while (end < n && confidence[order[end]] == confidence[order[start]]) ++end;
    const double mid_rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2.0;
    for (size_t i = start; i < end; ++i)
      if (correct[order[i]]) {
        positives += 1.0;
        rank_sum += mid_rank;
      }
    start = end;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0.0 || negatives == 0.0) return kNaN;
  return (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
}

int64_t calibration_bin(double confidence, int64_t bins) {
  if (bins < 1) throw std::invalid_argument("calibration_bin: need at least one bin");
  if (!(confidence >= 0.0 && confidence <= 1.0))
    throw std::invalid_argument("calibration_bin: confidence must lie in [0, 1]");
  const auto edge = [bins](int64_t j) { return static_cast<double>(j) / static_cast<double>(bins); };
  auto b = static_cast<int64_t>(std::ceil(confidence * static_cast<double>(bins))) - 1;
  b = std::clamp<int64_t>(b, 0, bins - 1);
  while (b > 0 && confidence <= edge(b)) --b;              // bin b is (edge(b), edge(b+1)]
  while (b < bins - 1 && confidence > edge(b + 1)) ++b;
  return b;
}

CalibrationError calibration_error(const std::vector<double>& confidence,
                                   const std::vector<bool>& correct, int64_t bins) {
  check_confidence(confidence, correct, "calibration_error");
  if (bins < 1) throw std::invalid_argument("calibration_error: need at least one bin");
  std::vector<double> conf_sum(static_cast<size_t>(bins), 0.0), right(static_cast<size_t>(bins), 0.0);
  CalibrationError result;
  result.bins.resize(static_cast<size_t>(bins));
  for (size_t i = 0; i < confidence.size(); ++i) {
    const auto b = static_cast<size_t>(calibration_bin(confidence[i], bins));
    result.bins[b].count += 1;
    conf_sum[b] += confidence[i];
    right[b] += correct[i] ? 1.0 : 0.0;
  }
  const double n = static_cast<double>(confidence.size());
  for (size_t b = 0; b < result.bins.size(); ++b) {
    auto& bin = result.bins[b];
    bin.lower = static_cast<double>(b) / static_cast<double>(bins);
    bin.upper = static_cast<double>(b + 1) / static_cast<double>(bins);
    if (bin.count == 0) {
      bin.mean_confidence = bin.accuracy = kNaN;
      continue;
    }
    const double count = static_cast<double>(bin.count);
    bin.mean_confidence = conf_sum[b] / count;
    bin.accuracy = right[b] / count;
    const double gap = std::abs(bin.accuracy - bin.mean_confidence);
    result.ece += count / n * gap;
    result.mce = std::max(result.mce, gap);
  }
  return result;
}

double penalty_score(const std::vector<bool>& correct, const std::vector<bool>& answered, double c) {
  check_answered(correct, answered, "penalty_score");
  if (!(c >= 0.0) || !std::isfinite(c))
    throw std::invalid_argument("penalty_score: the penalty c must be finite and >= 0");
  double total = 0.0;
  for (size_t i = 0; i < answered.size(); ++i)
    if (answered[i]) total += correct[i] ? 1.0 : -c;
  return 100.0 * total / static_cast<double>(answered.size());
}

double chow_threshold(double c) {
  if (!(c >= 0.0) || !std::isfinite(c))
    throw std::invalid_argument("chow_threshold: the penalty c must be finite and >= 0");
  return c / (1.0 + c);
}

PenaltyThreshold optimal_penalty_threshold(const std::vector<double>& confidence,
                                           const std::vector<bool>& correct, double c) {
  check_confidence(confidence, correct, "optimal_penalty_threshold");
  chow_threshold(c);  // validates c
  const size_t n = confidence.size();
  const auto order = by_confidence_descending(confidence);
  // Answering the top m items (a whole tie group at a time) = threshold at the next lower κ.
  // Scan from "answer nothing" (threshold = max κ) down to "answer everything" (-inf); a later
  // candidate replaces the best only if strictly better, so ties keep the larger threshold.
  PenaltyThreshold best{confidence[order[0]], 0.0};
  double total = 0.0;
  for (size_t start = 0; start < n;) {
    size_t end = start;
    while (end < n && confidence[order[end]] == confidence[order[start]]) {
      total += correct[order[end]] ? 1.0 : -c;
      ++end;
    }
    const double threshold = end < n ? confidence[order[end]] : -std::numeric_limits<double>::infinity();
    const double score = 100.0 * total / static_cast<double>(n);
    if (score > best.score) best = {threshold, score};
    start = end;
  }
  return best;
}

}  // namespace attnlab::abstention
