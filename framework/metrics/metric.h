// A metric computed over a whole evaluation split from the model's logits and the labels.
// Metrics are registered by name (kind "metric") so recipes list them in `eval.metrics`.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>

namespace attnlab::metrics {

class Metric {
 public:
  virtual ~Metric() = default;
  // logits (N, C) float, labels (N) int64; nullopt when undefined for this data (e.g. AUROC with
  // more than two classes or with one class absent), in which case it is not reported.
  virtual std::optional<double> compute(const torch::Tensor& logits,
                                        const torch::Tensor& labels) const = 0;
  // Whether larger is better (for early stopping and best-checkpoint defaults).
  virtual bool higher_is_better() const { return true; }
};

using MetricPtr = std::shared_ptr<Metric>;

}  // namespace attnlab::metrics
