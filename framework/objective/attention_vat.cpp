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
    : options_(std::move(options)), target_(perturb_target_from_name(options_.target)) {
  if (options_.interpretable && target_ == PerturbTarget::kEmbeddings)
    throw std::invalid_argument("iVAT's directions are defined on attention scores, not embeddings");
  if (options_.epsilon < 0) throw std::invalid_argument("epsilon must be >= 0");
  if (options_.xi <= 0) throw std::invalid_argument("xi must be > 0");
  if (options_.power_iterations < 0) throw std::invalid_argument("power_iterations must be >= 0");
}

torch::Tensor VirtualAdversarialAttention::compute(const RegularizerInputs& in) {
  const std::string what = target_ == PerturbTarget::kScores ? (options_.interpretable ? "attention_ivat" : "attention_vat")
                                                              : "word_vat";
  const auto sites = perturb_sites(in.clean_ctx, target_, options_.sites, what);
  const auto target = in.clean.logits.detach();
  const auto& pad = in.input.padding_mask;
  const auto unit = [&](const torch::Tensor& t, size_t i) {
    return attention::normalize_per_example(zero_padding(t, sites[i].mask, target_));
  };

  std::vector<torch::Tensor> d;
  for (size_t i = 0; i < sites.size(); ++i) {
    d.push_back(unit(torch::randn(sites[i].value.sizes(), sites[i].value.options().requires_grad(false)), i));
  }
  for (int64_t k = 0; k < options_.power_iterations; ++k) {
    attention::ForwardContext probe;
    for (size_t i = 0; i < sites.size(); ++i) {
      d[i] = d[i].detach().requires_grad_(true);
      probe.set_perturbation(sites[i].site, options_.xi * d[i]);
    }
    const auto divergence = mean_kl_from_logits(target, in.model.forward(in.input, probe).logits, pad);
    const auto grads = torch::autograd::grad({divergence}, d, {}, /*retain_graph=*/false,
                                             /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < sites.size(); ++i) d[i] = unit(grads[i].defined() ? grads[i] : torch::zeros_like(d[i]), i);
  }
  if (options_.interpretable) {
    for (size_t i = 0; i < sites.size(); ++i)
      d[i] = unit(attention::iat_direction(d[i].detach(), sites[i].value.detach(), options_.iat_mode), i);
  }

  attention::ForwardContext adv;
  last_r_.clear();
  for (size_t i = 0; i < sites.size(); ++i) {
    const auto r = (options_.epsilon * d[i]).detach();
    adv.set_perturbation(sites[i].site, r);
    last_r_.emplace_back(sites[i].site, r);
  }
  return mean_kl_from_logits(target, in.model.forward(in.input, adv).logits, pad);
}

}  // namespace attnlab::objective
