// A metric computed over a whole evaluation split. Metrics are registered by name (kind "metric")
// so recipes list them in `eval.metrics`. A metric reads one task's evaluation: a classification
// metric the concatenated logits and labels, a language-model metric the token totals (a
// language model's logits over a split are far too large to keep).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "datasets/dataset.h"

namespace attnlab::metrics {

// Sums over every non-ignored target of a split, for language-model metrics.
struct TokenTotals {
  double nll_sum = 0.0;   // natural-log negative log-likelihood, summed over targets
  int64_t tokens = 0;     // targets counted
  int64_t bytes = 0;      // bytes of text those targets stand for (Batch::target_bytes)
  int64_t correct = 0;    // targets that were the argmax
};

class Metric {
 public:
  virtual ~Metric() = default;
  // The task whose evaluation this metric reads; a recipe pairing a metric with a dataset of
  // another task is rejected before training.
  virtual datasets::Task task() const { return datasets::Task::kClassification; }
  // Classification: logits (N, C) float, labels (N) int64. nullopt when undefined for this data
  // (e.g. AUROC with more than two classes or with one class absent); then it is not reported.
  virtual std::optional<double> compute(const torch::Tensor& /*logits*/,
                                        const torch::Tensor& /*labels*/) const {
    return std::nullopt;
  }
  // Language model: from the split's totals; nullopt when undefined (e.g. no bytes counted).
  virtual std::optional<double> compute_tokens(const TokenTotals& /*totals*/) const {
    return std::nullopt;
  }
  // Whether larger is better (for early stopping and best-checkpoint defaults).
  virtual bool higher_is_better() const { return true; }
};

using MetricPtr = std::shared_ptr<Metric>;

}  // namespace attnlab::metrics
