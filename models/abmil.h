// Attention-based deep multiple-instance learning (ABMIL; Ilse, Tomczak & Welling, ICML 2018) and
// AEM's MHA pooling (notes attention_regularizers.md §3.2). A bag of N instances, (B, N, F) float
// features with a (B, N) padding mask (true = padding), becomes one prediction:
//   instance encoder, per instance, h (B, N, D):
//     conv:   8x8 images (F = 64, reshaped 1x8x8): conv 1->20 3x3 pad 1, ReLU, maxpool 2 (4x4),
//             conv 20->50 3x3 pad 1, ReLU, maxpool 2 (2x2), FC 200->D, ReLU. Ilse's LeNet on 28x28
//             MNIST uses 5x5 kernels without padding and FC 800->500; 8x8 digits are too small for
//             two unpadded 5x5 convolutions, so the kernels are 3x3 with padding 1.
//     linear: AEM's DimReduction for precomputed features: Linear(F->D, no bias), ReLU.
//   h passes through the tap's embedding site "embed" (with the padding mask).
//   pooling, site "pool" (scores (B, 1, 1, N) through ctx.on_scores before the softmax, so every
//   attention regularizer, AEM included, applies; padded instances get weight 0):
//     gated:    s_n = w^T (tanh(V h_n) ⊙ sigmoid(U h_n)), V, U: D->attention_dim (Ilse's gated
//               attention, the AEM repo's ABMIL); z = sum_n softmax(s)_n h_n
//     additive: s_n = w^T tanh(V h_n) (Ilse's ungated attention)
//     attention: AEM's MHA variant: a learned query token q (1, 1, D), N(0, 1e-6^2) as in AEM, is
//               prepended to the instances and the recipe's attention module (mha, moh, ...)
//               runs over [q; h] (B, N+1, D), site "pool"; z = LayerNorm(out[:, 0]). Unlike
//               AEM's cross-attention, the instances' own rows are computed too (and discarded),
//               so a regularizer reading site "pool" sees all N+1 query rows, not only q's; q
//               also attends to itself.
//   logits = Linear(Dropout(z)) (B, num_classes); the framework's softmax cross-entropy (Ilse: one
//   sigmoid output and Bernoulli NLL, the same model for two classes).
// No positions are used anywhere, so the output does not depend on the order of the instances.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attention/additive/additive_pooling.h"
#include "models/model.h"

namespace attnlab::models {

struct AbmilOptions {
  std::string encoder = "conv";    // conv | linear
  int64_t hidden = 128;            // D, the instance embedding size (Ilse: 500; AEM: 128-384)
  std::string pooling = "gated";   // gated | additive | attention
  int64_t attention_dim = 128;     // gated/additive score width (Ilse and AEM: 128)
  double dropout = 0.0;            // on z before the classifier (AEM: 0 for ABMIL)
};

class Abmil : public Model {
 public:
  // Throws std::invalid_argument for token or language-model data, conv with F != 64, and
  // pooling: attention without an attention module.
  Abmil(const AbmilOptions& options, const InputSpec& spec, const AttentionBuilder& attention);
  ModelOutput forward(const ModelInput& input, attention::ForwardContext& ctx) override;
  // The instance embeddings h (B, N, D) of x (B, N, F), before the tap.
  torch::Tensor encode(const torch::Tensor& x);

 private:
  AbmilOptions options_;
  InputSpec spec_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc_{nullptr};      // conv: 200 -> D; linear: F -> D (no bias)
  attention::AdditivePooling pool_{nullptr};
  attention::AttentionPtr attn_;
  torch::Tensor query_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace attnlab::models
