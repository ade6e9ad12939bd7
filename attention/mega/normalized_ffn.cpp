// Mega's normalised feed-forward layer; see normalized_ffn.h for the equations.
#include "attention/mega/normalized_ffn.h"

#include "attention/kernels/dropout.h"

namespace attnlab::attention {

NormalizedFFNImpl::NormalizedFFNImpl(const NormalizedFFNOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0, "mega nffn: d_model must be positive (got ", options.d_model,
              ")");
  TORCH_CHECK(options.hidden_dim >= 0, "mega nffn: hidden_dim must be >= 0 (0 = 2 * d_model), got ",
              options.hidden_dim);
  TORCH_CHECK(options.dropout >= 0.0 && options.dropout < 1.0,
              "mega nffn: dropout must be in [0, 1) (got ", options.dropout, ")");
  TORCH_CHECK(options.hidden_dropout >= 0.0 && options.hidden_dropout < 1.0,
              "mega nffn: hidden_dropout must be in [0, 1) (got ", options.hidden_dropout, ")");
  TORCH_CHECK(is_sequence_norm_kind(options.norm), "mega nffn: unknown norm '", options.norm,
              "' (expected layer | scale | rms | batch)");
  const int64_t d = options.d_model;
  const int64_t hidden = options.hidden_dim > 0 ? options.hidden_dim : 2 * d;
  options_.hidden_dim = hidden;
  norm_ = register_module("norm", SequenceNorm(options.norm, d));
  fc1_ = register_module("fc1", torch::nn::Linear(d, hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(hidden, d));
  torch::NoGradGuard no_grad;
  for (auto* linear : {&fc1_, &fc2_}) {
    (*linear)->weight.normal_(0.0, 0.02);
    (*linear)->bias.zero_();
  }
}

torch::Tensor NormalizedFFNImpl::forward(const torch::Tensor& x,
                                         const torch::Tensor& key_padding_mask) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == options_.d_model, "mega nffn: input must be (B, T, ",
              options_.d_model, "), got ", x.sizes());
  const auto mask = key_padding_mask.defined() ? key_padding_mask.to(x.device()) : torch::Tensor();
  const auto in = options_.prenorm ? norm_->forward(x, mask) : x;
  auto hidden = torch::silu(fc1_->forward(in));  // (B,T,F)
  hidden = kernels::dropout(hidden, options_.hidden_dropout, is_training());
  const auto update = kernels::dropout(fc2_->forward(hidden), options_.dropout, is_training());
  const auto out = x + update;
  return options_.prenorm ? out : norm_->forward(out, mask);
}

}  // namespace attnlab::attention
