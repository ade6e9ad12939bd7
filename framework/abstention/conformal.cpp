#include "framework/abstention/conformal.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

std::vector<double> calibrate(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                              const ConformalOptions& options, uint64_t seed) {
  if (cal_probs.defined() && cal_probs.dim() == 2 && cal_probs.size(0) == 0)
    throw std::invalid_argument("calibrate: empty calibration set");
  check_probs(cal_probs, "calibrate");
  check_labels(cal_labels, cal_probs.size(0), cal_probs.size(1), "calibrate");
  check_alpha(options.alpha, "calibrate");
  const auto scores = label_scores(cal_probs, cal_labels, options.score, seed);
  if (!options.class_conditional)
    return {conformal_quantile(to_vector(scores), options.alpha, options.quantile_mode)};
  const int64_t k = cal_probs.size(1);
  const auto labels = cal_labels.to(torch::kInt64);
  std::vector<double> thresholds(static_cast<size_t>(k), std::numeric_limits<double>::infinity());
  for (int64_t c = 0; c < k; ++c) {
    const auto mine = scores.index({labels == c});
    if (mine.numel() > 0)
      thresholds[static_cast<size_t>(c)] =
          conformal_quantile(to_vector(mine), options.alpha, options.quantile_mode);
  }
  return thresholds;
}

torch::Tensor sets_from_scores(const torch::Tensor& scores, const std::vector<double>& thresholds,
                               const torch::Tensor& probs, EmptySetPolicy policy) {
  if (!scores.defined() || scores.dim() != 2)
    throw std::invalid_argument("sets_from_scores: scores must be a 2-D (M, K) tensor");
  const int64_t k = scores.size(1);
  if (thresholds.size() != 1 && static_cast<int64_t>(thresholds.size()) != k)
    throw std::invalid_argument("sets_from_scores: need 1 or K = " + std::to_string(k) +
                                " thresholds, got " + std::to_string(thresholds.size()));
  for (double q : thresholds)
    if (std::isnan(q)) throw std::invalid_argument("sets_from_scores: a threshold is NaN");
  const auto q = torch::tensor(thresholds, torch::kFloat64).unsqueeze(0);  // (1, 1) or (1, K)
  auto sets = scores.to(torch::kFloat64) <= q;
  if (policy == EmptySetPolicy::fallback_top1) {
    if (!probs.defined() || probs.sizes() != scores.sizes())
      throw std::invalid_argument("sets_from_scores: the top-1 fallback needs probs shaped like scores");
    const auto empty = ~sets.any(1);
    if (empty.any().item<bool>()) {
      const auto top = probs.argmax(1);  // first maximum = lowest index on ties
      const auto rows = torch::nonzero(empty).squeeze(1);
      sets.index_put_({rows, top.index({rows})}, true);
    }
  }
  return sets;
}

torch::Tensor predict_sets(const torch::Tensor& test_probs, const std::vector<double>& thresholds,
                           const ConformalOptions& options, uint64_t seed) {
  check_probs(test_probs, "predict_sets");
  return sets_from_scores(score_matrix(test_probs, options.score, seed), thresholds, test_probs,
                          options.empty_set);
}

}  // namespace attnlab::abstention
