// ABMIL; see abmil.h.
#include "models/abmil.h"

#include <stdexcept>

#include "attention/kernels/dropout.h"

namespace attnlab::models {

Abmil::Abmil(const AbmilOptions& options, const InputSpec& spec, const AttentionBuilder& attention)
    : options_(options), spec_(spec) {
  if (spec.language_model) throw std::invalid_argument("abmil is a bag classifier; the dataset is a language model");
  if (spec.vocab_size > 0 || spec.feature_dim <= 0)
    throw std::invalid_argument("abmil needs float instance features (B, N, F), e.g. data digits_mil or mil_features");
  if (options.hidden <= 0 || options.attention_dim <= 0)
    throw std::invalid_argument("abmil: hidden and attention_dim must be > 0");
  namespace nn = torch::nn;
  if (options.encoder == "conv") {
    if (spec.feature_dim != 64)
      throw std::invalid_argument("abmil: encoder conv reads 8x8 images (64 features per instance), the data has " +
                                  std::to_string(spec.feature_dim) + "; use encoder: linear");
    conv1_ = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, 20, 3).padding(1)));
    conv2_ = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(20, 50, 3).padding(1)));
    fc_ = register_module("fc", nn::Linear(50 * 2 * 2, options.hidden));
  } else if (options.encoder == "linear") {
    fc_ = register_module("fc", nn::Linear(nn::LinearOptions(spec.feature_dim, options.hidden).bias(false)));
  } else {
    throw std::invalid_argument("abmil: encoder must be conv or linear, not '" + options.encoder + "'");
  }
  if (options.pooling == "gated" || options.pooling == "additive") {
    pool_ = register_module("pool", attention::AdditivePooling(attention::AdditivePoolingOptions{
                                        options.hidden, options.attention_dim, options.pooling}));
  } else if (options.pooling == "attention") {
    if (!attention) throw std::invalid_argument("abmil: pooling attention needs an attention module (model.attention)");
    attn_ = register_module("attn", attention(0, options.hidden));
    query_ = register_parameter("query", torch::randn({1, 1, options.hidden}) * 1e-6);
    norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({options.hidden})));
  } else {
    throw std::invalid_argument("abmil: pooling must be gated, additive or attention, not '" + options.pooling + "'");
  }
  head_ = register_module("head", nn::Linear(options.hidden, spec.num_classes));
}

torch::Tensor Abmil::encode(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == spec_.feature_dim, "abmil expects instance features (B, N, ",
              spec_.feature_dim, "), got ", x.sizes());
  const int64_t b = x.size(0), n = x.size(1);
  if (options_.encoder == "linear") return torch::relu(fc_->forward(x));
  namespace F = torch::nn::functional;
  auto y = x.reshape({b * n, 1, 8, 8});                          // (B*N, 1, 8, 8)
  y = F::max_pool2d(torch::relu(conv1_->forward(y)), F::MaxPool2dFuncOptions(2));  // (B*N, 20, 4, 4)
  y = F::max_pool2d(torch::relu(conv2_->forward(y)), F::MaxPool2dFuncOptions(2));  // (B*N, 50, 2, 2)
  return torch::relu(fc_->forward(y.reshape({b, n, 50 * 2 * 2})));                 // (B, N, D)
}

ModelOutput Abmil::forward(const ModelInput& input, attention::ForwardContext& ctx) {
  const auto& mask = input.padding_mask;
  const auto h = ctx.on_embeddings("embed", encode(input.inputs), mask);  // (B, N, D)
  ModelOutput out;
  torch::Tensor z;
  if (pool_) {
    z = pool_->forward(h, mask, ctx, "pool").context;  // (B, D)
  } else {
    const int64_t b = h.size(0);
    const auto x = torch::cat({query_.expand({b, 1, h.size(2)}), h}, 1);  // (B, N+1, D)
    torch::Tensor key_mask;
    if (mask.defined())
      key_mask = torch::cat({torch::zeros({b, 1}, mask.options()), mask}, 1);  // (B, N+1), q never padded
    auto a = attn_->forward(attention::AttentionCall{x, key_mask, false}, ctx, "pool");
    z = norm_->forward(a.out.select(1, 0));  // the query token's row, (B, D)
    out.aux_losses = std::move(a.aux_losses);
  }
  out.logits = head_->forward(attention::kernels::dropout(z, options_.dropout, is_training()));
  return out;
}

}  // namespace attnlab::models
