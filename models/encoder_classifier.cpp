// Transformer encoder classifier; see encoder_classifier.h for the equations and shapes.
#include "models/encoder_classifier.h"

#include <cmath>
#include <stdexcept>

#include "attention/kernels/dropout.h"
#include "models/pretrained_embeddings.h"

namespace attnlab::models {

torch::Tensor sinusoidal_positions(int64_t length, int64_t d_model,
                                   const torch::TensorOptions& options) {
  const auto t = torch::arange(length, options).unsqueeze(1);  // (T,1)
  const auto i = torch::arange(d_model, options);              // (D)
  // Dimensions 2i and 2i+1 share the frequency 10000^(-2i/D).
  const auto freq = torch::exp(torch::floor(i / 2) * 2 * (-std::log(10000.0) / d_model));
  const auto angle = t * freq.unsqueeze(0);                         // (T,D)
  const auto even = (torch::remainder(i, 2) == 0).unsqueeze(0);     // (1,D)
  return torch::where(even, torch::sin(angle), torch::cos(angle));  // (T,D)
}

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& padding_mask) {
  if (!padding_mask.defined()) return x.mean(1);
  const auto keep = padding_mask.logical_not().to(x.scalar_type()).unsqueeze(-1);  // (B,T,1)
  const auto count = keep.sum(1).clamp_min(1.0);                                   // (B,1)
  return (x * keep).sum(1) / count;                                                // (B,D)
}

EncoderClassifier::EncoderClassifier(const EncoderClassifierOptions& options, const InputSpec& spec,
                                     const AttentionBuilder& build_attention)
    : options_(options), spec_(spec) {
  const int64_t d = options.d_model;
  TORCH_CHECK(d > 0, "encoder_classifier: d_model must be positive (got ", d, ")");
  TORCH_CHECK(options.layers >= 0, "encoder_classifier: layers must be >= 0 (got ", options.layers,
              ")");
  TORCH_CHECK(options.ff_dim >= 0, "encoder_classifier: ff_dim must be >= 0 (got ", options.ff_dim,
              ")");
  TORCH_CHECK(options.dropout >= 0.0 && options.dropout < 1.0,
              "encoder_classifier: dropout must be in [0, 1) (got ", options.dropout, ")");
  TORCH_CHECK(options.pooling == "mean" || options.pooling == "cls",
              "encoder_classifier: pooling must be 'mean' or 'cls' (got '", options.pooling, "')");
  if (spec.language_model) {
    throw std::invalid_argument(
        "encoder_classifier is a classifier, but the dataset is a language-model corpus; use model: "
        "{name: decoder_lm} for next-token prediction");
  }
  TORCH_CHECK(spec.num_classes > 0, "encoder_classifier: num_classes must be positive");
  TORCH_CHECK(spec.max_length > 0, "encoder_classifier: max_length must be positive");
  TORCH_CHECK(spec.vocab_size > 0 || spec.feature_dim > 0,
              "encoder_classifier: the input needs vocab_size > 0 (tokens) or feature_dim > 0");
  TORCH_CHECK(build_attention, "encoder_classifier: no attention builder");

  tokens_ = spec.vocab_size > 0;
  cls_ = options.pooling == "cls";
  if (tokens_) {
    TORCH_CHECK(spec.pad_id >= 0 && spec.pad_id < spec.vocab_size, "encoder_classifier: pad_id ",
                spec.pad_id, " is outside the vocabulary 0..", spec.vocab_size - 1);
    // padding_idx keeps the pad row at zero and out of the gradient.
    token_embed_ = register_module(
        "embed", torch::nn::Embedding(
                     torch::nn::EmbeddingOptions(spec.vocab_size, d).padding_idx(spec.pad_id)));
    load_pretrained_embeddings(token_embed_, spec, "encoder_classifier");
  } else {
    feature_embed_ = register_module("embed", torch::nn::Linear(spec.feature_dim, d));
  }
  const int64_t positions = spec.max_length + (cls_ ? 1 : 0);
  if (options.learned_positions) {
    pos_ = register_module("pos", torch::nn::Embedding(positions, d));
    torch::NoGradGuard no_grad;
    pos_->weight.normal_(0.0, 0.02);  // small, as BERT and ViT initialise positions
  }
  if (cls_) {
    cls_token_ = register_parameter("cls_token", torch::randn({1, 1, d}) * 0.02);
  }

  const EncoderBlockOptions block_options{d, options.ff_dim > 0 ? options.ff_dim : 4 * d,
                                          options.dropout, options.norm_eps};
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.layers; ++i) {
    blocks_->push_back(EncoderBlock(block_options, build_attention(static_cast<int>(i), d)));
  }
  final_norm_ = register_module(
      "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(options.norm_eps)));
  head_ = register_module("head", torch::nn::Linear(d, spec.num_classes));
}

