// The BiLSTM + attention classifier of Jain & Wallace (2019), the model the adversarial-attention
// papers train (notes attention_regularizers.md §1.1):
//   e = Dropout(Embedding(tokens))              (B, T, E), pad row zero
//   h = BiLSTM(e)                               (B, T, 2H), packed by length, so padding never enters
//   c, a = attention pooling of h              additive (tanh) or dot, site "pool"
//   logits = Linear(Dropout(c))                 (B, classes)
// The reference trains a single sigmoid output with a class-weighted BCE; here the output has one
// logit per class and the framework's cross-entropy (the ranking and the attention are the same
// kind; the loss weights are not). The embedding is initialised from the dataset's pretrained word
// vectors when it has them (InputSpec::pretrained_embeddings), and passes through the tap's
// embedding site "embed" (word AT/VAT, gradient importance).
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/additive/additive_pooling.h"
#include "models/model.h"

namespace attnlab::models {

struct BiLstmAttentionOptions {
  int64_t embed_dim = 300;
  int64_t hidden = 128;  // per direction
  std::string score = "additive";  // additive | dot
  int64_t attention_dim = 128;
  double dropout = 0.0;  // the reference has none
};

class BiLstmAttention : public Model {
 public:
  BiLstmAttention(const BiLstmAttentionOptions& options, const InputSpec& spec);
  ModelOutput forward(const ModelInput& input, attention::ForwardContext& ctx) override;

 private:
  BiLstmAttentionOptions options_;
  InputSpec spec_;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::LSTM lstm_{nullptr};
  attention::AdditivePooling pool_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace attnlab::models
