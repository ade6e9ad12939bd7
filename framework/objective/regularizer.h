// The regularizer seam of the objective (DESIGN.md §3, "Objective"): a task loss plus a list of
// regularizers, each returning a named scalar that the objective weights (with a schedule) and
// logs separately. Regularizers may run extra forwards through the model with their own
// ForwardContext (the attention tap), so any regularizer works with any attention module.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "attention/context.h"
#include "models/model.h"

namespace attnlab::objective {

// Everything a regularizer may look at for one micro-batch.
struct RegularizerInputs {
  models::Model& model;
  const models::ModelInput& input;
  const torch::Tensor& labels;              // (B) int64; undefined for unlabelled batches
  const models::ModelOutput& clean;         // the clean forward's output (with graph)
  const attention::ForwardContext& clean_ctx;  // the clean forward's recorded scores/weights
  const torch::Tensor& task_loss;           // the clean task loss (with graph)
  int64_t step;                             // optimizer step, 0-based
  // The objective's task loss of other logits against this batch's labels (for the extra
  // forwards of adversarial terms), and this term's weight at this step.
  std::function<torch::Tensor(const torch::Tensor& logits)> task_loss_of;
  double weight = 1.0;
};

class Regularizer {
 public:
  virtual ~Regularizer() = default;
  // Whether the clean forward must record pre-softmax scores / attention weights for it.
  virtual bool needs_scores() const { return false; }
  virtual bool needs_weights() const { return false; }
  // The rows' attention entropies (ForwardContext::row_entropies), which fused kernels give
  // without materialising the weights.
  virtual bool needs_row_entropy() const { return false; }
  // ... and the embeddings at the model's embedding sites (word AT / VAT).
  virtual bool needs_embeddings() const { return false; }
  // Whether the term reads the labels; terms that do not (VAT, AEM) also run on unlabelled batches.
  virtual bool reads_labels() const { return true; }
  // The unweighted term (a scalar with graph); the objective multiplies it by its weight.
  virtual torch::Tensor compute(const RegularizerInputs& inputs) = 0;
};

using RegularizerPtr = std::shared_ptr<Regularizer>;

}  // namespace attnlab::objective
