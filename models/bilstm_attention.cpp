// BiLSTM + attention pooling classifier.
#include "models/bilstm_attention.h"

#include <stdexcept>

#include "attention/kernels/dropout.h"
#include "models/pretrained_embeddings.h"

namespace attnlab::models {

BiLstmAttention::BiLstmAttention(const BiLstmAttentionOptions& options, const InputSpec& spec)
    : options_(options), spec_(spec) {
  if (spec.language_model) throw std::invalid_argument("bilstm_attention is a classifier; the dataset is a language model");
  if (spec.vocab_size <= 0) throw std::invalid_argument("bilstm_attention needs token inputs (a dataset with a vocabulary)");
  if (options.embed_dim <= 0 || options.hidden <= 0) throw std::invalid_argument("embed_dim and hidden must be > 0");
  embed_ = register_module("embed", torch::nn::Embedding(torch::nn::EmbeddingOptions(spec.vocab_size, options.embed_dim)
                                                             .padding_idx(spec.pad_id)));
  load_pretrained_embeddings(embed_, spec, "bilstm_attention");
  lstm_ = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(options.embed_dim, options.hidden)
                                                      .batch_first(true)
                                                      .bidirectional(true)));
  attention::AdditivePoolingOptions p;
  p.input_dim = 2 * options.hidden;
  p.attention_dim = options.attention_dim;
  p.score = options.score;
  pool_ = register_module("pool", attention::AdditivePooling(p));
  head_ = register_module("head", torch::nn::Linear(2 * options.hidden, spec.num_classes));
}

ModelOutput BiLstmAttention::forward(const ModelInput& input, attention::ForwardContext& ctx) {
  const auto& tokens = input.inputs;
  TORCH_CHECK(tokens.dim() == 2, "bilstm_attention expects token ids (B, T), got ", tokens.sizes());
  const int64_t t = tokens.size(1);
  const auto drop = [&](const torch::Tensor& x) {
    return attention::kernels::dropout(x, options_.dropout, is_training());
  };
  // The tap sees the embeddings before dropout: word AT/VAT perturb them there.
  const auto embedded =
      drop(ctx.on_embeddings("embed", embed_->forward(tokens), input.padding_mask));
  // Packed by real length (an all-padding row counts as length 1 so packing accepts it; pooling
  // then gives it zero weight everywhere), so the backward direction starts at the last real token.
  const auto lengths = input.padding_mask.defined()
                           ? (~input.padding_mask).sum(1).clamp_min(1).to(torch::kCPU, torch::kLong)
                           : torch::full({tokens.size(0)}, t, torch::kLong);
  namespace rnn = torch::nn::utils::rnn;
  const auto packed = rnn::pack_padded_sequence(embedded, lengths, /*batch_first=*/true,
                                                /*enforce_sorted=*/false);
  const auto encoded = std::get<0>(lstm_->forward_with_packed_input(packed));
  const auto h = std::get<0>(rnn::pad_packed_sequence(encoded, /*batch_first=*/true, 0.0, t));  // (B,T,2H)
  const auto pooled = pool_->forward(h, input.padding_mask, ctx, "pool");
  return {head_->forward(drop(pooled.context)), {}};
}

}  // namespace attnlab::models
