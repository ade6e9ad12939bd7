// A plain reference for MultiHeadAttention, the oracle its tests compare against: explicit loops
// over batch, head, query and key, accumulating in double, with an explicit max-subtracted softmax
// over the unmasked keys. Uses the module's own q/k/v/out weights; ignores dropout (compare in eval
// mode or with dropout 0) and the forward context. x (B, T, D) -> (B, T, D) in x's dtype and
// device. key_padding_mask (B, T) bool, true = padding, may be undefined. Not differentiable; O(B
// T^2 D).
#pragma once

#include <torch/torch.h>

#include "attention/mha/mha.h"

namespace attnlab::attention {

torch::Tensor mha_reference(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                            bool causal, const MultiHeadAttention& module);

}  // namespace attnlab::attention