EncoderBlock EncoderClassifier::block(int64_t i) const {
  TORCH_CHECK(i >= 0 && i < options_.layers, "encoder_classifier: no block ", i);
  return EncoderBlock(blocks_->ptr<EncoderBlockImpl>(i));
}

torch::Tensor EncoderClassifier::embed_inputs(const ModelInput& input, attention::ForwardContext& ctx) {
  const torch::Tensor& in = input.inputs;
  torch::Tensor h;
  if (tokens_) {
    TORCH_CHECK(in.dim() == 2 && in.scalar_type() == torch::kLong,
                "encoder_classifier: token inputs must be (B, T) int64, got ", in.sizes(), " ",
                in.scalar_type());
    h = token_embed_->forward(in);  // (B,T,D)
  } else {
    TORCH_CHECK(in.dim() == 3 && in.size(2) == spec_.feature_dim && in.is_floating_point(),
                "encoder_classifier: feature inputs must be (B, T, ", spec_.feature_dim,
                ") float, got ", in.sizes(), " ", in.scalar_type());
    h = feature_embed_->forward(in);  // (B,T,D)
  }
  // The tap sees the token (or projected feature) embeddings before CLS and positions.
  h = ctx.on_embeddings("embed", h, input.padding_mask);
  const int64_t batch = h.size(0), t = h.size(1);
  TORCH_CHECK(t <= spec_.max_length, "encoder_classifier: sequence length ", t,
              " exceeds max_length ", spec_.max_length);
  if (cls_) h = torch::cat({cls_token_.expand({batch, 1, options_.d_model}), h}, 1);  // (B,T+1,D)
  const int64_t length = h.size(1);
  if (options_.learned_positions) {
    h = h + pos_->weight.narrow(0, 0, length).unsqueeze(0);  // (1,T',D) broadcast over B
  } else {
    h = h + sinusoidal_positions(length, options_.d_model, h.options()).unsqueeze(0);
  }
  return attention::kernels::dropout(h, options_.dropout, is_training());
}

ModelOutput EncoderClassifier::forward(const ModelInput& input, attention::ForwardContext& ctx) {
  auto h = embed_inputs(input, ctx);  // (B,T',D), T' = T (+1 with CLS)
  const int64_t batch = h.size(0), t = input.inputs.size(1);
  torch::Tensor mask = input.padding_mask;
  if (mask.defined()) {
    TORCH_CHECK(mask.scalar_type() == torch::kBool && mask.dim() == 2 && mask.size(0) == batch &&
                    mask.size(1) == t,
                "encoder_classifier: padding_mask must be (B, T) = (", batch, ", ", t,
                ") bool, got ", mask.sizes(), " ", mask.scalar_type());
    mask = mask.to(h.device());
    if (cls_) {
      mask = torch::cat({torch::zeros({batch, 1}, mask.options()), mask}, 1);  // (B,T+1)
    }
  }

  ModelOutput output;
  for (int64_t i = 0; i < options_.layers; ++i) {
    h = blocks_->ptr<EncoderBlockImpl>(i)->forward(h, mask, /*causal=*/false, ctx,
                                                   "layer" + std::to_string(i), output.aux_losses);
  }
  h = final_norm_->forward(h);
  const auto pooled = cls_ ? h.select(1, 0) : masked_mean(h, mask);  // (B,D)
  output.logits = head_->forward(pooled);                            // (B,C)
  return output;
}

}  // namespace attnlab::models
