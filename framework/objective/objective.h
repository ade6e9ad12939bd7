// The objective: task loss + the attention modules' auxiliary losses (each with the weight the
// module gives it; losses of the same name from several layers are averaged over those layers)
// + weighted regularizers. Every term is returned by name so it is logged
// separately; `total` is what backpropagates.
//
// A regularizer's weight may follow a schedule over the run's optimizer steps T:
//   constant: w(t) = w0;  linear: w0 + (w_end - w0) * t / T;
//   cosine:   w_end + (w0 - w_end) * 0.5 * (1 + cos(pi * t / T))   (cosine weight annealing)
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "framework/config/schema.h"
#include "framework/config/section.h"
#include "framework/objective/regularizer.h"

namespace attnlab::objective {

struct WeightSchedule {
  double weight = 1.0;
  double weight_end = 0.0;
  std::string shape = "constant";  // constant | linear | cosine
  double at(int64_t step, int64_t total_steps) const;
};

// Adds the keys every regularizer block shares (weight, weight_end, schedule) to its schema,
// and reads them back.
void add_weight_keys(config::Schema& schema, double default_weight);
WeightSchedule read_weight_keys(const config::Section& section);

struct WeightedRegularizer {
  std::string name;          // the term's name in the logs
  RegularizerPtr regularizer;
  WeightSchedule weight;
};

struct ObjectiveTerms {
  torch::Tensor total;                                       // scalar with graph
  torch::Tensor task_loss;                                   // scalar with graph
  std::vector<std::pair<std::string, torch::Tensor>> terms;  // unweighted, detached; task first
};

// The clean forward of an unlabelled batch (semi-supervised training): the terms that read no
// labels are computed on it too, and their value is the mean over the labelled and unlabelled
// examples together, L_vat(labelled ∪ unlabelled) as in Attention VAT (notes §2.2).
struct UnlabelledForward {
  const models::ModelInput& input;
  const models::ModelOutput& out;
  const attention::ForwardContext& ctx;
};

class Objective {
 public:
  Objective(double label_smoothing, std::vector<WeightedRegularizer> regularizers)
      : label_smoothing_(label_smoothing), regularizers_(std::move(regularizers)) {}

  bool needs_scores() const;
  bool needs_weights() const;
  bool needs_row_entropy() const;
  bool needs_embeddings() const;
  // Whether any regularizer reads no labels (so unlabelled data has something to feed).
  bool has_label_free_terms() const;

  // Cross-entropy of logits (B, C) against labels (B), mean over the batch; for a language model
  // logits (B, T, V) against targets (B, T), mean over the targets that are not
  // datasets::kIgnoreTarget.
  torch::Tensor task_loss(const torch::Tensor& logits, const torch::Tensor& labels) const;

  // All terms for one micro-batch, after its clean forward (and that of an unlabelled batch, if any).
  ObjectiveTerms compute(models::Model& model, const models::ModelInput& input,
                         const torch::Tensor& labels, const models::ModelOutput& clean,
                         const attention::ForwardContext& clean_ctx, int64_t step,
                         int64_t total_steps, const UnlabelledForward* unlabelled = nullptr) const;

 private:
  double label_smoothing_;
  std::vector<WeightedRegularizer> regularizers_;
};

}  // namespace attnlab::objective
