// AEM: negative attention entropy.
#include "framework/objective/attention_entropy.h"

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_sites.h"

namespace attnlab::objective {

torch::Tensor AttentionEntropy::compute(const RegularizerInputs& in) {
  const auto sites = chosen_sites(in.clean_ctx.weights(), options_.sites, "attention_entropy");
  torch::Tensor total;
  for (const auto& [site, weights] : sites) {
    const auto it = in.clean_ctx.masks().find(site);
    const torch::Tensor mask = it == in.clean_ctx.masks().end() ? torch::Tensor() : it->second;
    const auto [entropy, valid] = attention::attention_row_entropy(weights, mask, options_.normalized);
    const auto v = valid.to(entropy.scalar_type());
    const auto mean_entropy = (entropy * v).sum() / v.sum().clamp_min(1.0);
    total = total.defined() ? total - mean_entropy : -mean_entropy;
  }
  return total / static_cast<double>(sites.size());
}

}  // namespace attnlab::objective
