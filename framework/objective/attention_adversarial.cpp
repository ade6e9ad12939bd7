// Attention AT / iAT / RP.
#include "framework/objective/attention_adversarial.h"

#include <stdexcept>

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_sites.h"

namespace attnlab::objective {

AdversarialAttention::AdversarialAttention(AdversarialAttentionOptions options) : options_(std::move(options)) {
  if (options_.method != "at" && options_.method != "iat" && options_.method != "rp")
    throw std::invalid_argument("unknown adversarial method '" + options_.method + "'");
  if (options_.epsilon < 0) throw std::invalid_argument("epsilon must be >= 0");
}

torch::Tensor AdversarialAttention::compute(const RegularizerInputs& in) {
  const std::string what = "attention_" + options_.method;
  const auto sites = chosen_sites(in.clean_ctx.scores(), options_.sites, what);
  std::vector<torch::Tensor> scores;
  for (const auto& [site, s] : sites) scores.push_back(s);

  std::vector<torch::Tensor> grads(sites.size());
  if (options_.method != "rp") {
    // Only dL/ds: parameters' .grad stay as they are (the released code's backward() here made
    // the clean loss count twice).
    grads = torch::autograd::grad({in.task_loss}, scores, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                  /*create_graph=*/false, /*allow_unused=*/true);
  }

  attention::ForwardContext adv;
  last_r_.clear();
  for (size_t i = 0; i < sites.size(); ++i) {
    const auto& [site, s] = sites[i];
    const auto mask_it = in.clean_ctx.masks().find(site);
    const torch::Tensor mask = mask_it == in.clean_ctx.masks().end() ? torch::Tensor() : mask_it->second;
    torch::Tensor direction;
    if (options_.method == "rp") {
      direction = torch::randn(s.sizes(), s.options().requires_grad(false));
    } else {
      const auto g = grads[i].defined() ? grads[i] : torch::zeros_like(s);
      direction = options_.method == "at" ? g : attention::iat_direction(g, s, options_.iat_mode);
    }
    direction = attention::zero_padded_keys(direction.detach(), mask);
    const auto r = (options_.epsilon * attention::normalize_per_example(direction)).detach();
    adv.set_perturbation(site, r);
    last_r_.emplace_back(site, r);
  }
  const auto out = in.model.forward(in.input, adv);
  torch::Tensor term = in.task_loss_of(out.logits);
  if (options_.replicate_ref_double_grad && in.weight > 0) term = term + in.task_loss / in.weight;
  return term;
}

}  // namespace attnlab::objective
