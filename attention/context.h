// The per-forward context (DESIGN.md §3, "the attention tap"). A model's forward takes it
// explicitly; no globals or thread-locals. Each attention site calls
//   scores = ctx.on_scores(site, scores, mask)   before normalisation, and
//   ctx.on_weights(site, weights)                after it.
// Through this seam a regularizer can record the pre-softmax scores (with their autograd graph),
// add a perturbation r[site] on a second forward, or read the weights; a metric can read weights
// in eval mode. Shapes: scores and weights are (B, H, Tq, Tk); mask is (B, Tk) bool, true = padding
// (undefined when nothing is padded).
// Models with an embedding layer also pass its output through the tap:
//   e = ctx.on_embeddings(site, e, mask)   e (B, T, E), mask (B, T) true = padding
// so word-embedding AT/VAT (the papers' baselines) perturb it and gradient-importance measures
// (gradient x input) differentiate with respect to it. The site is named "embed" by convention.
// With set_detach_attention(true), on_scores returns the scores detached (plus any perturbation):
// the attention weights then carry no gradient, as Jain & Wallace's gradient importance requires.
// Modules may also report statistics of the forward (e.g. MoH's fraction of heads used and per-head
// usage) with ctx.report(site, name, value); the trainer and evaluator average and log them. Values
// stay on the module's device, so reporting costs no host synchronisation.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace attnlab::attention {

class ForwardContext {
 public:
  ForwardContext() = default;

  // Called by attention modules. Returns the scores to normalise: the input, plus the
  // perturbation registered for `site` if any (broadcast to the scores' shape).
  torch::Tensor on_scores(const std::string& site, const torch::Tensor& scores,
                          const torch::Tensor& key_padding_mask);
  // Called by attention modules with the normalised weights of `site`. With row-entropy recording
  // on, the rows' entropies are taken from them here (regularizers/perturbation.h).
  void on_weights(const std::string& site, const torch::Tensor& weights);
  // Called instead by a fused kernel that computes the rows' entropies itself (attention/kernels/),
  // when records_row_entropy(): entropy and has_keys (B, H, Tq), the mask as given to on_scores,
  // and the number of keys Tk the rows attended over.
  void on_row_entropy(const std::string& site, const torch::Tensor& entropy,
                      const torch::Tensor& has_keys, const torch::Tensor& key_padding_mask,
                      int64_t keys);
  bool records_row_entropy() const { return record_row_entropy_; }

  // Whether anything would see or change `site`'s scores or weights: recording is on, or a
  // perturbation is registered for it. A module may take a cheaper path that never materialises
  // the scores (MoH's skip path) only when this is false; it must still call on_scores/on_weights
  // otherwise.
  bool observes(const std::string& site) const {
    return record_scores_ || record_weights_ || record_row_entropy_ || detach_attention_ ||
           perturbations_.count(site) > 0;
  }

  // Whether anything records or detaches `site`'s scores or weights: observes() without the
  // perturbation. A fused kernel that adds the perturbation itself (attention/kernels/) may run
  // when this is false; it calls visit() instead of the tap.
  bool records() const { return record_scores_ || record_weights_ || detach_attention_; }
  // The perturbation registered for `site`, or undefined; checked to broadcast to a tensor of
  // `shape`, e.g. the scores (B, H, Tq, Tk) (`what` names it in the error), graph kept.
  torch::Tensor perturbation(const std::string& site, torch::IntArrayRef shape,
                             const char* what = "scores") const;

  // Called by models on their (B, T, E) embeddings (before dropout). Records them when asked and
  // returns them plus the perturbation registered for `site`, if any.
  torch::Tensor on_embeddings(const std::string& site, const torch::Tensor& embeddings,
                              const torch::Tensor& padding_mask);
  // Notes that `site` was visited without calling the tap (a module's fast path), so sites()
  // lists every attention site of the model either way.
  void visit(const std::string& site);

  // A statistic of this forward at `site`: a scalar or a vector (e.g. one value per head), stored
  // detached. Reported every forward; cheap to ignore.
  void report(const std::string& site, const std::string& name, const torch::Tensor& value);
  struct Statistic {
    std::string site;
    std::string name;
    torch::Tensor value;
  };
  const std::vector<Statistic>& statistics() const { return statistics_; }

  // --- configuration, by whoever owns the forward (trainer, regularizer, metric) ---
  void set_record_scores(bool on) { record_scores_ = on; }
  void set_record_weights(bool on) { record_weights_ = on; }
  void set_record_embeddings(bool on) { record_embeddings_ = on; }
  void set_detach_attention(bool on) { detach_attention_ = on; }
  // Keep each site's row entropies (and its mask), with their graph, without keeping the weights:
  // what the entropy regularizer needs, and what a fused kernel can give without the scores.
  void set_record_row_entropy(bool on) { record_row_entropy_ = on; }
  // Adds `r` to the pre-softmax scores (or, for an embedding site, the embeddings) of `site` on
  // the next forwards that use this context.
  void set_perturbation(const std::string& site, const torch::Tensor& r);
  void clear_perturbations() { perturbations_.clear(); }

  // --- what was recorded, in the order the sites were visited ---
  // Scores as given to on_scores (before any perturbation), with their graph.
  const std::map<std::string, torch::Tensor>& scores() const { return scores_; }
  const std::map<std::string, torch::Tensor>& weights() const { return weights_; }
  const std::map<std::string, torch::Tensor>& masks() const { return masks_; }
  // Row entropies in nats (B, H, Tq), not normalised, and whether each row had a key to attend to.
  const std::map<std::string, torch::Tensor>& row_entropies() const { return row_entropies_; }
  const std::map<std::string, torch::Tensor>& row_has_keys() const { return row_has_keys_; }
  const std::map<std::string, int64_t>& row_entropy_keys() const { return row_entropy_keys_; }  // Tk
  const std::vector<std::string>& sites() const { return sites_; }
  // Embeddings as given to on_embeddings (before any perturbation), with their graph, and the
  // padding mask each came with; embedding sites are not listed in sites().
  const std::map<std::string, torch::Tensor>& embeddings() const { return embeddings_; }
  const std::map<std::string, torch::Tensor>& embedding_masks() const { return embedding_masks_; }

 private:
  // `t` plus the perturbation registered for `site`, checked to broadcast; `what` names t in errors.
  torch::Tensor perturbed(const std::string& site, const torch::Tensor& t, const char* what) const;

  bool record_scores_ = false;
  bool record_weights_ = false;
  bool record_embeddings_ = false;
  bool detach_attention_ = false;
  bool record_row_entropy_ = false;
  std::map<std::string, torch::Tensor> perturbations_;
  std::map<std::string, torch::Tensor> scores_;
  std::map<std::string, torch::Tensor> weights_;
  std::map<std::string, torch::Tensor> masks_;
  std::map<std::string, torch::Tensor> row_entropies_;
  std::map<std::string, torch::Tensor> row_has_keys_;
  std::map<std::string, int64_t> row_entropy_keys_;
  std::map<std::string, torch::Tensor> embeddings_;
  std::map<std::string, torch::Tensor> embedding_masks_;
  std::vector<std::string> sites_;
  std::vector<Statistic> statistics_;
};

}  // namespace attnlab::attention
