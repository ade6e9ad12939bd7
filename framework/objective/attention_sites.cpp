// Site selection for attention and embedding regularizers.
#include "framework/objective/attention_sites.h"

#include <sstream>
#include <stdexcept>

#include "attention/regularizers/perturbation.h"

namespace attnlab::objective {

std::vector<std::pair<std::string, torch::Tensor>> chosen_sites(
    const std::map<std::string, torch::Tensor>& recorded, const std::vector<std::string>& wanted,
    const std::string& what, const std::string& kind) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  if (wanted.empty()) {
    for (const auto& [site, t] : recorded) out.emplace_back(site, t);
  } else {
    for (const auto& site : wanted) {
      const auto it = recorded.find(site);
      if (it == recorded.end()) {
        std::ostringstream msg;
        msg << what << ": the model has no " << kind << " site '" << site << "'; it has:";
        for (const auto& [name, t] : recorded) msg << " " << name;
        throw std::invalid_argument(msg.str());
      }
      out.emplace_back(site, it->second);
    }
  }
  TORCH_CHECK(!out.empty(), what, ": the model's forward recorded no ", kind, " site");
  return out;
}

PerturbTarget perturb_target_from_name(const std::string& name) {
  if (name == "scores") return PerturbTarget::kScores;
  if (name == "embeddings") return PerturbTarget::kEmbeddings;
  throw std::invalid_argument("unknown perturbation target '" + name + "' (scores or embeddings)");
}

std::vector<PerturbSite> perturb_sites(const attention::ForwardContext& clean, PerturbTarget target,
                                       const std::vector<std::string>& wanted, const std::string& what) {
  const bool scores = target == PerturbTarget::kScores;
  const auto& masks = scores ? clean.masks() : clean.embedding_masks();
  std::vector<PerturbSite> out;
  for (auto& [site, value] : chosen_sites(scores ? clean.scores() : clean.embeddings(), wanted, what,
                                          scores ? "attention" : "embedding")) {
    const auto it = masks.find(site);
    out.push_back({site, value, it == masks.end() ? torch::Tensor() : it->second});
  }
  return out;
}

torch::Tensor zero_padding(const torch::Tensor& t, const torch::Tensor& mask, PerturbTarget target) {
  if (target == PerturbTarget::kScores) return attention::zero_padded_keys(t, mask);
  if (!mask.defined()) return t;
  return t.masked_fill(mask.to(t.device()).unsqueeze(-1), 0.0);  // (B, T, 1) over E
}

}  // namespace attnlab::objective
