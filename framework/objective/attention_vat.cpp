// Attention VAT.
#include "framework/objective/attention_vat.h"

#include <stdexcept>

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_sites.h"

namespace attnlab::objective {

torch::Tensor mean_kl_from_logits(const torch::Tensor& target_logits, const torch::Tensor& logits,
                                  const torch::Tensor& padding_mask) {
  const auto c = logits.size(-1);
  auto log_p = torch::log_softmax(target_logits.reshape({-1, c}), -1);
  auto log_q = torch::log_softmax(logits.reshape({-1, c}), -1);
  auto kl = (log_p.exp() * (log_p - log_q)).sum(-1);  // per row, >= 0
  if (logits.dim() == 3 && padding_mask.defined()) {
    const auto keep = (~padding_mask).reshape({-1}).to(kl.scalar_type());
    return (kl * keep).sum() / keep.sum().clamp_min(1.0);
  }
  return kl.mean();
}

VirtualAdversarialAttention::VirtualAdversarialAttention(VirtualAdversarialAttentionOptions options)
    : options_(std::move(options)) {
  if (options_.epsilon < 0) throw std::invalid_argument("epsilon must be >= 0");
  if (options_.xi <= 0) throw std::invalid_argument("xi must be > 0");
  if (options_.power_iterations < 0) throw std::invalid_argument("power_iterations must be >= 0");
}

torch::Tensor VirtualAdversarialAttention::compute(const RegularizerInputs& in) {
  const auto sites = chosen_sites(in.clean_ctx.scores(), options_.sites, "attention_vat");
  const auto target = in.clean.logits.detach();
  const auto& pad = in.input.padding_mask;
  const auto mask_of = [&](const std::string& site) {
    const auto it = in.clean_ctx.masks().find(site);
    return it == in.clean_ctx.masks().end() ? torch::Tensor() : it->second;
  };

  std::vector<torch::Tensor> d;
  for (const auto& [site, s] : sites) {
    const auto noise = torch::randn(s.sizes(), s.options().requires_grad(false));
    d.push_back(attention::normalize_per_example(attention::zero_padded_keys(noise, mask_of(site))));
  }
  for (int64_t k = 0; k < options_.power_iterations; ++k) {
    attention::ForwardContext probe;
    for (size_t i = 0; i < sites.size(); ++i) {
      d[i] = d[i].detach().requires_grad_(true);
      probe.set_perturbation(sites[i].first, options_.xi * d[i]);
    }
    const auto divergence = mean_kl_from_logits(target, in.model.forward(in.input, probe).logits, pad);
    const auto grads = torch::autograd::grad({divergence}, d, {}, /*retain_graph=*/false,
                                             /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < sites.size(); ++i) {
      const auto g = grads[i].defined() ? grads[i] : torch::zeros_like(d[i]);
      d[i] = attention::normalize_per_example(attention::zero_padded_keys(g, mask_of(sites[i].first)));
    }
  }

  attention::ForwardContext adv;
  last_r_.clear();
  for (size_t i = 0; i < sites.size(); ++i) {
    const auto r = (options_.epsilon * d[i]).detach();
    adv.set_perturbation(sites[i].first, r);
    last_r_.emplace_back(sites[i].first, r);
  }
  return mean_kl_from_logits(target, in.model.forward(in.input, adv).logits, pad);
}

}  // namespace attnlab::objective
