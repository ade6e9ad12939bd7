// EncoderClassifier: shapes for token and feature inputs, padding never leaks into the logits,
// auxiliary losses are passed up per layer, eval mode is deterministic, and it can overfit.
#include "models/encoder_classifier.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "attention/mha/mha.h"

namespace attnlab::models {
namespace {

AttentionBuilder mha_builder(int64_t heads = 4) {
  return [heads](int, int64_t d_model) -> attention::AttentionPtr {
    return std::make_shared<attention::MultiHeadAttention>(attention::MhaOptions{d_model, heads});
  };
}

// A stand-in mechanism that scales its input and reports one auxiliary loss per call.
class FakeAttention : public attention::AttentionModule {
 public:
  FakeAttention() { scale_ = register_parameter("scale", torch::ones({1})); }
  attention::AttentionOutput forward(const attention::AttentionCall& call,
                                     attention::ForwardContext&, const std::string& site) override {
    return {call.x * scale_, {{"fake_" + site, call.x.pow(2).mean(), 0.5}}};
  }

 private:
  torch::Tensor scale_;
};

InputSpec token_spec() { return InputSpec{/*num_classes=*/5, /*vocab_size=*/20, 0, 10, 0}; }
InputSpec feature_spec() { return InputSpec{/*num_classes=*/3, 0, /*feature_dim=*/6, 9, 0}; }

EncoderClassifierOptions small(const std::string& pooling = "mean", double dropout = 0.0) {
  EncoderClassifierOptions o;
  o.d_model = 16;
  o.layers = 2;
  o.dropout = dropout;
  o.pooling = pooling;
  return o;
}

// (B, T) tokens in 1..vocab-1 with the positions after each length set to pad id 0.
ModelInput padded_tokens(const std::vector<int64_t>& lengths, int64_t t, int64_t vocab) {
  const auto b = static_cast<int64_t>(lengths.size());
  auto mask = torch::zeros({b, t}, torch::kBool);
  for (int64_t i = 0; i < b; ++i) mask[i].narrow(0, lengths[i], t - lengths[i]).fill_(true);
  auto tokens = torch::randint(1, vocab, {b, t}, torch::kLong).masked_fill(mask, 0);
  return {tokens, mask};
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(EncoderClassifier, OutputShapes) {
  torch::manual_seed(0);
  for (const char* pooling : {"mean", "cls"}) {
    attention::ForwardContext ctx;
    EncoderClassifier tokens(small(pooling), token_spec(), mha_builder());
    const auto in = padded_tokens({10, 4, 7}, 10, 20);
    const auto out = tokens.forward(in, ctx);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 5})) << pooling;
    EXPECT_TRUE(out.aux_losses.empty());
    EXPECT_EQ(ctx.sites(), (std::vector<std::string>{"layer0", "layer1"}));

    EncoderClassifier features(small(pooling), feature_spec(), mha_builder());
    // Shorter than max_length and without a mask.
    const auto f = features.forward({torch::randn({2, 5, 6}), {}}, ctx);
    EXPECT_EQ(f.logits.sizes(), (std::vector<int64_t>{2, 3})) << pooling;
  }
}

