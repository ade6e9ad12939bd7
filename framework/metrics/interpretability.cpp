// Attention interpretability metrics.
#include "framework/metrics/interpretability.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framework/metrics/classification_metrics.h"

namespace attnlab::metrics {
namespace {

bool both_classes(const std::vector<int>& truth) {
  const auto positives = std::count(truth.begin(), truth.end(), 1);
  return positives > 0 && positives < static_cast<int64_t>(truth.size());
}

// (recall, precision) at every distinct score, thresholds descending, after the point (0, 1).
std::vector<std::pair<double, double>> pr_points(const std::vector<double>& scores, const std::vector<int>& truth) {
  TORCH_CHECK(scores.size() == truth.size(), "scores and truth differ in length");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  const double positives = static_cast<double>(std::count(truth.begin(), truth.end(), 1));
  std::vector<std::pair<double, double>> points = {{0.0, 1.0}};
  double tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    (truth[order[i]] == 1 ? tp : fp) += 1;
    const bool last_of_tie = i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]];
    if (last_of_tie) points.emplace_back(tp / positives, tp / (tp + fp));
  }
  return points;
}

}  // namespace

std::optional<double> pearson(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) return std::nullopt;
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa <= 0 || sbb <= 0) return std::nullopt;
  return sab / std::sqrt(saa * sbb);
}

std::optional<double> kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) return std::nullopt;
  // O(n^2) over pairs: instances are sentences or bags, short enough.
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0, pairs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = i + 1; j < a.size(); ++j) {
      ++pairs;
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0) ++ties_a;
      if (db == 0) ++ties_b;
      if (da == 0 || db == 0) continue;
      (da * db > 0 ? concordant : discordant) += 1;
    }
  }
  const double denominator = std::sqrt((pairs - ties_a) * (pairs - ties_b));
  if (denominator <= 0) return std::nullopt;
  return (concordant - discordant) / denominator;
}

std::optional<double> token_auprc(const std::vector<double>& scores, const std::vector<int>& truth) {
  if (!both_classes(truth)) return std::nullopt;
  const auto points = pr_points(scores, truth);
  double area = 0.0;
  for (size_t k = 1; k < points.size(); ++k)
    area += (points[k].first - points[k - 1].first) * (points[k].second + points[k - 1].second) / 2.0;
  return area;
}

std::optional<double> average_precision(const std::vector<double>& scores, const std::vector<int>& truth) {
  if (!both_classes(truth)) return std::nullopt;
  const auto points = pr_points(scores, truth);
  double ap = 0.0;
  for (size_t k = 1; k < points.size(); ++k) ap += (points[k].first - points[k - 1].first) * points[k].second;
  return ap;
}

std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<int>& truth) {
  if (!both_classes(truth)) return std::nullopt;
  TORCH_CHECK(scores.size() == truth.size(), "scores and truth differ in length");
  std::vector<int64_t> labels(truth.begin(), truth.end());
  return auroc_from_scores(torch::tensor(scores, torch::kDouble), torch::tensor(labels, torch::kLong));
}

std::vector<double> gradient_importance(const torch::Tensor& grad, const torch::Tensor& embeddings,
                                        const torch::Tensor& valid) {
  TORCH_CHECK(grad.sizes() == embeddings.sizes() && grad.dim() == 2 && valid.dim() == 1 &&
                  valid.size(0) == grad.size(0),
              "gradient importance needs grad and embeddings (T, D) and valid (T)");
  const auto imp = (grad.to(torch::kDouble) * embeddings.to(torch::kDouble)).sum(1).abs().masked_select(valid.to(torch::kBool));
  const double total = imp.sum().item<double>();
  const auto normalised = total > 0 ? imp / total : imp;
  const auto contiguous = normalised.contiguous();
  return {contiguous.data_ptr<double>(), contiguous.data_ptr<double>() + contiguous.numel()};
}

InstanceSummary summarize(const std::vector<std::optional<double>>& values) {
  InstanceSummary s;
  double sum = 0.0;
  for (const auto& v : values) {
    if (!v) {
      ++s.skipped;
      continue;
    }
    sum += *v;
    ++s.counted;
  }
  if (s.counted > 0) s.mean = sum / static_cast<double>(s.counted);
  return s;
}

}  // namespace attnlab::metrics
