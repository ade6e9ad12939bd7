#include "framework/abstention/dual_threshold.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "framework/abstention/check.h"
#include "framework/abstention/selective_metrics.h"

namespace attnlab::abstention {
namespace {

const double kInf = std::numeric_limits<double>::infinity();

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// y ∉ C(x) per item.
std::vector<bool> not_covered(const torch::Tensor& sets, const torch::Tensor& labels) {
  const torch::Tensor hit = sets.gather(1, labels.to(torch::kLong).view({-1, 1})).squeeze(1).contiguous();
  const bool* h = hit.data_ptr<bool>();
  std::vector<bool> out(static_cast<size_t>(hit.numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = !h[i];
  return out;
}

}  // namespace

std::vector<double> abstention_scores(const torch::Tensor& probs, const torch::Tensor& sets,
                                      AbstentionScore kind, const torch::Tensor& labels) {
  check_probs(probs, "abstention_scores");
  const torch::Tensor p = probs.to(torch::kFloat64);
  switch (kind) {
    case AbstentionScore::neg_log_max_prob:
      return to_vector(-std::get<0>(p.max(1)).log());
    case AbstentionScore::entropy:
      // 0·log 0 = 0: xlogy would be clearer, but 1.13 lacks it in C++; clamp_min keeps it finite.
      return to_vector(-(p * p.clamp_min(1e-300).log()).sum(1));
    case AbstentionScore::set_size:
      if (!sets.defined() || sets.sizes() != probs.sizes()) {
        throw std::invalid_argument("abstention_scores: set_size needs the (M, K) sets");
      }
      return to_vector(sets.sum(1));
    case AbstentionScore::oracle_neg_log_true_prob:
      if (!labels.defined()) {
        throw std::invalid_argument("abstention_scores: the oracle score reads the true labels; none given");
      }
      check_labels(labels, probs.size(0), probs.size(1), "abstention_scores");
      return to_vector(-(p.gather(1, labels.to(torch::kLong).view({-1, 1})).squeeze(1) + 1e-7).log());
  }
  throw std::invalid_argument("abstention_scores: unknown score");
}

std::vector<RocPoint> abstention_roc(const std::vector<double>& scores,
                                     const std::vector<bool>& should_abstain,
                                     const std::vector<double>& thresholds) {
  if (scores.empty() || scores.size() != should_abstain.size()) {
    throw std::invalid_argument("abstention_roc: scores and should_abstain must be non-empty and equally long");
  }
  // Sort once; for each threshold count the items above it by binary search.
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::vector<double> sorted(scores.size());
  std::vector<int64_t> positives_from(scores.size() + 1, 0);  // positives among sorted[i..]
  for (size_t i = scores.size(); i-- > 0;) {
    sorted[i] = scores[order[i]];
    positives_from[i] = positives_from[i + 1] + (should_abstain[order[i]] ? 1 : 0);
  }
  const auto n = static_cast<int64_t>(scores.size());
  const int64_t positives = positives_from[0], negatives = n - positives;
  std::vector<RocPoint> roc;
  roc.reserve(thresholds.size());
  for (double t : thresholds) {
    const size_t first_above = static_cast<size_t>(std::upper_bound(sorted.begin(), sorted.end(), t) - sorted.begin());
    const int64_t abstained = n - static_cast<int64_t>(first_above);
    const int64_t tp = positives_from[first_above], fp = abstained - tp;
    roc.push_back({t, positives ? double(tp) / positives : 0.0, negatives ? double(fp) / negatives : 0.0,
                   double(abstained) / n});
  }
  return roc;
}

std::vector<double> paper_threshold_grid() {
  std::vector<double> grid;
  auto linspace = [&](double a, double b, int n) {
    for (int i = 0; i < n; ++i) grid.push_back(a + (b - a) * i / (n - 1));
  };
  linspace(0.0, 0.1, 50);
  linspace(0.1, 1.0, 50);
  for (int i = 0; i < 50; ++i) grid.push_back(std::exp(std::log(5.0) * i / 49));
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  return grid;
}

std::vector<double> candidate_thresholds(const std::vector<double>& scores, ThresholdGrid grid) {
  if (grid == ThresholdGrid::paper_grid) return paper_threshold_grid();
  std::vector<double> t = scores;
  t.push_back(-kInf);
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

size_t choose_threshold(const std::vector<RocPoint>& roc, ThresholdRule rule, double target_fpr) {
  if (roc.empty()) throw std::invalid_argument("choose_threshold: empty ROC");
  size_t best = roc.size();
  for (size_t i = 0; i < roc.size(); ++i) {
    const RocPoint& r = roc[i];
    if (rule == ThresholdRule::youden) {
      const double j = r.tpr - r.fpr;
      const double best_j = best < roc.size() ? roc[best].tpr - roc[best].fpr : -kInf;
      if (j > best_j || (j == best_j && r.threshold > roc[best].threshold)) best = i;
    } else if (r.fpr <= target_fpr && (best == roc.size() || r.threshold < roc[best].threshold)) {
      best = i;
    }
  }
  if (best == roc.size()) {  // no candidate meets the FPR budget: abstain as little as possible
    best = static_cast<size_t>(std::max_element(roc.begin(), roc.end(), [](const RocPoint& a, const RocPoint& b) {
                                 return a.threshold < b.threshold;
                               }) - roc.begin());
  }
  return best;
}

double roc_trapezoid(std::vector<RocPoint> roc) {
  std::sort(roc.begin(), roc.end(), [](const RocPoint& a, const RocPoint& b) {
    return a.fpr != b.fpr ? a.fpr < b.fpr : a.tpr < b.tpr;
  });
  double area = 0.0;
  for (size_t i = 1; i < roc.size(); ++i) area += (roc[i].fpr - roc[i - 1].fpr) * (roc[i].tpr + roc[i - 1].tpr) / 2;
  return area;
}

DualThresholdFit fit_dual_threshold(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                                    const DualThresholdOptions& options, uint64_t seed) {
  if (options.rule == ThresholdRule::target_fpr && !(options.target_fpr >= 0.0 && options.target_fpr <= 1.0)) {
    throw std::invalid_argument("fit_dual_threshold: target_fpr must lie in [0, 1]");
  }
  DualThresholdFit fit;
  fit.set_thresholds = calibrate(cal_probs, cal_labels, options.conformal, seed);
  const torch::Tensor sets = predict_sets(cal_probs, fit.set_thresholds, options.conformal, seed);
  const std::vector<bool> positive = not_covered(sets, cal_labels);
  const std::vector<double> scores = abstention_scores(cal_probs, sets, options.score, cal_labels);
  fit.roc = abstention_roc(scores, positive, candidate_thresholds(scores, options.grid));
  const RocPoint& chosen = fit.roc[choose_threshold(fit.roc, options.rule, options.target_fpr)];
  fit.tau = chosen.threshold;
  fit.tpr = chosen.tpr;
  fit.fpr = chosen.fpr;
  fit.youden_j = chosen.tpr - chosen.fpr;
  fit.abstention_rate = chosen.abstention_rate;
  fit.detection_auroc = auroc_correct(scores, positive);
  return fit;
}

MethodOutput apply_dual_threshold(const torch::Tensor& test_probs, const DualThresholdFit& fit,
                                  const DualThresholdOptions& options, uint64_t seed, const torch::Tensor& labels) {
  MethodOutput out;
  out.method = "dual_threshold";
  out.sets = predict_sets(test_probs, fit.set_thresholds, options.conformal, seed);
  out.decisions = decisions_from_sets(out.sets);
  const std::vector<double> scores = abstention_scores(test_probs, out.sets, options.score, labels);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > fit.tau) {
      out.decisions[i] = Decision::abstain;
      out.sets[static_cast<int64_t>(i)].fill_(false);
    }
  }
  return out;
}

DetectionQuality detection_quality(const torch::Tensor& probs, const torch::Tensor& labels,
                                   const DualThresholdFit& fit, const DualThresholdOptions& options,
                                   uint64_t seed) {
  check_labels(labels, probs.size(0), probs.size(1), "detection_quality");
  const torch::Tensor sets = predict_sets(probs, fit.set_thresholds, options.conformal, seed);
  const std::vector<bool> positive = not_covered(sets, labels);
  const std::vector<double> scores = abstention_scores(probs, sets, options.score, labels);
  DetectionQuality q;
  const RocPoint at_tau = abstention_roc(scores, positive, {fit.tau}).front();
  q.tpr = at_tau.tpr;
  q.fpr = at_tau.fpr;
  q.auroc = auroc_correct(scores, positive);
  const std::vector<RocPoint> grid = abstention_roc(scores, positive, paper_threshold_grid());
  q.grid_auc = roc_trapezoid(grid);
  for (const auto& r : grid) q.mean_grid_abstention += r.abstention_rate / static_cast<double>(grid.size());
  return q;
}

}  // namespace attnlab::abstention
