// Attention pooling of a sequence into one vector, as in the Jain & Wallace models that the
// adversarial-attention papers train (notes attention_regularizers.md §1.1):
//   additive ("tanh", Bahdanau):  s_t = v^T tanh(W h_t + b)      W: D -> A (bias), v: A -> 1 (no bias)
//   dot:                          s_t = w^T h_t / sqrt(D)        w: D -> 1 (no bias)
//   gated (Ilse et al. 2018, ABMIL): s_t = v^T (tanh(W h_t + b) ⊙ sigmoid(U h_t + c))
//                                  W, U: D -> A (bias), v: A -> 1 (no bias; Ilse's has one, but a
//                                  constant shift of every score leaves the softmax unchanged)
//   a = masked_softmax(s);  c = sum_t a_t h_t
// The scores pass through the forward context as (B, 1, 1, T) (one head, one query) before the
// softmax, and the weights after it, so every attention regularizer and metric applies. Padded
// positions get weight exactly 0 and their scores no gradient.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/context.h"

namespace attnlab::attention {

struct AdditivePoolingOptions {
  int64_t input_dim = 0;
  int64_t attention_dim = 128;  // A, additive and gated
  std::string score = "additive";  // additive | dot | gated
};

struct PooledOutput {
  torch::Tensor context;  // (B, D)
  torch::Tensor weights;  // (B, T), zero at padding
};

class AdditivePoolingImpl : public torch::nn::Module {
 public:
  explicit AdditivePoolingImpl(const AdditivePoolingOptions& options);
  // h (B, T, D); key padding mask (B, T) bool, true = padding, or undefined.
  PooledOutput forward(const torch::Tensor& h, const torch::Tensor& key_padding_mask, ForwardContext& ctx,
                       const std::string& site);
  // The unnormalised scores s (B, T), without the tap (for tests).
  torch::Tensor scores(const torch::Tensor& h);

 private:
  AdditivePoolingOptions options_;
  torch::nn::Linear w_{nullptr};  // additive, gated: D -> A (the tanh branch; Ilse's V)
  torch::nn::Linear u_{nullptr};  // gated: D -> A (the sigmoid gate)
  torch::nn::Linear v_{nullptr};  // additive: A -> 1; dot: D -> 1
};
TORCH_MODULE(AdditivePooling);

}  // namespace attnlab::attention
