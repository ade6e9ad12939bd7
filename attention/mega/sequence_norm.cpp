// Mega's sequence norms; see sequence_norm.h for the formulas and parameters.
#include "attention/mega/sequence_norm.h"

namespace attnlab::attention {

bool is_sequence_norm_kind(const std::string& kind) {
  return kind == "layer" || kind == "scale" || kind == "rms" || kind == "batch";
}

SequenceNormImpl::SequenceNormImpl(const std::string& kind, int64_t dim, double eps,
                                   double momentum)
    : kind_(kind), dim_(dim), eps_(eps), momentum_(momentum) {
  TORCH_CHECK(is_sequence_norm_kind(kind), "mega norm: unknown kind '", kind,
              "' (expected layer | scale | rms | batch)");
  TORCH_CHECK(dim > 0, "mega norm: dim must be positive (got ", dim, ")");
  TORCH_CHECK(eps > 0.0, "mega norm: eps must be positive (got ", eps, ")");
  if (kind == "scale") {
    scalar_ = register_parameter("scalar", torch::ones({1}));
    return;
  }
  weight_ = register_parameter("weight", torch::ones({dim}));
  if (kind == "rms") return;
  bias_ = register_parameter("bias", torch::zeros({dim}));
  if (kind == "batch") {
    running_mean_ = register_buffer("running_mean", torch::zeros({dim}));
    running_var_ = register_buffer("running_var", torch::ones({dim}));
  }
}

torch::Tensor SequenceNormImpl::forward(const torch::Tensor& x,
                                        const torch::Tensor& key_padding_mask) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == dim_, "mega norm: input must be (B, T, ", dim_,
              "), got ", x.sizes());
  if (kind_ == "layer") return torch::layer_norm(x, {dim_}, weight_, bias_, eps_);
  if (kind_ == "batch") return batch_norm(x, key_padding_mask);
  const auto inv_rms = torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps_);  // (B,T,1)
  if (kind_ == "scale") return scalar_ * x * inv_rms;
  return weight_ * x * inv_rms;  // rms
}

torch::Tensor SequenceNormImpl::batch_norm(const torch::Tensor& x,
                                           const torch::Tensor& key_padding_mask) {
  torch::Tensor mean, var;
  if (is_training()) {
    // Statistics over valid tokens only: weight each token by 1 (valid) or 0 (padding).
    torch::Tensor keep;  // (B,T,1)
    if (key_padding_mask.defined()) {
      keep = torch::logical_not(key_padding_mask).to(x.scalar_type()).unsqueeze(-1);
    } else {
      keep = torch::ones({x.size(0), x.size(1), 1}, x.options());
    }
    const auto count = keep.sum();  // number of valid tokens, a 0-dim tensor (no host sync)
    mean = (x * keep).sum(torch::IntArrayRef{0, 1}) / count.clamp_min(1.0);  // (D)
    var = ((x - mean).pow(2) * keep).sum(torch::IntArrayRef{0, 1}) /
          count.clamp_min(1.0);  // (D), biased
    {
      // Running estimates as torch's BatchNorm: unbiased variance, exponential average.
      torch::NoGradGuard no_grad;
      const auto unbiased = var.detach() * count / (count - 1.0).clamp_min(1.0);
      running_mean_.mul_(1.0 - momentum_).add_(momentum_ * mean.detach().to(running_mean_.dtype()));
      running_var_.mul_(1.0 - momentum_).add_(momentum_ * unbiased.to(running_var_.dtype()));
    }
  } else {
    mean = running_mean_.to(x.scalar_type());
    var = running_var_.to(x.scalar_type());
  }
  return (x - mean) * torch::rsqrt(var + eps_) * weight_ + bias_;
}

}  // namespace attnlab::attention
