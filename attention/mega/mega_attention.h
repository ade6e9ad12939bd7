// Mega's moving-average gated attention sub-layer (Ma et al. 2023, §3.2-3.3; fairseq
// `MovingAverageGatedAttention`; notes §2.3-2.4), one head, x (B, T, D) -> Y (B, T, D):
//   X^ = Norm(X) if prenorm else X                       (residual is always the raw X)
//   V  = SiLU(X^ W_v + b_v)                               (B, T, v)
//   X' = dropout(SiLU(EMA(X^) + omega X^))                (B, T, D)   attention/mega/ema.h
//   [u | z | r | hx] = X' W_mx + b_mx                     D | z | v | D
//   phi = sigmoid(u), Z = SiLU(z), gamma_r = SiLU(r)
//   Q = Z * gamma[0] + beta[0],  K = Z * gamma[1] + beta[1]     per-dimension scale and offset
//   S = Q K^T / sqrt(z) + B_rel           softmax
//   S = Q K^T / n + B_rel                 laplace, relu2; n = number of keys the query may see
//   A = softmax(S) | laplace(S) | relu(S)^2, masked keys -> 0 weight
//   H = dropout(SiLU(hx + (attention_dropout(A) hidden_dropout(V) * gamma_r) W_h + b_h))
//   Y = X + phi * (H - X);  Y = Norm(Y) if not prenorm
// The module returns the whole sub-layer INCLUDING its residual and norm (as fairseq's module):
// an encoder built on `mega` must not add another residual around it.
// Masks: key_padding_mask (B, T) bool, true = padding: padded inputs are zeroed before the EMA and
// padded keys get zero weight. A causal call uses the causal (forward-kernel) EMA even when
// bidirectional = true, and a causal attention mask, so out_t depends on x_{<=t} only.
// Mega-chunk (chunk_size > 0): the sequence is right-padded inside the module to a multiple of
// c = min(chunk_size, T), attention runs within each chunk only (the EMA still spans the whole
// sequence), and the result is cropped back to T.
// The tap: ctx.on_scores(site, S, mask) sees S (incl. B_rel, before masking) as (B, 1, T, T), or
// (B*nc, 1, c, c) when chunked, with mask (B, T) or (B*nc, c) (chunk padding marked true);
// ctx.on_weights(site, A) gets A in the same shape, before attention dropout.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/attention.h"
#include "attention/mega/ema.h"
#include "attention/mega/relative_position.h"
#include "attention/mega/sequence_norm.h"

namespace attnlab::attention {

struct MegaOptions {
  int64_t d_model = 0;
  int64_t z_dim = 64;    // shared representation (q, k) dimension
  int64_t v_dim = 0;     // 0: 2 * d_model (hidden dimension of the values)
  int64_t ema_dim = 16;  // n (h in the notes)
  bool bidirectional = true;
  int64_t truncation = 0;                // 0: none
  std::string attention_fn = "softmax";  // softmax | laplace | relu2
  std::string rel_pos = "simple";        // simple | rotary
  int64_t max_positions = 1024;
  int64_t chunk_size = -1;  // -1: full attention
  double dropout = 0.0, attention_dropout = 0.0, hidden_dropout = 0.0;
  std::string norm = "layer";  // layer | scale | rms | batch
  bool prenorm = true;
};

class MegaAttention : public AttentionModule {
 public:
  explicit MegaAttention(const MegaOptions& options);

  AttentionOutput forward(const AttentionCall& call, ForwardContext& ctx,
                          const std::string& site) override;

  const MegaOptions& options() const { return options_; }
  int64_t v_dim() const { return v_dim_; }
  // The longest T forward accepts: max_positions with full attention, unlimited
  // (numeric_limits<int64_t>::max()) with chunking (the bias table then spans one chunk).
  int64_t max_length() const;
  // The relative position bias for `length` query/key positions, (L, L).
  torch::Tensor relative_bias(int64_t length) const;

  SequenceNorm norm() const { return norm_; }
  MultiHeadEma ema() const { return move_; }
  torch::nn::Linear v_proj() const { return v_proj_; }
  torch::nn::Linear mx_proj() const { return mx_proj_; }
  torch::nn::Linear h_proj() const { return h_proj_; }
  torch::Tensor qk_gamma() const { return gamma_; }  // (2, z)
  torch::Tensor qk_beta() const { return beta_; }    // (2, z)

 private:
  // Single-head attention of q, k (B, T, z) over v (B, T, v), chunked or not, through the tap.
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& key_padding_mask, bool causal, ForwardContext& ctx,
                       const std::string& site);

  MegaOptions options_;
  int64_t v_dim_;
  SequenceNorm norm_{nullptr};
  MultiHeadEma move_{nullptr};
  torch::nn::Linear v_proj_{nullptr}, mx_proj_{nullptr}, h_proj_{nullptr};
  torch::Tensor gamma_, beta_;
  SimpleRelativePositionBias simple_bias_{nullptr};
  RotaryRelativePositionBias rotary_bias_{nullptr};
};

// Mega's element-wise attention functions (fairseq utils):
// laplace(x) = 0.5 (1 + erf((x - mu) / (sigma sqrt 2))), mu = sqrt(1/2), sigma = sqrt(1/(4 pi)),
// a bounded stand-in for relu^2 with values in (0, 1); relu2(x) = relu(x)^2.
torch::Tensor mega_laplace(const torch::Tensor& x);
torch::Tensor mega_relu2(const torch::Tensor& x);

}  // namespace attnlab::attention