TEST(EncoderClassifier, ParameterNamesAreReadable) {
  EncoderClassifier model(small("cls"), token_spec(), mha_builder());
  std::vector<std::string> names;
  for (const auto& p : model.named_parameters()) names.push_back(p.key());
  for (const std::string expected :
       {"embed.weight", "pos.weight", "cls_token", "blocks.0.attn.q_proj.weight",
        "blocks.0.attn.out_proj.bias", "blocks.1.norm1.weight", "blocks.1.norm2.bias",
        "blocks.1.ff_in.weight", "blocks.1.ff_out.bias", "final_norm.weight", "head.weight",
        "head.bias"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  EXPECT_EQ(model.named_parameters()["pos.weight"].size(0), 11);  // max_length + CLS
  // The pad row of the token embedding starts at zero.
  EXPECT_EQ(model.named_parameters()["embed.weight"][0].abs().sum().item<double>(), 0.0);

  auto o = small();
  o.learned_positions = false;
  EncoderClassifier fixed(o, feature_spec(), mha_builder());
  EXPECT_EQ(fixed.named_parameters().find("pos.weight"), nullptr);
  EXPECT_EQ(fixed.named_parameters()["embed.weight"].sizes(), (std::vector<int64_t>{16, 6}));
}

TEST(EncoderClassifier, BuilderSeesEachLayerOnce) {
  std::vector<std::pair<int, int64_t>> calls;
  auto o = small();
  o.layers = 3;
  o.d_model = 8;
  EncoderClassifier model(o, token_spec(), [&](int layer, int64_t d) -> attention::AttentionPtr {
    calls.emplace_back(layer, d);
    return std::make_shared<FakeAttention>();
  });
  EXPECT_EQ(calls, (std::vector<std::pair<int, int64_t>>{{0, 8}, {1, 8}, {2, 8}}));
  EXPECT_NE(std::dynamic_pointer_cast<FakeAttention>(model.block(2)->attn()), nullptr);
}

TEST(EncoderClassifier, MeanPoolingIgnoresPaddedTokensAndFeatures) {
  torch::manual_seed(1);
  EncoderClassifier tokens(small("mean", 0.2), token_spec(), mha_builder());
  tokens.eval();
  attention::ForwardContext ctx;
  auto in = padded_tokens({10, 3, 6}, 10, 20);
  const auto base = tokens.forward(in, ctx).logits;
  const auto other_ids = torch::randint(1, 20, in.inputs.sizes(), torch::kLong);
  const auto changed = torch::where(in.padding_mask, other_ids, in.inputs);
  EXPECT_FALSE(torch::equal(changed, in.inputs));
  EXPECT_LT(max_abs_diff(tokens.forward({changed, in.padding_mask}, ctx).logits, base), 1e-5);

  EncoderClassifier features(small("mean", 0.2), feature_spec(), mha_builder());
  features.eval();
  const auto x = torch::randn({2, 9, 6});
  auto mask = torch::zeros({2, 9}, torch::kBool);
  mask[1].narrow(0, 4, 5).fill_(true);
  const auto x2 = torch::where(mask.unsqueeze(-1), torch::randn({2, 9, 6}) * 10, x);
  const auto a = features.forward({x, mask}, ctx).logits;
  EXPECT_LT(max_abs_diff(features.forward({x2, mask}, ctx).logits, a), 1e-5);
  // Without the mask the same change does move the logits: the check has teeth.
  EXPECT_GT(
      max_abs_diff(features.forward({x2, {}}, ctx).logits, features.forward({x, {}}, ctx).logits),
      1e-4);
}

TEST(EncoderClassifier, ClsPoolingWorksWithPadding) {
  torch::manual_seed(2);
  EncoderClassifier model(small("cls"), token_spec(), mha_builder());
  model.eval();
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  auto in = padded_tokens({10, 2}, 10, 20);
  const auto base = model.forward(in, ctx);
  EXPECT_EQ(base.logits.sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_TRUE(torch::isfinite(base.logits).all().item<bool>());
  // The CLS position is prepended and never padded: the recorded mask has T + 1 columns.
  const auto& mask = ctx.masks().at("layer0");
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{2, 11}));
  EXPECT_FALSE(mask.select(1, 0).any().item<bool>());
  EXPECT_EQ(ctx.weights().at("layer1").sizes(), (std::vector<int64_t>{2, 4, 11, 11}));
  const auto changed =
      torch::where(in.padding_mask, torch::randint(1, 20, {2, 10}, torch::kLong), in.inputs);
  EXPECT_LT(max_abs_diff(model.forward({changed, in.padding_mask}, ctx).logits, base.logits), 1e-5);
  // The logits depend on the valid tokens.
  auto valid_changed = in.inputs.clone();
  valid_changed[1][0] = (valid_changed[1][0].item<int64_t>() % 19) + 1;
  EXPECT_GT(
      max_abs_diff(model.forward({valid_changed, in.padding_mask}, ctx).logits[1], base.logits[1]),
      1e-5);
}

TEST(EncoderClassifier, AuxLossesArePassedUpOncePerLayer) {
  auto o = small();
  o.layers = 3;
  EncoderClassifier model(o, token_spec(),
                          [](int, int64_t) { return std::make_shared<FakeAttention>(); });
  attention::ForwardContext ctx;
  const auto out = model.forward(padded_tokens({10, 5}, 10, 20), ctx);
  ASSERT_EQ(out.aux_losses.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out.aux_losses[i].name, "fake_layer" + std::to_string(i));
    EXPECT_EQ(out.aux_losses[i].weight, 0.5);
    EXPECT_EQ(out.aux_losses[i].value.dim(), 0);
    EXPECT_TRUE(out.aux_losses[i].value.requires_grad());
  }
}

