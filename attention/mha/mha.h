// Standard multi-head attention (Vaswani et al. 2017, §3.2):
//   Q = x Wq, K = x Wk, V = x Wv, split into H heads of size d_h = D / H,
//   S = Q K^T / sqrt(d_h)                 (B, H, T, T), passed through ctx.on_scores
//   A = softmax(mask(S)) over keys        (B, H, T, T), reported through ctx.on_weights
//   out = concat_h(dropout(A) V) Wo       (B, T, D)
// Masked keys are padded keys (key_padding_mask true) and, when causal, keys after the query.
// A query whose keys are all masked gets all-zero weights (its output is the out_proj bias), never
// NaN. Parameters: q_proj, k_proj, v_proj, out_proj (each Linear(D, D), weight (D, D) as out x in).
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/attention.h"

namespace attnlab::attention {

struct MhaOptions {
  int64_t d_model = 0;
  int64_t heads = 4;
  double dropout = 0.0;  // on the attention weights, training mode only
  bool bias = true;      // biases of the four projections
};

class MultiHeadAttention : public AttentionModule {
 public:
  explicit MultiHeadAttention(const MhaOptions& options);

  AttentionOutput forward(const AttentionCall& call, ForwardContext& ctx,
                          const std::string& site) override;

  const MhaOptions& options() const { return options_; }
  // The projections (shared holders, so a caller may read or update their parameters).
  int64_t head_dim() const { return options_.d_model / options_.heads; }
  torch::nn::Linear q_proj() const { return q_proj_; }
  torch::nn::Linear k_proj() const { return k_proj_; }
  torch::nn::Linear v_proj() const { return v_proj_; }
  torch::nn::Linear out_proj() const { return out_proj_; }

 private:
  MhaOptions options_;
  torch::nn::Linear q_proj_{nullptr};
  torch::nn::Linear k_proj_{nullptr};
  torch::nn::Linear v_proj_{nullptr};
  torch::nn::Linear out_proj_{nullptr};
};

// The boolean mask of keys a query may not see, (B or 1, 1, Tq, Tk) with true = masked, or an
// undefined tensor when nothing is masked. Shared by attention modules that use the same masking.
torch::Tensor attention_key_mask(const torch::Tensor& key_padding_mask, bool causal, int64_t t_q,
                                 int64_t t_k, const torch::Device& device);

// softmax over the last dimension with `masked` keys excluded; rows with every key masked become
// all zeros. `masked` broadcasts to scores; undefined means nothing is masked.
torch::Tensor masked_softmax(const torch::Tensor& scores, const torch::Tensor& masked);

// Whether softmax attention over q (B, H, T, d_h) may take the fused CUDA kernel
// (attention/kernels/): a CUDA tensor it supports, no active dropout on the weights, and nothing
// recording this forward's scores or weights (a perturbation is fine: the kernel adds it).
bool fused_attention_applies(const torch::Tensor& q, double dropout, bool training,
                             const ForwardContext& ctx);

// Softmax attention of q, k, v (B, H, T, d_h) through the site's taps, scaled by 1/sqrt(d_h):
// the fused CUDA kernel where fused_attention_applies, else ATen (scores, on_scores, mask,
// softmax, on_weights, dropout). mha's core, and MoH's for its dense heads. Returns (B, H, T, d_h).
torch::Tensor tapped_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const AttentionCall& call,
                               ForwardContext& ctx, const std::string& site, double dropout,
                               bool training);

// Checks x (B, T, D) and key_padding_mask (B, T) bool or undefined; `who` names the caller.
void check_attention_call(const AttentionCall& call, int64_t d_model, const char* who);

}  // namespace attnlab::attention
