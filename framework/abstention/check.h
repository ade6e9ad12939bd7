// Input checks shared by the abstention functions: each throws std::invalid_argument with a message
// that names the function and the offending argument.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace attnlab::abstention {

// probs: 2-D (N, K), N >= 1, K >= 1, finite, each entry in [0, 1], rows summing to 1 within 1e-3.
void check_probs(const torch::Tensor& probs, const std::string& where);
// labels: 1-D integer tensor of length n with values in [0, K).
void check_labels(const torch::Tensor& labels, int64_t n, int64_t k, const std::string& where);
// alpha strictly inside (0, 1).
void check_alpha(double alpha, const std::string& where);
// Paired per-item vectors: same (non-zero) length, finite confidences.
void check_confidence(const std::vector<double>& confidence, const std::vector<bool>& correct,
                      const std::string& where);

}  // namespace attnlab::abstention