TEST(EncoderClassifier, EvalModeIsDeterministicWithDropout) {
  torch::manual_seed(3);
  EncoderClassifier model(small("mean", 0.5), token_spec(), mha_builder());
  attention::ForwardContext ctx;
  const auto in = padded_tokens({10, 8}, 10, 20);
  model.eval();
  const auto a = model.forward(in, ctx).logits;
  EXPECT_TRUE(torch::equal(a, model.forward(in, ctx).logits));
  model.train();
  EXPECT_GT(max_abs_diff(model.forward(in, ctx).logits, a), 1e-5);
}

TEST(EncoderClassifier, SinusoidalPositions) {
  const auto pe = sinusoidal_positions(5, 6, torch::kDouble);
  ASSERT_EQ(pe.sizes(), (std::vector<int64_t>{5, 6}));
  for (int64_t t = 0; t < 5; ++t) {
    for (int64_t i = 0; i < 3; ++i) {
      const double angle = t / std::pow(10000.0, 2.0 * i / 6.0);
      EXPECT_NEAR(pe[t][2 * i].item<double>(), std::sin(angle), 1e-12);
      EXPECT_NEAR(pe[t][2 * i + 1].item<double>(), std::cos(angle), 1e-12);
    }
  }
}

TEST(EncoderClassifier, MaskedMean) {
  const auto x = torch::arange(12, torch::kDouble).view({2, 3, 2});
  const auto mask = torch::tensor({false, true, false, true, true, true}).view({2, 3});
  const auto m = masked_mean(x, mask);
  // Example 0 averages positions 0 and 2; example 1 is entirely padded and pools to zero.
  EXPECT_TRUE(torch::allclose(m, torch::tensor({2.0, 3.0, 0.0, 0.0}, torch::kDouble).view({2, 2})));
  EXPECT_TRUE(torch::allclose(masked_mean(x, {}), x.mean(1)));
}

TEST(EncoderClassifier, RejectsBadOptionsAndInputs) {
  auto o = small("max");
  EXPECT_THROW(EncoderClassifier(o, token_spec(), mha_builder()), c10::Error);
  EncoderClassifier model(small(), token_spec(), mha_builder());
  attention::ForwardContext ctx;
  try {
    model.forward({torch::zeros({1, 11}, torch::kLong), {}}, ctx);
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence length 11 exceeds max_length 10"),
              std::string::npos);
  }
  EXPECT_THROW(model.forward({torch::zeros({1, 4}), {}}, ctx), c10::Error);  // floats, not ids
  EXPECT_THROW(
      model.forward({torch::zeros({1, 4}, torch::kLong), torch::zeros({1, 3}, torch::kBool)}, ctx),
      c10::Error);
}

// Eight random examples with random labels can only be fit by memorising them.
TEST(EncoderClassifier, OverfitsEightExamples) {
  torch::manual_seed(4);
  auto o = small("mean", 0.0);
  o.d_model = 32;
  EncoderClassifier model(o, InputSpec{4, 16, 0, 8, 0}, mha_builder());
  const auto in = padded_tokens({8, 6, 8, 5, 7, 8, 4, 8}, 8, 16);
  const auto labels = torch::randint(0, 4, {8}, torch::kLong);
  torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(1e-3));
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 200; ++step) {
    attention::ForwardContext ctx;
    const auto loss = torch::cross_entropy_loss(model.forward(in, ctx).logits, labels);
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  EXPECT_LT(last, 0.1 * first) << "start " << first << ", end " << last;
}

}  // namespace
}  // namespace attnlab::models
