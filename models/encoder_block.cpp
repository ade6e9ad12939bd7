// Pre-norm encoder block; see encoder_block.h.
#include "models/encoder_block.h"

#include "attention/kernels/dropout.h"

namespace attnlab::models {

EncoderBlockImpl::EncoderBlockImpl(const EncoderBlockOptions& options, attention::AttentionPtr attn)
    : attn_(std::move(attn)), dropout_(options.dropout) {
  TORCH_CHECK(attn_ != nullptr, "encoder block: the attention builder returned no module");
  TORCH_CHECK(options.d_model > 0 && options.ff_dim > 0,
              "encoder block: d_model and ff_dim must be positive");
  register_module("attn", attn_);
  const auto norm = [&] {
    return torch::nn::LayerNorm(
        torch::nn::LayerNormOptions({options.d_model}).eps(options.norm_eps));
  };
  norm1_ = register_module("norm1", norm());
  norm2_ = register_module("norm2", norm());
  ff_in_ = register_module("ff_in", torch::nn::Linear(options.d_model, options.ff_dim));
  ff_out_ = register_module("ff_out", torch::nn::Linear(options.ff_dim, options.d_model));
}

torch::Tensor EncoderBlockImpl::forward(const torch::Tensor& x,
                                        const torch::Tensor& key_padding_mask, bool causal,
                                        attention::ForwardContext& ctx, const std::string& site,
                                        std::vector<attention::AuxLoss>& aux) {
  auto attended = attn_->forward({norm1_->forward(x), key_padding_mask, causal}, ctx, site);
  for (auto& loss : attended.aux_losses) aux.push_back(std::move(loss));
  const auto drop = [&](const torch::Tensor& t) {
    return attention::kernels::dropout(t, dropout_, is_training());
  };
  auto y = x + drop(attended.out);                                            // (B,T,D)
  auto hidden = drop(torch::gelu(ff_in_->forward(norm2_->forward(y))));      // (B,T,F)
  return y + drop(ff_out_->forward(hidden));                                  // (B,T,D)
}

}  // namespace attnlab::models
