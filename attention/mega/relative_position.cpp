// Mega's simple (Toeplitz) and rotary relative position biases; see relative_position.h.
#include "attention/mega/relative_position.h"

#include <cmath>

namespace attnlab::attention {
namespace {

void check_length(int64_t length, int64_t max_positions) {
  TORCH_CHECK(length >= 1, "mega relative position bias: length must be >= 1 (got ", length, ")");
  TORCH_CHECK(length <= max_positions, "mega: sequence length ", length, " exceeds max_positions ",
              max_positions,
              " (the relative position bias table); raise max_positions or use chunk_size");
}

}  // namespace

SimpleRelativePositionBiasImpl::SimpleRelativePositionBiasImpl(int64_t max_positions)
    : max_positions_(max_positions) {
  TORCH_CHECK(max_positions > 0, "mega: max_positions must be positive (got ", max_positions, ")");
  weight_ = register_parameter("rel_pos_bias", torch::randn({2 * max_positions - 1}) * 0.02);
}

torch::Tensor SimpleRelativePositionBiasImpl::forward(int64_t length) const {
  check_length(length, max_positions_);
  // index[i][j] = M-1 + j - i: a gather keeps the gradient flowing into w.
  const auto pos =
      torch::arange(length, torch::TensorOptions().dtype(torch::kLong).device(weight_.device()));
  const auto index = (max_positions_ - 1) + pos.view({1, length}) - pos.view({length, 1});  // (L,L)
  return weight_.index_select(0, index.reshape({-1})).view({length, length});
}

RotaryRelativePositionBiasImpl::RotaryRelativePositionBiasImpl(int64_t dim, int64_t max_positions)
    : dim_(dim), max_positions_(max_positions) {
  TORCH_CHECK(max_positions > 0, "mega: max_positions must be positive (got ", max_positions, ")");
  TORCH_CHECK(dim > 0 && dim % 2 == 0, "mega: rotary relative bias needs an even z_dim (got ", dim,
              ")");
  alpha_ = register_parameter("alpha", torch::randn({1, dim}) * 0.02);
  beta_ = register_parameter("beta", torch::randn({1, dim}) * 0.02);
}

torch::Tensor RotaryRelativePositionBiasImpl::rotate(const torch::Tensor& v, int64_t length) const {
  const int64_t half = dim_ / 2;
  const auto opts = v.options();
  const auto inv_freq =
      torch::exp(torch::arange(half, opts) * (-std::log(10000.0) / static_cast<double>(half)));
  const auto angle = torch::arange(length, opts).view({length, 1}) * inv_freq.view({1, half});
  const auto sin = torch::sin(angle), cos = torch::cos(angle);         // (L, z/2)
  const auto x1 = v.narrow(1, 0, half), x2 = v.narrow(1, half, half);  // (1, z/2)
  return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, 1);    // (L, z)
}

torch::Tensor RotaryRelativePositionBiasImpl::forward(int64_t length) const {
  check_length(length, max_positions_);
  return torch::matmul(rotate(alpha_, length), rotate(beta_, length).t());  // (L,L)
}

}  // namespace attnlab::attention
