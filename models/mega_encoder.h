// The Mega LRA encoder (Ma et al., 2023; fairseq's MegaLRAEncoder, notes moh_mega.md §2.5-2.6):
//   h0 = Dropout(embed(inputs))         tokens (B, T) -> Embedding (pad row zero), or features
//                                       (B, T, F) -> Linear; no position embeddings: Mega's
//                                       attention carries a relative position bias
//   h  = NFFN_i(Mega_i(h))              layers.<i>.{attn,ffn}, attention site "layer<i>"; each sub-layer
//                                       holds its own residual and norm (so no residual here)
//   z  = masked_mean(final_norm(h))     final norm only with prenorm (post-norm layers end normed)
//   logits = head(z)                    (B, num_classes), classifier_hidden = 0
//   logits = head(gelu(dropout(classifier(z))))   classifier_hidden = H > 0: fairseq's LRA
//                                       classifier, Linear(D, H) then a bias-free Linear(H, C)
// Mega_i comes from the AttentionBuilder (normally `mega`), so chunked Mega and any variant plug
// in. Padding mask (B, T) bool, true = padding.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "attention/mega/normalized_ffn.h"
#include "attention/mega/sequence_norm.h"
#include "models/model.h"

namespace attnlab::models {

struct MegaEncoderOptions {
  int64_t d_model = 80;
  int64_t layers = 6;
  int64_t ffn_dim = 0;          // 0: 2 * d_model
  double dropout = 0.1;         // embeddings and each sub-layer's output
  double hidden_dropout = 0.0;  // inside the normalized FFN
  std::string norm = "layer";   // layer | scale | rms | batch (FFN and final norm)
  bool prenorm = true;
  int64_t classifier_hidden = 0;  // 0: one Linear(D, C); > 0: Linear(D, H), dropout, GELU, Linear(H, C, no bias)
};

// One layer: the Mega sub-layer ("attn") then the normalized FFN ("ffn").
class MegaLayerImpl : public torch::nn::Module {
 public:
  MegaLayerImpl(attention::AttentionPtr attn, const attention::NormalizedFFNOptions& ffn);
  attention::AttentionPtr attn;
  attention::NormalizedFFN ffn{nullptr};
};
TORCH_MODULE(MegaLayer);

class MegaEncoder : public Model {
 public:
  MegaEncoder(const MegaEncoderOptions& options, const InputSpec& spec, const AttentionBuilder& build_attention);

  ModelOutput forward(const ModelInput& input, attention::ForwardContext& ctx) override;

 private:
  MegaEncoderOptions options_;
  InputSpec spec_;
  torch::nn::Embedding token_embed_{nullptr};
  torch::nn::Linear feature_embed_{nullptr};
  torch::nn::ModuleList layers_;
  std::vector<MegaLayer> layer_list_;
  attention::SequenceNorm final_norm_{nullptr};
  torch::nn::Linear classifier_{nullptr};  // only with classifier_hidden > 0
  torch::nn::Linear head_{nullptr};
};

}  // namespace attnlab::models
