// Attention-entropy maximisation (AEM, Zhang et al. 2024; notes attention_regularizers.md §3.1):
// the term is the negative attention entropy -H(a), so minimising weight * term raises the
// entropy. Per site, -H is averaged over the valid (example, head, query) rows — for one
// attention-pooling branch (ABMIL) that is the reference's sum, for several heads or classes the
// reference's mean over them — then averaged over the chosen sites. Padded keys are excluded; the
// entropy is in nats and, as in the reference, not divided by log n unless `normalized` (which is
// not the reference: it makes the weight independent of bag or sequence length). The weight's
// schedule (constant, or cosine annealing as in the paper's v3) comes from the objective.
#pragma once

#include <string>
#include <vector>

#include "framework/objective/regularizer.h"

namespace attnlab::objective {

struct AttentionEntropyOptions {
  bool normalized = false;
  std::vector<std::string> sites;  // empty: every site
};

class AttentionEntropy : public Regularizer {
 public:
  explicit AttentionEntropy(AttentionEntropyOptions options) : options_(std::move(options)) {}
  // Row entropies, not weights: a fused attention kernel gives them without the (B, H, T, T)
  // weights. Sites a context recorded as weights only (tests, hand-made contexts) are read too.
  bool needs_row_entropy() const override { return true; }
  bool reads_labels() const override { return false; }
  torch::Tensor compute(const RegularizerInputs& in) override;

 private:
  AttentionEntropyOptions options_;
};

}  // namespace attnlab::objective
