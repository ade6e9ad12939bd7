// A causal decoder language model over token ids (B, T) -> next-token logits (B, T, vocab):
//   h = Dropout(embed(inputs) [+ pos])    embedding N(0, 0.02) with the pad row zero; learned
//                                         positions (max_length, D) only for transformer blocks
//                                         (Mega carries a relative position bias and the EMA)
//   h = Block_i(h, causal)                i = 0..layers-1, attention site "layer<i>":
//     block transformer: models/encoder_block.h (pre-norm attention + GELU FFN), causal = true,
//                        over any attention module except `mega` (mha, moh, ...)
//     block mega:        MegaLayer of models/mega_encoder.h: the `mega` sub-layer (residual and
//                        norm inside), then the pre-norm normalized FFN; the causal call uses the
//                        forward EMA kernel and a causal attention mask
//   h = final_norm(h)
//   logits = h W_out^T + b_out            W_out = embed.weight with the pad row held at zero
//                                         (tie_embeddings), or a separate head.weight (V, D)
// Position t sees inputs 0..t only, so logits[:, t] depend on no later token. Padding (B, T) bool,
// true = padding, only ever sits after the real tokens of a window. MoH's balance loss and any
// other aux losses of the attention modules are returned in layer order.
// Parameter names: embed.weight, pos.weight (transformer), blocks.<i>.* (transformer: as in
// encoder_block.h; mega: blocks.<i>.attn.*, blocks.<i>.ffn.*), final_norm.*, head.weight (untied),
// head_bias.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "attention/mega/sequence_norm.h"
#include "models/encoder_block.h"
#include "models/mega_encoder.h"
#include "models/model.h"

namespace attnlab::models {

struct DecoderLMOptions {
  int64_t d_model = 128;
  int64_t layers = 4;
  std::string block = "transformer";  // transformer | mega
  int64_t ff_dim = 0;                 // 0: 4 * d_model (transformer), 2 * d_model (mega)
  double dropout = 0.1;               // embeddings, residual branches, FFN
  double hidden_dropout = 0.0;        // inside the mega blocks' FFN
  std::string norm = "layer";         // mega blocks' FFN and final norm: layer | scale | rms
  bool tie_embeddings = true;
  double norm_eps = 1e-5;             // transformer LayerNorms
};

class DecoderLM : public Model {
 public:
  // std::invalid_argument for a spec that is not a language model, bad options, `mega` in a
  // transformer block or another module in a mega block, and data longer than the module's
  // max_positions.
  DecoderLM(const DecoderLMOptions& options, const InputSpec& spec, const AttentionBuilder& build_attention);

  ModelOutput forward(const ModelInput& input, attention::ForwardContext& ctx) override;

  // The (B, T, D) input embeddings of token ids (with positions, before dropout), and the logits
  // from given embeddings: forward(x) == forward_embedded(embed_tokens(x)). Lets a test take
  // gradients with respect to the embeddings.
  torch::Tensor embed_tokens(const torch::Tensor& inputs);
  ModelOutput forward_embedded(const torch::Tensor& embedded, const torch::Tensor& padding_mask,
                               attention::ForwardContext& ctx);

  const DecoderLMOptions& options() const { return options_; }
  const InputSpec& spec() const { return spec_; }

 private:
  torch::Tensor output_weight() const;  // (V, D)

  DecoderLMOptions options_;
  InputSpec spec_;
  bool mega_ = false;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::Embedding pos_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<EncoderBlock> transformer_blocks_;
  std::vector<MegaLayer> mega_blocks_;
  torch::nn::LayerNorm final_layer_norm_{nullptr};
  attention::SequenceNorm final_sequence_norm_{nullptr};
  torch::nn::Linear head_{nullptr};
  torch::Tensor head_bias_;  // (V)
};

}  // namespace attnlab::models
