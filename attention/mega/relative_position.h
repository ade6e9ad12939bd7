// Mega's relative position biases (fairseq `relative_positional_bias.py`, notes §2.3), each a
// (L, L) matrix added to the single-head attention scores, b[i][j] a function of j - i only:
//   simple: a learned vector w of length 2M-1, b[i][j] = w[M-1 + j - i]   (Toeplitz), L <= M.
//   rotary: learned a, b in R^z; b[i][j] = <R_i a, R_j b> with RoPE rotations R_t (base 10000,
//           halves [x1 | x2] rotated as [x1 cos - x2 sin | x2 cos + x1 sin]); L <= M here too
//           (fairseq's rotary extrapolates; one limit for both kinds keeps recipe checks simple).
// M = max_positions (the chunk size when Mega-chunk is on). Parameters, init N(0, 0.02):
//   simple: rel_pos_bias (2M-1);  rotary: alpha (1, z), beta (1, z)   (fairseq names).
#pragma once

#include <torch/torch.h>

namespace attnlab::attention {

class SimpleRelativePositionBiasImpl : public torch::nn::Module {
 public:
  explicit SimpleRelativePositionBiasImpl(int64_t max_positions);
  torch::Tensor forward(int64_t length) const;  // (L, L)
  int64_t max_positions() const { return max_positions_; }
  torch::Tensor weight() const { return weight_; }

 private:
  int64_t max_positions_;
  torch::Tensor weight_;  // (2M-1)
};
TORCH_MODULE(SimpleRelativePositionBias);

class RotaryRelativePositionBiasImpl : public torch::nn::Module {
 public:
  RotaryRelativePositionBiasImpl(int64_t dim, int64_t max_positions);
  torch::Tensor forward(int64_t length) const;  // (L, L)
  int64_t max_positions() const { return max_positions_; }

 private:
  // RoPE of the row vector v (1, z) at positions 0..L-1: (L, z).
  torch::Tensor rotate(const torch::Tensor& v, int64_t length) const;

  int64_t dim_, max_positions_;
  torch::Tensor alpha_, beta_;  // (1, z) each
};
TORCH_MODULE(RotaryRelativePositionBias);

}  // namespace attnlab::attention
