// Attention AT / iAT / RP.
#include "framework/objective/attention_adversarial.h"

#include <stdexcept>

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_sites.h"

namespace attnlab::objective {

AdversarialAttention::AdversarialAttention(AdversarialAttentionOptions options)
    : options_(std::move(options)), target_(perturb_target_from_name(options_.target)) {
  if (options_.method != "at" && options_.method != "iat" && options_.method != "rp")
    throw std::invalid_argument("unknown adversarial method '" + options_.method + "'");
  if (options_.method == "iat" && target_ == PerturbTarget::kEmbeddings)
    throw std::invalid_argument("iAT's directions are defined on attention scores, not embeddings");
  if (options_.epsilon < 0) throw std::invalid_argument("epsilon must be >= 0");
}

torch::Tensor AdversarialAttention::compute(const RegularizerInputs& in) {
  const std::string what = (target_ == PerturbTarget::kScores ? "attention_" : "word_") + options_.method;
  const auto sites = perturb_sites(in.clean_ctx, target_, options_.sites, what);
  std::vector<torch::Tensor> values;
  for (const auto& site : sites) values.push_back(site.value);

  std::vector<torch::Tensor> grads(sites.size());
  if (options_.method != "rp") {
    // Only dL/ds (or dL/de): parameters' .grad stay as they are (the released code's backward()
    // here made the clean loss count twice).
    grads = torch::autograd::grad({in.task_loss}, values, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                  /*create_graph=*/false, /*allow_unused=*/true);
  }

  attention::ForwardContext adv;
  last_r_.clear();
  for (size_t i = 0; i < sites.size(); ++i) {
    const auto& s = sites[i].value;
    torch::Tensor direction;
    if (options_.method == "rp") {
      direction = torch::randn(s.sizes(), s.options().requires_grad(false));
    } else {
      const auto g = grads[i].defined() ? grads[i] : torch::zeros_like(s);
      direction = options_.method == "at" ? g : attention::iat_direction(g, s, options_.iat_mode);
    }
    direction = zero_padding(direction.detach(), sites[i].mask, target_);
    const auto r = (options_.epsilon * attention::normalize_per_example(direction)).detach();
    adv.set_perturbation(sites[i].site, r);
    last_r_.emplace_back(sites[i].site, r);
  }
  const auto out = in.model.forward(in.input, adv);
  torch::Tensor term = in.task_loss_of(out.logits);
  if (options_.replicate_ref_double_grad && in.weight > 0) term = term + in.task_loss / in.weight;
  return term;
}

}  // namespace attnlab::objective
