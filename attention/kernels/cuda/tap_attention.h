// Softmax attention with the tap fused in (DESIGN.md §3 and §7): per query row i of head (b, h),
//   s_ij = scale * q_i . k_j + P_ij            P: the optional score perturbation (AT / VAT)
//   p_ij = softmax_j(s_ij) over the allowed keys (not padded; j <= i when causal)
//   o_i  = sum_j p_ij v_j,   H_i = -sum_j p_ij log p_ij = lse_i - sum_j p_ij s_ij
// in one pass over the keys with the online softmax (running max m, sum l, and a = sum e^(s-m) s,
// all rescaled together), so the scores are never stored. A row with no allowed key gives o = 0,
// H = 0 and lse = -inf (mha's rule for fully masked rows). Backward, per row, with upstream dO_i
// and dH_i, D_i = dO_i . o_i and mu_i = lse_i - H_i:
//   ds_ij = p_ij (dO_i . v_j - D_i) - dH_i p_ij (s_ij - mu_i)
//   dq_i = scale sum_j ds_ij k_j,  dk_j += scale ds_ij q_i,  dv_j += p_ij dO_i,  dP_ij = ds_ij.
// Head-sparse rows (MoH): with `rows` given, head (b, h) computes only its first count[b, h]
// query positions listed in rows[b, h, :] (slot r -> query position rows[b, h, r]); outputs are
// per slot, dq is written at the query position.
// One warp per (b, h, slot); lanes split the head dimension (d <= 128). dk and dv are summed
// with float atomics, so their last bits depend on scheduling.
// Shapes: q (B, H, Tq, d), k, v (B, H, Tk, d) of ElementType, contiguous; P, dP (B, H, Tq, Tk)
// float; key_padding (B, Tk) uint8, 1 = padding, or null; rows (B, H, n) int64 and count (B, H)
// int64, or null (then n = Tq, slot r = position r); out, dO (B, H, n, d) ElementType; lse,
// entropy, dH (B, H, n) float; dq (B, H, Tq, d), dk, dv (B, H, Tk, d) float, zeroed by the caller.
#pragma once

#include <cuda_runtime_api.h>

#include "attention/kernels/cuda/kernel_types.h"

namespace attnlab::attention::kernels {

struct TapAttentionShape {
  int64_t batch = 0, heads = 0, queries = 0, keys = 0, head_dim = 0;
  int64_t slots = 0;  // n: rows per (b, h) computed (== queries when dense)
  float scale = 1.0f;
  bool causal = false;  // key j is allowed for query position i iff j <= i
};

struct TapAttentionInputs {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  const float* perturbation = nullptr;   // may be null; dense rows only
  const uint8_t* key_padding = nullptr;  // may be null
  const int64_t* rows = nullptr;         // may be null (dense)
  const int64_t* row_count = nullptr;    // with rows
};

bool tap_attention_supports(int64_t head_dim);  // 1 <= d <= 128

KernelError tap_attention_forward(const TapAttentionInputs& in, ElementType type, void* out,
                                  float* lse, float* entropy, const TapAttentionShape& shape,
                                  cudaStream_t stream);

// d_out (ElementType) and d_entropy (float, may be null) are the upstream gradients; d_perturbation
// may be null when there is no perturbation.
KernelError tap_attention_backward(const TapAttentionInputs& in, ElementType type, const void* out,
                                   const float* lse, const float* entropy, const void* d_out,
                                   const float* d_entropy, float* dq, float* dk, float* dv,
                                   float* d_perturbation, const TapAttentionShape& shape,
                                   cudaStream_t stream);

}  // namespace attnlab::attention::kernels
