// Virtual adversarial training on the attention scores (Attention VAT, Kitada & Iyatomi 2023;
// notes attention_regularizers.md §2.1): with p = the clean prediction, detached,
//   d ~ N(0, I) at non-padded keys, normalised per example and site;
//   K times: d <- normalize(dKL(p || p(s + xi d)) / dd)        (power iteration)
//   r = eps * d (detached);  term = mean KL(p || p(s + r))
// The labels are never read, so the term is the same on unlabelled batches. Language models:
// the KL is averaged over the non-padded positions. Defaults follow Miyato et al.'s text VAT
// (K = 1, xi = 0.1); the attention-score scale of eps is not that of embeddings, so sweep it.
// Attention iVAT (notes §2.1: "the iAT construction with VAT's KL objective"; the paper's exact
// definition is not available): after the power iteration, the direction d is passed through
// iat_direction (the same three readings as attention_iat) and renormalised. With target
// "embeddings" the perturbation goes on the embedding sites instead: word VAT (Miyato et al.).
#pragma once

#include <string>
#include <vector>

#include "framework/objective/attention_sites.h"
#include "framework/objective/regularizer.h"

namespace attnlab::objective {

struct VirtualAdversarialAttentionOptions {
  double epsilon = 1.0;
  double xi = 0.1;
  int64_t power_iterations = 1;
  bool interpretable = false;                   // iVAT
  std::string iat_mode = "code_negated_grad";   // iVAT's reading of iAT (see attention_adversarial.h)
  std::string target = "scores";                // scores | embeddings (word VAT)
  std::vector<std::string> sites;  // empty: every site of the target's kind
};

class VirtualAdversarialAttention : public Regularizer {
 public:
  explicit VirtualAdversarialAttention(VirtualAdversarialAttentionOptions options);
  bool needs_scores() const override { return target_ == PerturbTarget::kScores; }
  bool needs_embeddings() const override { return target_ == PerturbTarget::kEmbeddings; }
  bool reads_labels() const override { return false; }
  torch::Tensor compute(const RegularizerInputs& in) override;

  const std::vector<std::pair<std::string, torch::Tensor>>& last_perturbation() const { return last_r_; }

 private:
  VirtualAdversarialAttentionOptions options_;
  PerturbTarget target_;
  std::vector<std::pair<std::string, torch::Tensor>> last_r_;
};

// Mean over rows of KL(softmax(target_logits) || softmax(logits)), target detached by the caller.
// logits (B, C), or (B, T, V) with `padding_mask` (B, T) true = padding (those rows skipped).
torch::Tensor mean_kl_from_logits(const torch::Tensor& target_logits, const torch::Tensor& logits,
                                  const torch::Tensor& padding_mask);

}  // namespace attnlab::objective
