#include "framework/abstention/scores.h"

#include <random>
#include <stdexcept>
#include <vector>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

torch::Tensor row_uniforms(int64_t n, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> u(static_cast<size_t>(n));
  for (auto& v : u) v = uniform(engine);
  return torch::tensor(u, torch::kFloat64).unsqueeze(1);  // (N, 1)
}

}  // namespace

torch::Tensor score_matrix(const torch::Tensor& probs, const ScoreParams& params, uint64_t seed) {
  check_probs(probs, "score_matrix");
  if (params.kind == ScoreKind::raps && (params.lambda < 0.0 || params.k_reg < 0))
    throw std::invalid_argument("score_matrix: RAPS needs lambda >= 0 and k_reg >= 0");
  const auto p = probs.to(torch::kFloat64).contiguous();
  if (params.kind == ScoreKind::lac) return 1.0 - p;

  const int64_t n = p.size(0);
  const int64_t k = p.size(1);
  const auto u = params.randomized ? row_uniforms(n, seed) : torch::zeros({n, 1}, torch::kFloat64);
  // Stable descending sort: equal probabilities keep the lower class index first.
  auto [sorted, order] = torch::sort(p, /*stable=*/true, /*dim=*/1, /*descending=*/true);
  const auto rank = torch::arange(1, k + 1, torch::kFloat64).unsqueeze(0).expand({n, k});  // o
  torch::Tensor sorted_scores;
  if (params.kind == ScoreKind::top_k) {
    sorted_scores = rank - u;
  } else {
    torch::Tensor mass = sorted;
    if (params.kind == ScoreKind::raps)
      mass = sorted + params.lambda * (rank > static_cast<double>(params.k_reg)).to(torch::kFloat64);
    sorted_scores = torch::cumsum(mass, 1) - u * mass;
  }
  return torch::empty_like(p).scatter_(1, order, sorted_scores);
}

torch::Tensor label_scores(const torch::Tensor& probs, const torch::Tensor& labels,
                           const ScoreParams& params, uint64_t seed) {
  check_probs(probs, "label_scores");
  check_labels(labels, probs.size(0), probs.size(1), "label_scores");
  return score_matrix(probs, params, seed).gather(1, labels.to(torch::kInt64).unsqueeze(1)).squeeze(1);
}

}  // namespace attnlab::abstention
