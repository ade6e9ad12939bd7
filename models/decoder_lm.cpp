// Causal decoder LM; see decoder_lm.h for the equations and shapes.
#include "models/decoder_lm.h"

#include <stdexcept>

#include "attention/kernels/dropout.h"
#include "attention/mega/mega_attention.h"

namespace attnlab::models {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("decoder_lm: " + message);
}

}  // namespace

DecoderLM::DecoderLM(const DecoderLMOptions& options, const InputSpec& spec, const AttentionBuilder& build_attention)
    : options_(options), spec_(spec) {
  require(spec.language_model,
          "decoder_lm needs a language-model dataset such as `text` (this dataset is for classification)");
  require(spec.vocab_size > 0, "the data must be token ids (vocab_size > 0)");
  require(spec.pad_id >= 0 && spec.pad_id < spec.vocab_size, "pad_id is outside the vocabulary");
  require(spec.max_length > 0, "the data's max_length (seq_len) must be positive");
  require(options.d_model > 0 && options.layers > 0, "d_model and layers must be positive");
  require(options.ff_dim >= 0, "ff_dim must be >= 0");
  require(options.block == "transformer" || options.block == "mega",
          "block must be transformer or mega, got '" + options.block + "'");
  require(options.norm == "layer" || options.norm == "scale" || options.norm == "rms",
          "norm must be layer, scale or rms (batch norm mixes positions, which breaks causality), got '" +
              options.norm + "'");
  require(static_cast<bool>(build_attention), "no attention module given");
  mega_ = options.block == "mega";
  const int64_t d = options.d_model;

  embed_ = register_module(
      "embed", torch::nn::Embedding(torch::nn::EmbeddingOptions(spec.vocab_size, d).padding_idx(spec.pad_id)));
  {
    // GPT-2's scale: with tied weights the first logits are small, so the loss starts near ln V.
    torch::NoGradGuard no_grad;
    embed_->weight.normal_(0.0, 0.02);
    embed_->weight[spec.pad_id].zero_();
  }
  if (!mega_) {
    pos_ = register_module("pos", torch::nn::Embedding(spec.max_length, d));
    torch::NoGradGuard no_grad;
    pos_->weight.normal_(0.0, 0.02);
  }

  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.layers; ++i) {
    auto attn = build_attention(static_cast<int>(i), d);
    require(attn != nullptr, "the attention builder returned no module");
    const auto mega = std::dynamic_pointer_cast<attention::MegaAttention>(attn);
    if (!mega_) {
      // Mega's sub-layer carries its own residual and norm; inside a transformer block both would
      // be applied twice.
      require(mega == nullptr, "the `mega` attention module needs block: mega");
      transformer_blocks_.push_back(
          EncoderBlock(EncoderBlockOptions{d, options.ff_dim > 0 ? options.ff_dim : 4 * d, options.dropout,
                                           options.norm_eps},
                       attn));
      blocks_->push_back(transformer_blocks_.back());
      continue;
    }
    require(mega != nullptr, "block: mega needs the `mega` attention module (attention: {name: mega, ...}); "
                             "use block: transformer for mha or moh");
    require(mega->options().norm != "batch",
            "the mega attention's norm must be layer, scale or rms (batch norm mixes positions, which breaks "
            "causality)");
    require(spec.max_length <= mega->max_length(),
            "sequences of the data reach " + std::to_string(spec.max_length) + " tokens but the mega attention's "
            "max_positions is " + std::to_string(mega->options().max_positions) +
                "; raise max_positions or use chunk_size");
    attention::NormalizedFFNOptions f;
    f.d_model = d;
    f.hidden_dim = options.ff_dim;
    f.dropout = options.dropout;
    f.hidden_dropout = options.hidden_dropout;
    f.norm = options.norm;
    f.prenorm = true;
    mega_blocks_.push_back(MegaLayer(attn, f));
    blocks_->push_back(mega_blocks_.back());
  }
  if (mega_) {
    final_sequence_norm_ = register_module("final_norm", attention::SequenceNorm(options.norm, d));
  } else {
    final_layer_norm_ =
        register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(options.norm_eps)));
  }
  if (!options.tie_embeddings) {
    head_ = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(d, spec.vocab_size).bias(false)));
  }
  head_bias_ = register_parameter("head_bias", torch::zeros({spec.vocab_size}));
}

torch::Tensor DecoderLM::embed_tokens(const torch::Tensor& inputs) {
  TORCH_CHECK(inputs.dim() == 2 && inputs.scalar_type() == torch::kLong, "decoder_lm: inputs must be (B, T) int64, got ",
              inputs.sizes(), " ", inputs.scalar_type());
  const int64_t t = inputs.size(1);
  TORCH_CHECK(t <= spec_.max_length, "decoder_lm: sequence length ", t, " exceeds max_length ", spec_.max_length);
  auto h = embed_->forward(inputs);  // (B,T,D)
  if (pos_) h = h + pos_->weight.narrow(0, 0, t).unsqueeze(0);  // (1,T,D) broadcast over B
  return h;
}

torch::Tensor DecoderLM::output_weight() const {
  if (head_) return head_->weight;
  // The pad row stays zero: the head adds no gradient to it, so it stays the zero embedding that
  // padding_idx promises (the pad logit is then head_bias[pad] alone).
  return embed_->weight.index_fill(0, torch::tensor({spec_.pad_id}, torch::kLong).to(embed_->weight.device()), 0.0);
}

ModelOutput DecoderLM::forward_embedded(const torch::Tensor& embedded, const torch::Tensor& padding_mask,
                                        attention::ForwardContext& ctx) {
  const int64_t b = embedded.size(0), t = embedded.size(1);
  torch::Tensor mask = padding_mask;
  if (mask.defined()) {
    TORCH_CHECK(mask.scalar_type() == torch::kBool && mask.dim() == 2 && mask.size(0) == b && mask.size(1) == t,
                "decoder_lm: padding_mask must be (B, T) = (", b, ", ", t, ") bool, got ", mask.sizes());
    mask = mask.to(embedded.device());
  }
  auto h = attention::kernels::dropout(embedded, options_.dropout, is_training());  // (B,T,D)
  ModelOutput out;
  for (int64_t i = 0; i < options_.layers; ++i) {
    const std::string site = "layer" + std::to_string(i);
    if (!mega_) {
      h = transformer_blocks_[i]->forward(h, mask, /*causal=*/true, ctx, site, out.aux_losses);
      continue;
    }
    auto a = mega_blocks_[i]->attn->forward(attention::AttentionCall{h, mask, /*causal=*/true}, ctx, site);
    out.aux_losses.insert(out.aux_losses.end(), a.aux_losses.begin(), a.aux_losses.end());
    h = mega_blocks_[i]->ffn->forward(a.out, mask);  // (B,T,D)
  }
  h = mega_ ? final_sequence_norm_->forward(h, mask) : final_layer_norm_->forward(h);
  out.logits = torch::nn::functional::linear(h, output_weight(), head_bias_);  // (B,T,V)
  return out;
}

ModelOutput DecoderLM::forward(const ModelInput& input, attention::ForwardContext& ctx) {
  // The tap's embedding site sees token plus position embeddings.
  return forward_embedded(ctx.on_embeddings("embed", embed_tokens(input.inputs), input.padding_mask),
                          input.padding_mask, ctx);
}

}  // namespace attnlab::models
