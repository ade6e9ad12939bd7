// Standard multi-head attention; see mha.h for the equations and shapes.
#include "attention/mha/mha.h"

#include <cmath>
#include <limits>

#include "attention/kernels/cuda_kernels.h"
#include "attention/kernels/dropout.h"

namespace attnlab::attention {

MultiHeadAttention::MultiHeadAttention(const MhaOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0, "mha: d_model must be positive (got ", options.d_model, ")");
  TORCH_CHECK(options.heads > 0, "mha: heads must be positive (got ", options.heads, ")");
  TORCH_CHECK(options.d_model % options.heads == 0, "mha: d_model (", options.d_model,
              ") must be divisible by heads (", options.heads, ")");
  TORCH_CHECK(options.dropout >= 0.0 && options.dropout < 1.0,
              "mha: dropout must be in [0, 1) (got ", options.dropout, ")");
  const auto linear = [&] {
    return torch::nn::Linear(
        torch::nn::LinearOptions(options.d_model, options.d_model).bias(options.bias));
  };
  q_proj_ = register_module("q_proj", linear());
  k_proj_ = register_module("k_proj", linear());
  v_proj_ = register_module("v_proj", linear());
  out_proj_ = register_module("out_proj", linear());
}

void check_attention_call(const AttentionCall& call, int64_t d_model, const char* who) {
  const torch::Tensor& x = call.x;
  TORCH_CHECK(x.defined() && x.dim() == 3, who, ": input must be (B, T, D), got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(x.size(2) == d_model, who, ": input width ", x.size(2), " != d_model ", d_model);
  const torch::Tensor& mask = call.key_padding_mask;
  if (!mask.defined()) return;
  TORCH_CHECK(mask.scalar_type() == torch::kBool, who,
              ": key_padding_mask must be bool (true = padding), got ", mask.scalar_type());
  TORCH_CHECK(mask.dim() == 2 && mask.size(0) == x.size(0) && mask.size(1) == x.size(1), who,
              ": key_padding_mask must be (B, T) = (", x.size(0), ", ", x.size(1), "), got ",
              mask.sizes());
}

torch::Tensor attention_key_mask(const torch::Tensor& key_padding_mask, bool causal, int64_t t_q,
                                 int64_t t_k, const torch::Device& device) {
  torch::Tensor masked;
  if (key_padding_mask.defined()) {
    masked = key_padding_mask.to(device).view({key_padding_mask.size(0), 1, 1, t_k});  // (B,1,1,Tk)
  }
  if (causal) {
    // Key j is in the future of query i when j > i (aligned at the start: Tq == Tk here).
    const auto future =
        torch::ones({t_q, t_k}, torch::TensorOptions().dtype(torch::kBool).device(device))
            .triu(1)
            .view({1, 1, t_q, t_k});  // (1,1,Tq,Tk)
    masked = masked.defined() ? torch::logical_or(masked, future) : future;
  }
  return masked;
}

torch::Tensor masked_softmax(const torch::Tensor& scores, const torch::Tensor& masked) {
  if (!masked.defined()) return torch::softmax(scores, -1);
  // Rows with every key masked would be softmax(-inf, ..., -inf) = NaN, in the forward and in the
  // gradient. Leave such rows unmasked for the softmax and zero them afterwards: the zeroing stops
  // their gradient, and nothing non-finite is ever computed.
  const auto dead = masked.all(-1, /*keepdim=*/true);                      // (B|1,1,Tq,1)
  const auto drop = torch::logical_and(masked, torch::logical_not(dead));  // (B|1,1,Tq|1,Tk)
  // The mask enters as an additive bias of the mask's own (small) shape: one pass over the
  // (B,H,Tq,Tk) scores whose backward is free, where masked_fill's backward is another pass.
  const auto bias = torch::zeros(drop.sizes(), scores.options())
                        .masked_fill_(drop, -std::numeric_limits<double>::infinity());
  auto weights = torch::softmax(scores + bias, -1);
  // Zeroing dead rows is another pass over the weights, forward and backward; on a CPU asking
  // whether there are any costs nothing, on a GPU it would wait for the device.
  if (scores.is_cuda() || dead.any().item<bool>())
    weights = weights * torch::logical_not(dead).to(weights.scalar_type());
  return weights;
}

bool fused_attention_applies(const torch::Tensor& q, double dropout, bool training,
                             const ForwardContext& ctx) {
  // The kernel has no dropout on the weights and does not hand scores or weights to the tap.
  return kernels::tap_attention_applies(q) && !(training && dropout > 0.0) && !ctx.records();
}

torch::Tensor tapped_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const AttentionCall& call,
                               ForwardContext& ctx, const std::string& site, double dropout,
                               bool training) {
  const int64_t t = q.size(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  if (fused_attention_applies(q, dropout, training, ctx)) {
    // The CUDA kernel adds the site's perturbation itself and never stores the scores.
    ctx.visit(site);
    const auto fused =
        kernels::tap_attention(q, k, v, ctx.perturbation(site, {q.size(0), q.size(1), t, t}),
                               call.key_padding_mask, call.causal, scale);
    ctx.on_row_entropy(site, fused.entropy, fused.has_keys, call.key_padding_mask, t);
    return fused.out;
  }
  // Scaling q (B,H,T,d_h) instead of the scores (B,H,T,T) saves a pass over the scores, forward
  // and backward.
  auto scores = torch::matmul(q * scale, k.transpose(-2, -1));
  // The tap sees the scores before masking, so a perturbation added there is masked out at
  // padded and future keys just like the scores themselves.
  scores = ctx.on_scores(site, scores, call.key_padding_mask);  // (B,H,T,T)
  const auto masked = attention_key_mask(call.key_padding_mask, call.causal, t, t, q.device());
  auto weights = masked_softmax(scores, masked);  // (B,H,T,T)
  ctx.on_weights(site, weights);
  weights = kernels::dropout(weights, dropout, training);
  return torch::matmul(weights, v);
}

AttentionOutput MultiHeadAttention::forward(const AttentionCall& call, ForwardContext& ctx,
                                            const std::string& site) {
  check_attention_call(call, options_.d_model, "mha");
  const torch::Tensor& x = call.x;
  const int64_t batch = x.size(0), t = x.size(1), h = options_.heads, d_h = head_dim();

  const auto split_heads = [&](const torch::Tensor& y) {
    return y.view({batch, t, h, d_h}).transpose(1, 2);  // (B,T,D) -> (B,H,T,d_h)
  };
  const auto q = split_heads(q_proj_->forward(x));
  const auto k = split_heads(k_proj_->forward(x));
  const auto v = split_heads(v_proj_->forward(x));

  const auto heads_out =
      tapped_attention(q, k, v, call, ctx, site, options_.dropout, is_training());  // (B,H,T,d_h)
  const auto merged = heads_out.transpose(1, 2).contiguous().view({batch, t, h * d_h});  // (B,T,D)
  return AttentionOutput{out_proj_->forward(merged), {}};
}

}  // namespace attnlab::attention
