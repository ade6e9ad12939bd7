// The Mega LRA encoder: shapes for token and feature inputs, padding invariance (values at padded
// positions change nothing), sites named per layer, max_positions checked at construction, and
// fairseq's LRA classifier (classifier_hidden).
#include <gtest/gtest.h>

#include "attention/mega/mega_attention.h"
#include "models/mega_encoder.h"

namespace attnlab::models {
namespace {

AttentionBuilder mega_builder(int64_t max_positions = 64) {
  return [max_positions](int, int64_t d_model) {
    attention::MegaOptions o;
    o.d_model = d_model;
    o.z_dim = 8;
    o.ema_dim = 4;
    o.max_positions = max_positions;
    return std::make_shared<attention::MegaAttention>(o);
  };
}

MegaEncoderOptions small() {
  MegaEncoderOptions o;
  o.d_model = 16;
  o.layers = 2;
  o.dropout = 0.0;
  return o;
}

TEST(MegaEncoder, TokenInputsGiveLogitsPerExample) {
  torch::manual_seed(0);
  InputSpec spec{/*num_classes=*/10, /*vocab_size=*/16, 0, /*max_length=*/12, /*pad_id=*/0};
  MegaEncoder model(small(), spec, mega_builder());
  attention::ForwardContext ctx;
  const auto out = model.forward({torch::randint(1, 16, {3, 12}), torch::Tensor()}, ctx);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(ctx.sites(), (std::vector<std::string>{"layer0", "layer1"}));
}

TEST(MegaEncoder, PaddedPositionsDoNotMatter) {
  torch::manual_seed(0);
  InputSpec spec{4, 0, /*feature_dim=*/5, 9, 0};
  MegaEncoder model(small(), spec, mega_builder());
  model.eval();
  auto x = torch::randn({2, 9, 5});
  auto mask = torch::zeros({2, 9}, torch::kBool);
  mask.index_put_({1, torch::indexing::Slice(6, 9)}, true);  // the second example has 6 tokens
  attention::ForwardContext ctx;
  const auto a = model.forward({x, mask}, ctx).logits;
  auto y = x.clone();
  y.index_put_({1, torch::indexing::Slice(6, 9)}, 100.0);
  const auto b = model.forward({y, mask}, ctx).logits;
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5);
}

// classifier_hidden = H: logits = W2 gelu(W1 z + b1) with no output bias, z the pooled vector. z is
// read from a twin whose head is the identity (classifier_hidden 0, C = D, W = I, b = 0), and the
// expected logits are computed here from the parameters.
TEST(MegaEncoder, ClassifierHiddenLayerIsLinearGeluThenBiasFreeOutput) {
  InputSpec spec{/*num_classes=*/16, /*vocab_size=*/12, 0, /*max_length=*/8, /*pad_id=*/0};
  torch::manual_seed(3);
  MegaEncoder plain(small(), spec, mega_builder());
  auto options = small();
  options.classifier_hidden = 7;
  torch::manual_seed(4);
  MegaEncoder fairseq_head(options, spec, mega_builder());
  auto params = fairseq_head.named_parameters();
  EXPECT_EQ(params["classifier.weight"].sizes(), (std::vector<int64_t>{7, 16}));
  EXPECT_EQ(params["head.weight"].sizes(), (std::vector<int64_t>{16, 7}));
  EXPECT_EQ(params.find("head.bias"), nullptr);
  {
    torch::NoGradGuard no_grad;
    auto plain_params = plain.named_parameters();
    plain_params["head.weight"].copy_(torch::eye(16));
    plain_params["head.bias"].zero_();
    for (auto& p : plain_params) {
      if (p.key().rfind("head.", 0) != 0) params[p.key()].copy_(p.value());
    }
  }
  plain.eval();
  fairseq_head.eval();
  const auto tokens = torch::randint(1, 12, {3, 8});
  auto mask = torch::zeros({3, 8}, torch::kBool);
  mask[2].narrow(0, 5, 3).fill_(true);
  attention::ForwardContext ctx;
  const auto z = plain.forward({tokens, mask}, ctx).logits;  // (B, D): the pooled vector
  const auto hidden = torch::gelu(torch::matmul(z, params["classifier.weight"].t()) + params["classifier.bias"]);
  const auto expected = torch::matmul(hidden, params["head.weight"].t());
  const auto logits = fairseq_head.forward({tokens, mask}, ctx).logits;
  EXPECT_LT((logits - expected).abs().max().item<double>(), 1e-5);
  EXPECT_GT(expected.abs().max().item<double>(), 1e-3);
}

TEST(MegaEncoder, RejectsDataLongerThanThePositionBias) {
  InputSpec spec{4, 16, 0, /*max_length=*/100, 0};
  try {
    MegaEncoder model(small(), spec, mega_builder(/*max_positions=*/64));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_positions is 64"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace attnlab::models
