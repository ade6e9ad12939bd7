// Conformal nonconformity scores for every (item, label) pair (notes §3 table, §2 RAPS formula).
// Larger = less conforming; a prediction set is {y : s(x, y) <= q}.
//
// With p sorted descending (ties broken by the lower class index, a stable sort, notes §7.10),
// o(y) the 1-based rank of y, C_j = p_(1) + ... + p_(j), and U ~ Unif(0,1) drawn once per item
// (row) and shared by all its labels (notes §7.11):
//   lac:  1 - p_y
//   aps:  C_o(y) - U·p_y                       (randomized; U = 0 when not randomized, notes §3)
//   raps: sum_{j<=o(y)} (p_(j) + lambda·1[j > k_reg]) - U·(p_y + lambda·1[o(y) > k_reg])   (§2)
//         = APS + lambda·(o(y) - k_reg)^+ when not randomized; lambda = 0 gives APS bit-for-bit.
//   top_k: o(y) - U                            (o(y) when not randomized)
// U comes from a std::mt19937_64 seeded with `seed`, one uniform per row in row order.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace attnlab::abstention {

enum class ScoreKind { lac, aps, raps, top_k };

struct ScoreParams {
  ScoreKind kind = ScoreKind::lac;
  bool randomized = false;  // aps, raps, top_k; ignored by lac
  int64_t k_reg = 0;        // raps
  double lambda = 0.0;      // raps, >= 0
};

// probs (N, K) probabilities -> (N, K) float64 scores. Throws std::invalid_argument on bad input.
torch::Tensor score_matrix(const torch::Tensor& probs, const ScoreParams& params, uint64_t seed);

// The scores of the given labels: (N) float64, the true-label column of score_matrix.
torch::Tensor label_scores(const torch::Tensor& probs, const torch::Tensor& labels,
                           const ScoreParams& params, uint64_t seed);

}  // namespace attnlab::abstention
