// MoH head routers (Jin et al. 2024, arXiv 2410.11842; official code, notes moh_mega.md §1.2-1.4).
// A router maps each token to one gate per head, heads ordered shared (0..h_s-1) then routed
// (h_s..h-1). Shapes: x (B, T, C); q (B, H, T, d_h); valid (B, T) bool, true = real token (or
// undefined = all real); gates and selected (B, T, H).
//
// learned (ViT/DiT code):  p = softmax(W_r x) over the h_r routed heads, S = top-K(p),
//   g_r = p*1[S] / max(sum(p*1[S]), eps) * K,   g_s = softmax(W_s x) * h_s  (h_s == 1: g_s = 1),
//   [a1, a2] = softmax(W_h x) * 2, g_s *= a1, g_r *= a2  (only when h_s > 0 and K > 0).
//   K == 0 (all-shared layer): g = g_s, no a.
// query_norm (MoH-LLaMA3): logit_i = ||q_i||_2 / std_routed(||q||), p = softmax, S = top-K(p);
//   binary gates: shared 1, selected routed 1, others 0. No parameters, no balance loss.
// Load balance (training): P_i = mean_t p_{t,i}, f_i = mean_t 1[i in S_t] over REAL tokens only,
//   l_aux = h_r * sum_i P_i f_i (= K under uniform routing); f is a constant, so the gradient
//   flows through P alone.
#pragma once

#include <torch/torch.h>

namespace attnlab::attention {

struct RoutingResult {
  torch::Tensor gates;     // (B, T, H), float32 or wider; exactly zero for unselected heads
  torch::Tensor selected;  // (B, T, H) bool: heads the token uses (shared: always)
  torch::Tensor balance;   // scalar l_aux, or undefined when none is due
};

// Learned router. wg (C -> h_r) is defined iff K > 0; wg_0 (C -> 2) iff K > 0 and h_s > 0; wg_1
// (C -> h_s) iff h_s > 1. `with_balance` asks for l_aux (a K > 0 layer only).
RoutingResult route_learned(const torch::Tensor& x, const torch::Tensor& valid,
                            torch::nn::Linear wg, torch::nn::Linear wg_0, torch::nn::Linear wg_1,
                            int64_t heads, int64_t shared_heads, int64_t routed_topk,
                            bool with_balance);

// Parameter-free query-norm router; gradients do not flow through the binary gates.
RoutingResult route_query_norm(const torch::Tensor& q, int64_t shared_heads, int64_t routed_topk);

// l_aux = h_r * sum_i P_i f_i from routed probabilities p (B, T, h_r) and the top-K mask
// (B, T, h_r, 0/1), averaged over valid tokens; an all-padding batch gives 0.
torch::Tensor load_balance_loss(const torch::Tensor& probs, const torch::Tensor& routed_mask,
                                const torch::Tensor& valid);

}  // namespace attnlab::attention
