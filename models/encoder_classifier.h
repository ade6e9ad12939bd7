// A transformer encoder classifier (the ViT / BERT-classifier shape, pre-norm):
//   h0 = embed(inputs) + pos            tokens (B, T) int64 -> Embedding, or features (B, T, F) ->
//                                       Linear; with pooling "cls" a learned token is prepended,
//                                       so T becomes T + 1 (never padded)
//   h  = Dropout(h0); h = Block_i(h)    i = 0..layers-1, attention site "layer<i>"
//   z  = pool(final_norm(h))            mean over non-padded positions, or the CLS position  (B, D)
//   logits = head(z)                    (B, num_classes)
// The attention module of each block comes from the AttentionBuilder, so any mechanism plugs in.
// Padding mask (B, T) bool, true = padding. Parameter names are listed in models/README.md.
#pragma once

#include <torch/torch.h>

#include <string>

#include "models/encoder_block.h"
#include "models/model.h"

namespace attnlab::models {

struct EncoderClassifierOptions {
  int64_t d_model = 64;
  int64_t layers = 2;
  int64_t ff_dim = 0;             // 0 -> 4 * d_model
  double dropout = 0.1;           // embedding, residual branches and feed-forward
  std::string pooling = "mean";   // "mean" | "cls"
  bool learned_positions = true;  // false: fixed sinusoidal positions (Vaswani et al. 2017)
  double norm_eps = 1e-5;
};

class EncoderClassifier : public Model {
 public:
  EncoderClassifier(const EncoderClassifierOptions& options, const InputSpec& spec,
                    const AttentionBuilder& build_attention);

  ModelOutput forward(const ModelInput& input, attention::ForwardContext& ctx) override;

  const EncoderClassifierOptions& options() const { return options_; }
  const InputSpec& spec() const { return spec_; }
  // Block i; its attention module is block(i)->attn().
  EncoderBlock block(int64_t i) const;

 private:
  // (B, T, D) embeddings of the inputs, with positions added and the CLS token prepended.
  torch::Tensor embed_inputs(const ModelInput& input, attention::ForwardContext& ctx);

  EncoderClassifierOptions options_;
  InputSpec spec_;
  bool tokens_ = false;
  bool cls_ = false;
  torch::nn::Embedding token_embed_{nullptr};
  torch::nn::Linear feature_embed_{nullptr};
  torch::nn::Embedding pos_{nullptr};
  torch::Tensor cls_token_;  // (1, 1, D)
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

// Fixed sinusoidal positions, (T, D): pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(...).
torch::Tensor sinusoidal_positions(int64_t length, int64_t d_model,
                                   const torch::TensorOptions& options);

// Mean of x (B, T, D) over positions where padding_mask (B, T) is false -> (B, D). An example with
// every position padded pools to zeros. An undefined mask averages over all positions.
torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& padding_mask);

}  // namespace attnlab::models
