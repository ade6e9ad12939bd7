// Mega's normalised feed-forward layer (fairseq `NormalizedFeedForwardNetwork`, notes §2.5),
// x (B, T, D) -> (B, T, D), residual included:
//   prenorm:  Y = X + dropout(W2 hidden_dropout(SiLU(W1 Norm(X) + b1)) + b2)
//   postnorm: Y = Norm(X + dropout(W2 hidden_dropout(SiLU(W1 X + b1)) + b2))
// Parameters (fairseq names): norm.*, fc1 Linear(D, F), fc2 Linear(F, D), weights N(0, 0.02),
// biases 0. F = hidden_dim (0: 2 * d_model, Mega's default value dimension).
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/mega/sequence_norm.h"

namespace attnlab::attention {

struct NormalizedFFNOptions {
  int64_t d_model = 0;
  int64_t hidden_dim = 0;       // 0: 2 * d_model
  double dropout = 0.0;         // on the layer's output, before the residual
  double hidden_dropout = 0.0;  // on the SiLU activations
  std::string norm = "layer";   // layer | scale | rms | batch
  bool prenorm = true;
};

class NormalizedFFNImpl : public torch::nn::Module {
 public:
  explicit NormalizedFFNImpl(const NormalizedFFNOptions& options);
  // key_padding_mask (B, T) bool, true = padding: only batch norm's statistics use it.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask = {});

  const NormalizedFFNOptions& options() const { return options_; }
  SequenceNorm norm() const { return norm_; }
  torch::nn::Linear fc1() const { return fc1_; }
  torch::nn::Linear fc2() const { return fc2_; }

 private:
  NormalizedFFNOptions options_;
  SequenceNorm norm_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(NormalizedFFN);

}  // namespace attnlab::attention
