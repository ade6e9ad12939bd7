// Mega LRA encoder: embedding, N x (Mega sub-layer, normalized FFN), mean pooling, classifier.
#include "models/mega_encoder.h"

#include <stdexcept>

#include "attention/kernels/dropout.h"
#include "attention/mega/mega_attention.h"
#include "models/encoder_classifier.h"
#include "models/pretrained_embeddings.h"

namespace attnlab::models {

MegaLayerImpl::MegaLayerImpl(attention::AttentionPtr a, const attention::NormalizedFFNOptions& f)
    : attn(register_module("attn", std::move(a))), ffn(register_module("ffn", attention::NormalizedFFN(f))) {}

MegaEncoder::MegaEncoder(const MegaEncoderOptions& options, const InputSpec& spec,
                         const AttentionBuilder& build_attention)
    : options_(options), spec_(spec) {
  TORCH_CHECK(options.d_model > 0 && options.layers > 0, "mega_encoder: d_model and layers must be positive");
  if (spec.language_model) {
    throw std::invalid_argument(
        "mega_encoder is a classifier, but the dataset is a language-model corpus; use model: "
        "{name: decoder_lm, block: mega} for next-token prediction");
  }
  TORCH_CHECK(spec.num_classes > 0, "mega_encoder: the data has no classes");
  TORCH_CHECK(build_attention, "mega_encoder: no attention module given");
  if (spec.vocab_size > 0) {
    token_embed_ = register_module(
        "embed", torch::nn::Embedding(torch::nn::EmbeddingOptions(spec.vocab_size, options.d_model).padding_idx(spec.pad_id)));
    load_pretrained_embeddings(token_embed_, spec, "mega_encoder");
  } else {
    TORCH_CHECK(spec.feature_dim > 0, "mega_encoder: inputs have neither a vocabulary nor features");
    feature_embed_ = register_module("embed", torch::nn::Linear(spec.feature_dim, options.d_model));
  }
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.layers; ++i) {
    attention::NormalizedFFNOptions f;
    f.d_model = options.d_model;
    f.hidden_dim = options.ffn_dim;
    f.dropout = options.dropout;
    f.hidden_dropout = options.hidden_dropout;
    f.norm = options.norm;
    f.prenorm = options.prenorm;
    auto attn = build_attention(static_cast<int>(i), options.d_model);
    // Checked here, when the recipe is loaded, rather than as a failure in the first forward.
    if (auto mega = std::dynamic_pointer_cast<attention::MegaAttention>(attn)) {
      TORCH_CHECK(spec.max_length <= mega->max_length(), "mega: sequences of the data reach ", spec.max_length,
                  " tokens but max_positions is ", mega->max_length(),
                  "; raise max_positions or use chunk_size");
    }
    layer_list_.push_back(MegaLayer(attn, f));
    layers_->push_back(layer_list_.back());
  }
  if (options.prenorm) final_norm_ = register_module("final_norm", attention::SequenceNorm(options.norm, options.d_model));
  TORCH_CHECK(options.classifier_hidden >= 0, "mega_encoder: classifier_hidden must not be negative (got ",
              options.classifier_hidden, ")");
  if (options.classifier_hidden > 0) {
    // fairseq's LRAModel: Sequential(Linear(D, H), Dropout), its activation (GELU: the
    // classifier_activation_fn default, which the Mega LRA commands keep), then a bias-free
    // sentence projection.
    classifier_ = register_module("classifier", torch::nn::Linear(options.d_model, options.classifier_hidden));
    head_ = register_module(
        "head", torch::nn::Linear(torch::nn::LinearOptions(options.classifier_hidden, spec.num_classes).bias(false)));
  } else {
    head_ = register_module("head", torch::nn::Linear(options.d_model, spec.num_classes));
  }
}

ModelOutput MegaEncoder::forward(const ModelInput& input, attention::ForwardContext& ctx) {
  const torch::Tensor& mask = input.padding_mask;  // (B, T) or undefined
  torch::Tensor h = token_embed_ ? token_embed_->forward(input.inputs) : feature_embed_->forward(input.inputs);  // (B,T,D)
  h = ctx.on_embeddings("embed", h, mask);
  h = attention::kernels::dropout(h, options_.dropout, is_training());
  ModelOutput out;
  for (size_t i = 0; i < layer_list_.size(); ++i) {
    auto a = layer_list_[i]->attn->forward(attention::AttentionCall{h, mask, false}, ctx, "layer" + std::to_string(i));
    out.aux_losses.insert(out.aux_losses.end(), a.aux_losses.begin(), a.aux_losses.end());
    h = layer_list_[i]->ffn->forward(a.out, mask);
  }
  if (final_norm_) h = final_norm_->forward(h, mask);
  torch::Tensor z = masked_mean(h, mask);  // (B, D)
  if (classifier_) {
    z = torch::gelu(attention::kernels::dropout(classifier_->forward(z), options_.dropout,
                                                is_training()));  // (B, H)
  }
  out.logits = head_->forward(z);  // (B, C)
  return out;
}

}  // namespace attnlab::models
