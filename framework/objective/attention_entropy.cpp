// AEM: negative attention entropy.
#include "framework/objective/attention_entropy.h"

#include <map>

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_sites.h"

namespace attnlab::objective {

torch::Tensor AttentionEntropy::compute(const RegularizerInputs& in) {
  const auto& ctx = in.clean_ctx;
  const auto mask_of = [&](const std::string& site) {
    const auto it = ctx.masks().find(site);
    return it == ctx.masks().end() ? torch::Tensor() : it->second;
  };
  // Raw row entropies and key counts per site: as recorded, or from the weights of a context that
  // kept those (tests, hand-made contexts).
  std::map<std::string, torch::Tensor> entropies = ctx.row_entropies();
  std::map<std::string, attention::RowEntropy> raw;
  std::map<std::string, int64_t> keys = ctx.row_entropy_keys();
  for (const auto& [site, entropy] : ctx.row_entropies()) raw[site] = {entropy, ctx.row_has_keys().at(site)};
  for (const auto& [site, weights] : ctx.weights()) {
    if (raw.count(site)) continue;
    raw[site] = attention::raw_row_entropy(weights, mask_of(site));
    entropies[site] = raw[site].entropy;
    keys[site] = weights.size(3);
  }
  const auto sites = chosen_sites(entropies, options_.sites, "attention_entropy");
  torch::Tensor total;
  for (const auto& [site, entropy_raw] : sites) {
    const auto mask = mask_of(site);
    const int64_t n_keys = keys.at(site);
    const bool self_attention = entropy_raw.size(2) == n_keys;  // Tq == Tk
    const auto [entropy, valid] =
        attention::finish_row_entropy(raw.at(site), mask, n_keys, self_attention, options_.normalized);
    const auto v = valid.to(entropy.scalar_type());
    const auto mean_entropy = (entropy * v).sum() / v.sum().clamp_min(1.0);
    total = total.defined() ? total - mean_entropy : -mean_entropy;
  }
  return total / static_cast<double>(sites.size());
}

}  // namespace attnlab::objective
