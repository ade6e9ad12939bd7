// Adversarial training on the attention scores (Kitada & Iyatomi 2021; notes
// attention_regularizers.md §1, §4): the term is the task loss of a second forward whose
// pre-softmax scores at every chosen site are perturbed by r, the objective adding weight * term.
//   attention_at:  r = eps * g / ||g||, g = dL_task/ds from the clean forward (autograd::grad, so
//                  the parameters' gradients are not touched: pitfall P1)
//   attention_iat: r = eps * normalize(iat_direction(g, s, mode)) (attention/regularizers/perturbation.h)
//   attention_rp:  r = eps * normalize(noise), noise ~ N(0, 1): the random-perturbation baseline
// The norm is taken per example (per leading index of the site's scores: per chunk for Mega-chunk)
// and per site, over the non-padded keys; r is zero at padded keys and detached. The second
// forward runs in training mode, so dropout draws new masks (recipes that compare with the paper
// use no dropout, as its models have none).
// With target "embeddings" the same perturbations go on the embeddings of the model's embedding
// sites instead (ctx.on_embeddings, (B, T, E), normalised per example over tokens and dimensions,
// zero at padded tokens): word AT / word RP, the baselines of the papers (Miyato et al. 2017, who
// also normalise the embedding table, which is not done here).
// `replicate_ref_double_grad` reproduces the released code's bug, which back-propagates the clean
// loss a second time (effective loss 2 L + lambda L_adv); off unless asked for.
#pragma once

#include <string>
#include <vector>

#include "framework/objective/attention_sites.h"
#include "framework/objective/regularizer.h"

namespace attnlab::objective {

struct AdversarialAttentionOptions {
  std::string method = "at";  // at | iat | rp
  double epsilon = 1.0;
  std::string iat_mode = "code_negated_grad";
  std::string target = "scores";   // scores | embeddings (word AT / RP)
  std::vector<std::string> sites;  // empty: every site of the target's kind
  bool replicate_ref_double_grad = false;
};

class AdversarialAttention : public Regularizer {
 public:
  explicit AdversarialAttention(AdversarialAttentionOptions options);
  bool needs_scores() const override { return target_ == PerturbTarget::kScores; }
  bool needs_embeddings() const override { return target_ == PerturbTarget::kEmbeddings; }
  torch::Tensor compute(const RegularizerInputs& in) override;

  // The perturbation of the last compute(), per site (for tests and reports).
  const std::vector<std::pair<std::string, torch::Tensor>>& last_perturbation() const { return last_r_; }

 private:
  AdversarialAttentionOptions options_;
  PerturbTarget target_;
  std::vector<std::pair<std::string, torch::Tensor>> last_r_;
};

}  // namespace attnlab::objective
