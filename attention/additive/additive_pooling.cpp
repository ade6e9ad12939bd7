// Additive / dot-product attention pooling.
#include "attention/additive/additive_pooling.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace attnlab::attention {

AdditivePoolingImpl::AdditivePoolingImpl(const AdditivePoolingOptions& options) : options_(options) {
  if (options_.input_dim <= 0) throw std::invalid_argument("attention pooling: input_dim must be > 0");
  if (options_.score == "additive" || options_.score == "gated") {
    if (options_.attention_dim <= 0) throw std::invalid_argument("attention pooling: attention_dim must be > 0");
    w_ = register_module("w", torch::nn::Linear(options_.input_dim, options_.attention_dim));
    if (options_.score == "gated") u_ = register_module("u", torch::nn::Linear(options_.input_dim, options_.attention_dim));
    v_ = register_module("v", torch::nn::Linear(torch::nn::LinearOptions(options_.attention_dim, 1).bias(false)));
  } else if (options_.score == "dot") {
    v_ = register_module("v", torch::nn::Linear(torch::nn::LinearOptions(options_.input_dim, 1).bias(false)));
  } else {
    throw std::invalid_argument("attention pooling: score must be additive, dot or gated, not '" + options_.score + "'");
  }
}

torch::Tensor AdditivePoolingImpl::scores(const torch::Tensor& h) {
  if (options_.score == "additive") return v_->forward(torch::tanh(w_->forward(h))).squeeze(-1);
  if (options_.score == "gated")
    return v_->forward(torch::tanh(w_->forward(h)) * torch::sigmoid(u_->forward(h))).squeeze(-1);
  return v_->forward(h).squeeze(-1) / std::sqrt(static_cast<double>(options_.input_dim));
}

PooledOutput AdditivePoolingImpl::forward(const torch::Tensor& h, const torch::Tensor& key_padding_mask,
                                          ForwardContext& ctx, const std::string& site) {
  TORCH_CHECK(h.dim() == 3 && h.size(2) == options_.input_dim, "attention pooling expects (B, T, ",
              options_.input_dim, "), got ", h.sizes());
  const int64_t b = h.size(0), t = h.size(1);
  auto s = ctx.on_scores(site, scores(h).view({b, 1, 1, t}), key_padding_mask);
  torch::Tensor weights;
  if (key_padding_mask.defined()) {
    const auto pad = key_padding_mask.view({b, 1, 1, t});
    // -inf at padding gives weight 0 and no gradient there; a fully padded row gets all zeros.
    weights = torch::softmax(s.masked_fill(pad, -std::numeric_limits<double>::infinity()), -1);
    weights = weights.masked_fill(pad, 0.0).nan_to_num(0.0);
  } else {
    weights = torch::softmax(s, -1);
  }
  ctx.on_weights(site, weights);
  const auto a = weights.view({b, t});
  return {torch::bmm(a.unsqueeze(1), h).squeeze(1), a};
}

}  // namespace attnlab::attention
