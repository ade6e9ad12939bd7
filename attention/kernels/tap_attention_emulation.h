// The fused tap attention kernels (cuda/tap_attention.h) replayed with ATen ops on any device:
// the online softmax with the running entropy term, one key at a time, and the backward formulas
// (ds = p (dO.v - D) - dH p (s - mu)), vectorised over rows exactly as the CUDA warps run them.
// CPU tests check this replay against plain masked softmax attention and autograd, so the
// algorithm and its gradients are tested on every machine; GPU tests compare the kernels with
// the ATen path. Not a fast path (Tk small steps).
// Shapes as in cuda/tap_attention.h: q (B, H, Tq, d); k, v (B, H, Tk, d); perturbation
// (B, H, Tq, Tk) or undefined; key_padding (B, Tk) bool (true = padding) or undefined; rows
// (B, H, n) int64 and row_count (B, H) int64, or both undefined (dense: n = Tq).
#pragma once

#include <torch/torch.h>

namespace attnlab::attention::kernels {

struct TapAttentionArgs {
  torch::Tensor q, k, v, perturbation, key_padding, rows, row_count;
  bool causal = false;
  double scale = 1.0;
};

struct TapAttentionResult {
  torch::Tensor out;      // (B, H, n, d); zeros for dead rows and padding slots
  torch::Tensor lse;      // (B, H, n); -inf for dead rows and padding slots
  torch::Tensor entropy;  // (B, H, n); 0 for dead rows and padding slots
};
TapAttentionResult tap_attention_emulated(const TapAttentionArgs& args);

struct TapAttentionGrads {
  torch::Tensor q, k, v, perturbation;  // shapes of the inputs; perturbation undefined if none
};
// d_out (B, H, n, d); d_entropy (B, H, n) or undefined.
TapAttentionGrads tap_attention_backward_emulated(const TapAttentionArgs& args,
                                                  const TapAttentionResult& result,
                                                  const torch::Tensor& d_out,
                                                  const torch::Tensor& d_entropy);

}  // namespace attnlab::attention::kernels
