// Which sites a regularizer acts on: all sites a forward recorded, or the recipe's list
// (`sites: [layer0, layer3]`). A listed site the model does not have is an error naming the ones it
// has. Perturbation regularizers act on one of two kinds of site: the pre-softmax scores of the
// attention sites (attention AT/VAT) or the embeddings of the embedding sites (word AT/VAT, the
// papers' baselines, Miyato et al.).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "attention/context.h"

namespace attnlab::objective {

// The recorded tensors of the chosen sites, in site order. `recorded` is a ForwardContext's
// scores(), weights() or embeddings(); `what` names the regularizer in errors and `kind` the
// sites ("attention", "embedding").
std::vector<std::pair<std::string, torch::Tensor>> chosen_sites(
    const std::map<std::string, torch::Tensor>& recorded, const std::vector<std::string>& wanted,
    const std::string& what, const std::string& kind = "attention");

enum class PerturbTarget { kScores, kEmbeddings };
PerturbTarget perturb_target_from_name(const std::string& name);  // "scores" | "embeddings"

// One chosen site of a perturbation regularizer: the clean forward's tensor there (with graph) and
// its padding mask (undefined when nothing is padded).
struct PerturbSite {
  std::string site;
  torch::Tensor value;  // scores (N, H, Tq, Tk) or embeddings (B, T, E)
  torch::Tensor mask;   // (N, Tk) padded keys, or (B, T) padded tokens
};
std::vector<PerturbSite> perturb_sites(const attention::ForwardContext& clean, PerturbTarget target,
                                       const std::vector<std::string>& wanted, const std::string& what);

// `t` (shaped like the site's value) with every padded key (scores) or token (embeddings) zeroed.
torch::Tensor zero_padding(const torch::Tensor& t, const torch::Tensor& mask, PerturbTarget target);

}  // namespace attnlab::objective
