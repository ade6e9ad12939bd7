// ForwardContext: the attention tap (DESIGN.md §3). Shapes: scores and weights (B, H, Tq, Tk);
// key padding mask (B, Tk) bool, true = padding, or undefined. A perturbation r[site] must
// broadcast to the scores' shape, e.g. (B, H, Tq, Tk), (B, 1, Tq, Tk) or (Tq, Tk).
#include "attention/context.h"

#include <algorithm>
#include <sstream>

#include "attention/regularizers/perturbation.h"

namespace attnlab::attention {
namespace {

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// True when `r` broadcasts to `target` without changing target's shape (numpy rules,
// right-aligned).
bool broadcasts_to(const torch::Tensor& r, torch::IntArrayRef target) {
  const int64_t dims = static_cast<int64_t>(target.size());
  if (r.dim() > dims) return false;
  for (int64_t i = 1; i <= r.dim(); ++i) {
    const int64_t rs = r.size(-i);
    if (rs != 1 && rs != target[dims - i]) return false;
  }
  return true;
}

}  // namespace

torch::Tensor ForwardContext::on_scores(const std::string& site, const torch::Tensor& scores,
                                        const torch::Tensor& key_padding_mask) {
  visit(site);
  if (record_scores_) scores_[site] = scores;
  // Whoever reads scores or weights needs the mask to ignore padded keys.
  if (record_scores_ || record_weights_ || record_row_entropy_) masks_[site] = key_padding_mask;

  return perturbed(site, detach_attention_ ? scores.detach() : scores, "scores");
}

torch::Tensor ForwardContext::on_embeddings(const std::string& site, const torch::Tensor& embeddings,
                                            const torch::Tensor& padding_mask) {
  if (record_embeddings_) {
    embeddings_[site] = embeddings;
    embedding_masks_[site] = padding_mask;
  }
  return perturbed(site, embeddings, "embeddings");
}

torch::Tensor ForwardContext::perturbed(const std::string& site, const torch::Tensor& t,
                                        const char* what) const {
  const torch::Tensor r = perturbation(site, t.sizes(), what);
  // Keep r's graph (VAT differentiates through it); only match device and dtype.
  return r.defined() ? t + r.to(t.device(), t.scalar_type()) : t;
}

torch::Tensor ForwardContext::perturbation(const std::string& site, torch::IntArrayRef shape,
                                           const char* what) const {
  const auto found = perturbations_.find(site);
  if (found == perturbations_.end()) return {};
  const torch::Tensor& r = found->second;
  TORCH_CHECK(broadcasts_to(r, shape), "perturbation for site '", site, "' has shape ",
              shape_string(r), ", which does not broadcast to the ", what, "' shape ", shape);
  return r;
}

void ForwardContext::visit(const std::string& site) {
  // Sites are listed once, in the order first visited, whether or not anything is recorded, so an
  // owner can discover the sites of a model with one forward.
  if (std::find(sites_.begin(), sites_.end(), site) == sites_.end()) sites_.push_back(site);
}

void ForwardContext::on_weights(const std::string& site, const torch::Tensor& weights) {
  if (record_weights_) weights_[site] = weights;
  if (record_row_entropy_) {
    const auto mask = masks_.find(site);
    const auto raw = raw_row_entropy(weights, mask == masks_.end() ? torch::Tensor() : mask->second);
    row_entropies_[site] = raw.entropy;
    row_has_keys_[site] = raw.has_mass;
    row_entropy_keys_[site] = weights.size(3);
  }
}

void ForwardContext::on_row_entropy(const std::string& site, const torch::Tensor& entropy,
                                    const torch::Tensor& has_keys,
                                    const torch::Tensor& key_padding_mask, int64_t keys) {
  if (!record_row_entropy_) return;
  row_entropies_[site] = entropy;
  row_has_keys_[site] = has_keys;
  row_entropy_keys_[site] = keys;
  masks_[site] = key_padding_mask;
}

void ForwardContext::report(const std::string& site, const std::string& name, const torch::Tensor& value) {
  TORCH_CHECK(value.defined() && value.dim() <= 1, "statistic '", name, "' of site '", site,
              "' must be a scalar or a vector");
  statistics_.push_back({site, name, value.detach()});
}

void ForwardContext::set_perturbation(const std::string& site, const torch::Tensor& r) {
  TORCH_CHECK(r.defined(), "attention perturbation for site '", site, "' is undefined");
  perturbations_[site] = r;
}

}  // namespace attnlab::attention
