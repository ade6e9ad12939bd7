// The model interface: a network maps a batch of inputs to logits, with the attention modules'
// auxiliary losses passed up. Models know nothing of datasets or trainers; the framework's task
// turns a dataset batch into ModelInput.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attention/attention.h"

namespace attnlab::models {

// What a model must know about its inputs to size itself (mirrors datasets::DataSpec; the
// framework copies one into the other so neither folder depends on the other).
struct InputSpec {
  int64_t num_classes = 0;   // classifiers: number of classes; language models: 0
  int64_t vocab_size = 0;   // > 0: token ids; 0: float features of size feature_dim
  int64_t feature_dim = 0;
  int64_t max_length = 0;
  int64_t pad_id = 0;
  bool language_model = false;  // next-token prediction: logits for every position (B, T, vocab)
  // (vocab_size, E) pretrained word vectors to initialise the token embedding with, or undefined;
  // a model whose embedding width differs must refuse them (std::invalid_argument naming both).
  torch::Tensor pretrained_embeddings;
};

struct ModelInput {
  torch::Tensor inputs;        // (B, T) int64 or (B, T, F) float
  torch::Tensor padding_mask;  // (B, T) bool, true = padding; may be undefined
};

struct ModelOutput {
  torch::Tensor logits;                          // (B, C); language models (B, T, vocab)
  std::vector<attention::AuxLoss> aux_losses;    // summed over layers by the caller's objective
};

class Model : public torch::nn::Module {
 public:
  virtual ModelOutput forward(const ModelInput& input, attention::ForwardContext& ctx) = 0;
};

using ModelPtr = std::shared_ptr<Model>;

// Builds the attention module of one layer: (layer index, model width) -> module. Models receive
// it from whoever reads the recipe, so they never see configuration.
using AttentionBuilder = std::function<attention::AttentionPtr(int layer, int64_t d_model)>;

}  // namespace attnlab::models
