// Mixture-of-Head attention (MoH; Jin, Zhu, Yuan, Yan 2024, arXiv 2410.11842), following the
// official ViT/DiT code (notes moh_mega.md §1.2-1.4; README.md here lists code-vs-paper
// differences):
//   Q, K, V = x Wq, x Wk, x Wv split into H heads of d_h = D / H     (B, H, T, d_h)
//   S_i = Q_i K_i^T / sqrt(d_h) -> ctx.on_scores -> mask -> softmax -> ctx.on_weights -> dropout
//   O_i = A_i V_i                                                   (B, H, T, d_h)
//   g = router(x) or router(Q)                                      (B, T, H), see router.h
//   out = concat_i(g_i * O_i) Wo                                    (B, T, D)
// Heads 0..h_s-1 are shared (every token), h_s..H-1 routed (top-K per token). Attention itself is
// exactly mha's (same masks, same fully-masked-row rule); gates scale head outputs after A V and
// before out_proj. In training the learned router returns AuxLoss "moh_balance" (router.h).
// Parameters: q_proj, k_proj, v_proj, out_proj (Linear(D, D)); learned router only: wg (D -> h_r,
// iff K > 0), wg_0 (D -> 2, iff K > 0 and h_s > 0), wg_1 (D -> h_s, iff h_s > 1), all bias-free.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/attention.h"
#include "attention/moh/router.h"

namespace attnlab::attention {

struct MohOptions {
  int64_t d_model = 0;
  int64_t heads = 8;
  int64_t shared_heads = 2;        // h_s: heads every token uses
  int64_t routed_topk = 4;         // K: routed heads each token uses, of h_r = heads - h_s
  std::string router = "learned";  // learned | query_norm
  double dropout = 0.0;            // on the attention weights, training mode only
  bool bias = true;                // biases of q/k/v/out projections (routers never have one)
  bool skip_unselected = false;    // compute only selected (token, routed head) rows; see README
  double balance_weight = 0.01;    // objective coefficient of the load-balance loss
};

// Routing summary of the last forward, detached, over non-padded tokens. Each forward also reports
// the same as ForwardContext statistics "moh_head_usage" (H) and "moh_active_fraction" (scalar),
// which the trainer logs.
struct RoutingStats {
  torch::Tensor head_usage;      // (H) float32: fraction of real tokens that used each head
  double active_fraction = 0.0;  // mean fraction of heads a real token used: (h_s + K) / H
  int64_t tokens = 0;            // number of real tokens counted
};

class MixtureOfHeadsAttention : public AttentionModule {
 public:
  explicit MixtureOfHeadsAttention(const MohOptions& options);

  AttentionOutput forward(const AttentionCall& call, ForwardContext& ctx,
                          const std::string& site) override;

  const MohOptions& options() const { return options_; }
  int64_t head_dim() const { return options_.d_model / options_.heads; }
  int64_t routed_heads() const { return options_.heads - options_.shared_heads; }
  torch::nn::Linear q_proj() const { return q_proj_; }
  torch::nn::Linear k_proj() const { return k_proj_; }
  torch::nn::Linear v_proj() const { return v_proj_; }
  torch::nn::Linear out_proj() const { return out_proj_; }
  // Router layers; empty holders (is_empty()) where the configuration has none.
  torch::nn::Linear wg() const { return wg_; }
  torch::nn::Linear wg_0() const { return wg_0_; }
  torch::nn::Linear wg_1() const { return wg_1_; }

  // Gates (B, T, H) and selection of the last forward, detached (for tests and reports).
  const RoutingResult& last_routing() const { return last_routing_; }
  RoutingStats last_routing_stats() const;
  // Whether the last forward took the skip path (skip_unselected and an inert tap; README).
  bool last_forward_skipped() const { return last_skipped_; }

 private:
  // Shared heads dense, routed heads only on the rows of tokens that selected them: (B, H, T, d_h)
  // with zero rows where (token, head) was not selected.
  torch::Tensor skip_heads(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& selected, const AttentionCall& call,
                           const ForwardContext& ctx);

  MohOptions options_;
  torch::nn::Linear q_proj_{nullptr};
  torch::nn::Linear k_proj_{nullptr};
  torch::nn::Linear v_proj_{nullptr};
  torch::nn::Linear out_proj_{nullptr};
  torch::nn::Linear wg_{nullptr};
  torch::nn::Linear wg_0_{nullptr};
  torch::nn::Linear wg_1_{nullptr};
  RoutingResult last_routing_;
  torch::Tensor last_valid_;  // (B*T, 1) float: 1 for the real tokens of the last forward
  bool last_skipped_ = false;
};

}  // namespace attnlab::attention
