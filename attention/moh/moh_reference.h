// A plain reference for MixtureOfHeadsAttention, the oracle its tests compare against: explicit
// loops over batch, token, head and key in double, written straight from the equations in moh.h and
// router.h (softmaxes max-subtracted, top-K by sorting with ties to the lower head index). Uses the
// module's own weights; ignores dropout and the forward context; not differentiable.
// x (B, T, D); key_padding_mask (B, T) bool, true = padding, may be undefined.
#pragma once

#include <torch/torch.h>

#include "attention/moh/moh.h"

namespace attnlab::attention {

// Gates (B, T, H) in double, heads ordered shared then routed.
torch::Tensor moh_reference_gates(const torch::Tensor& x, const MixtureOfHeadsAttention& module);

// The full forward (B, T, D), returned in x's dtype and device.
torch::Tensor moh_reference(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                            bool causal, const MixtureOfHeadsAttention& module);

// l_aux = h_r * sum_i P_i f_i over non-padded tokens (learned router, K > 0); 0 if none is real.
double moh_reference_balance(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                             const MixtureOfHeadsAttention& module);

}  // namespace attnlab::attention
