#include "framework/abstention/check.h"

#include <cmath>
#include <stdexcept>

namespace attnlab::abstention {

void check_probs(const torch::Tensor& probs, const std::string& where) {
  if (!probs.defined() || probs.dim() != 2)
    throw std::invalid_argument(where + ": probabilities must be a 2-D (N, K) tensor");
  if (probs.size(0) == 0) throw std::invalid_argument(where + ": probabilities have no rows (empty set)");
  if (probs.size(1) == 0) throw std::invalid_argument(where + ": probabilities have no classes");
  if (!probs.is_floating_point())
    throw std::invalid_argument(where + ": probabilities must be a floating-point tensor");
  const auto p = probs.to(torch::kFloat64);
  if (!torch::isfinite(p).all().item<bool>())
    throw std::invalid_argument(where + ": probabilities contain NaN or infinity");
  if ((p < 0).any().item<bool>() || (p > 1).any().item<bool>())
    throw std::invalid_argument(where + ": probabilities must lie in [0, 1]");
  if (((p.sum(1) - 1.0).abs() > 1e-3).any().item<bool>())
    throw std::invalid_argument(where + ": each probability row must sum to 1 (within 1e-3)");
}

void check_labels(const torch::Tensor& labels, int64_t n, int64_t k, const std::string& where) {
  if (!labels.defined() || labels.dim() != 1)
    throw std::invalid_argument(where + ": labels must be a 1-D tensor");
  if (labels.is_floating_point() || labels.scalar_type() == torch::kBool)
    throw std::invalid_argument(where + ": labels must be an integer tensor");
  if (labels.size(0) != n)
    throw std::invalid_argument(where + ": " + std::to_string(labels.size(0)) + " labels for " +
                                std::to_string(n) + " probability rows");
  if (n > 0 && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() >= k))
    throw std::invalid_argument(where + ": labels must lie in [0, " + std::to_string(k) + ")");
}

void check_alpha(double alpha, const std::string& where) {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw std::invalid_argument(where + ": alpha must lie strictly inside (0, 1)");
}

void check_confidence(const std::vector<double>& confidence, const std::vector<bool>& correct,
                      const std::string& where) {
  if (confidence.empty()) throw std::invalid_argument(where + ": no items");
  if (confidence.size() != correct.size())
    throw std::invalid_argument(where + ": " + std::to_string(confidence.size()) +
                                " confidences for " + std::to_string(correct.size()) + " outcomes");
  for (double c : confidence)
    if (!std::isfinite(c)) throw std::invalid_argument(where + ": confidence is NaN or infinite");
}

}  // namespace attnlab::abstention
