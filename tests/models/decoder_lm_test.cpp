// The causal decoder LM: logits (B, T, V); causality for mha, moh and mega blocks (the gradient of
// the logits at t with respect to the input embeddings at s > t is zero, and changing a later
// token leaves earlier logits as they were); the pad row stays zero with tied weights; MoH's
// balance loss is passed up; and the classifier / language-model mismatches are clear errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "attention/mega/mega_attention.h"
#include "attention/mha/mha.h"
#include "attention/moh/moh.h"
#include "models/decoder_lm.h"
#include "models/encoder_classifier.h"
#include "models/mega_encoder.h"

namespace attnlab::models {
namespace {

constexpr int64_t kVocab = 12, kPad = 11, kT = 9;

InputSpec lm_spec(int64_t max_length = kT) {
  InputSpec s;
  s.vocab_size = kVocab;
  s.max_length = max_length;
  s.pad_id = kPad;
  s.language_model = true;
  return s;
}

AttentionBuilder mha() {
  return [](int, int64_t d) {
    attention::MhaOptions o;
    o.d_model = d;
    o.heads = 4;
    return std::make_shared<attention::MultiHeadAttention>(o);
  };
}

AttentionBuilder moh() {  // 8 heads: 4 shared + top-2 of 4 routed
  return [](int, int64_t d) {
    attention::MohOptions o;
    o.d_model = d;
    o.heads = 8;
    o.shared_heads = 4;
    o.routed_topk = 2;
    return std::make_shared<attention::MixtureOfHeadsAttention>(o);
  };
}

AttentionBuilder mega(int64_t max_positions = 32, const std::string& norm = "layer") {
  return [=](int, int64_t d) {
    attention::MegaOptions o;
    o.d_model = d;
    o.z_dim = 8;
    o.ema_dim = 4;
    o.bidirectional = false;
    o.max_positions = max_positions;
    o.norm = norm;
    return std::make_shared<attention::MegaAttention>(o);
  };
}

DecoderLMOptions small(const std::string& block = "transformer") {
  DecoderLMOptions o;
  o.d_model = 16;
  o.layers = 2;
  o.block = block;
  o.dropout = 0.0;
  return o;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no invalid_argument)";
}

struct Case {
  std::string name;
  std::string block;
  AttentionBuilder attention;
};
std::vector<Case> cases() { return {{"mha", "transformer", mha()}, {"moh", "transformer", moh()}, {"mega", "mega", mega()}}; }

TEST(DecoderLM, LogitsForEveryPosition) {
  for (const auto& c : cases()) {
    torch::manual_seed(0);
    DecoderLM model(small(c.block), lm_spec(), c.attention);
    attention::ForwardContext ctx;
    const auto out = model.forward({torch::randint(0, kPad, {3, 7}), torch::Tensor()}, ctx);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 7, kVocab})) << c.name;
    EXPECT_EQ(ctx.sites(), (std::vector<std::string>{"layer0", "layer1"})) << c.name;
    // MoH's balance loss comes up once per layer in training mode.
    EXPECT_EQ(out.aux_losses.size(), c.name == "moh" ? 2u : 0u) << c.name;
  }
}

TEST(DecoderLM, NoGradientFromLaterPositions) {
  for (const auto& c : cases()) {
    torch::manual_seed(1);
    DecoderLM model(small(c.block), lm_spec(), c.attention);
    model.to(torch::kDouble);
    model.eval();
    const auto tokens = torch::randint(0, kPad, {2, kT});
    const auto x = model.embed_tokens(tokens).detach().requires_grad_(true);  // (B,T,D)
    attention::ForwardContext ctx;
    const auto logits = model.forward_embedded(x, torch::Tensor(), ctx).logits;  // (B,T,V)
    for (int64_t t = 0; t < kT; ++t) {
      const auto g = torch::autograd::grad({logits.select(1, t).sum()}, {x}, {}, /*retain_graph=*/true)[0];
      const double scale = g.abs().max().item<double>();
      ASSERT_GT(g.select(1, t).abs().max().item<double>(), 0.0) << c.name << " t=" << t;
      if (t + 1 == kT) continue;
      const double future = g.narrow(1, t + 1, kT - 1 - t).abs().max().item<double>();
      if (c.name == "mega") {
        // The causal EMA is an FFT convolution: exact zeros in exact arithmetic, round-off here.
        EXPECT_LT(future, 1e-13 * scale) << c.name << " t=" << t;
      } else {
        EXPECT_EQ(future, 0.0) << c.name << " t=" << t;
      }
    }
  }
}

TEST(DecoderLM, ChangingALaterTokenLeavesEarlierLogits) {
  for (const auto& c : cases()) {
    torch::manual_seed(2);
    DecoderLM model(small(c.block), lm_spec(), c.attention);
    model.eval();
    const auto a = torch::randint(0, kPad, {1, kT});
    auto b = a.clone();
    b[0][6] = (a[0][6].item<int64_t>() + 1) % kPad;
    attention::ForwardContext ctx;
    const auto la = model.forward({a, torch::Tensor()}, ctx).logits;
    const auto lb = model.forward({b, torch::Tensor()}, ctx).logits;
    const double before = (la.narrow(1, 0, 6) - lb.narrow(1, 0, 6)).abs().max().item<double>();
    if (c.name == "mega") {
      EXPECT_LT(before, 1e-5) << c.name;  // FFT round-off, as above
    } else {
      EXPECT_EQ(before, 0.0) << c.name;
    }
    EXPECT_GT((la.narrow(1, 6, 3) - lb.narrow(1, 6, 3)).abs().max().item<double>(), 1e-4) << c.name;
  }
}

TEST(DecoderLM, PaddingAfterTheTextChangesNothingBeforeIt) {
  for (const auto& c : cases()) {
    torch::manual_seed(3);
    DecoderLM model(small(c.block), lm_spec(), c.attention);
    model.eval();
    const auto tokens = torch::randint(0, kPad, {1, 5});
    auto padded = torch::full({1, kT}, kPad, torch::kLong);
    padded.narrow(1, 0, 5).copy_(tokens);
    auto mask = torch::ones({1, kT}, torch::kBool);
    mask.narrow(1, 0, 5).fill_(false);
    attention::ForwardContext ctx;
    const auto short_logits = model.forward({tokens, torch::Tensor()}, ctx).logits;
    const auto padded_logits = model.forward({padded, mask}, ctx).logits.narrow(1, 0, 5);
    EXPECT_LT((short_logits - padded_logits).abs().max().item<double>(), 1e-5) << c.name;
  }
}

TEST(DecoderLM, TiedHeadKeepsThePadRowZero) {
  torch::manual_seed(4);
  DecoderLM model(small(), lm_spec(), mha());
  std::vector<std::string> names;
  for (const auto& p : model.named_parameters()) names.push_back(p.key());
  EXPECT_EQ(std::count(names.begin(), names.end(), "head.weight"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "embed.weight"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "pos.weight"), 1);
  torch::optim::AdamW opt(model.parameters(), torch::optim::AdamWOptions(1e-2));
  attention::ForwardContext ctx;
  const auto tokens = torch::randint(0, kPad, {2, kT});
  auto loss = torch::nn::functional::cross_entropy(model.forward({tokens, torch::Tensor()}, ctx).logits.reshape({-1, kVocab}),
                                                   tokens.roll(-1, 1).reshape({-1}));
  loss.backward();
  opt.step();
  const auto embed = model.named_parameters()["embed.weight"];
  EXPECT_EQ(embed[kPad].abs().max().item<double>(), 0.0);
  EXPECT_GT(embed[0].abs().max().item<double>(), 0.0);

  auto o = small("mega");
  o.tie_embeddings = false;
  DecoderLM untied(o, lm_spec(), mega());
  EXPECT_TRUE(untied.named_parameters().contains("head.weight"));
  EXPECT_FALSE(untied.named_parameters().contains("pos.weight"));  // mega: relative bias + EMA
}

TEST(DecoderLM, LearnsARepeatingSequence) {
  for (const auto& c : cases()) {
    torch::manual_seed(5);
    DecoderLM model(small(c.block), lm_spec(), c.attention);
    torch::optim::Adam opt(model.parameters(), torch::optim::AdamOptions(1e-2));
    const auto tokens = torch::arange(kT + 1).remainder(4).unsqueeze(0).repeat({4, 1});  // 0 1 2 3 0 1 ...
    const auto inputs = tokens.narrow(1, 0, kT), labels = tokens.narrow(1, 1, kT);
    double first = 0, last = 0;
    for (int step = 0; step < 60; ++step) {
      attention::ForwardContext ctx;
      const auto logits = model.forward({inputs, torch::Tensor()}, ctx).logits;
      auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, kVocab}), labels.reshape({-1}));
      opt.zero_grad();
      loss.backward();
      opt.step();
      (step == 0 ? first : last) = loss.item<double>();
    }
    EXPECT_LT(last, 0.1 * first) << c.name << ": " << first << " -> " << last;
  }
}

TEST(DecoderLM, ClearErrorsAtBuildTime) {
  InputSpec classes;
  classes.num_classes = 10;
  classes.vocab_size = 16;
  classes.max_length = 8;
  EXPECT_EQ(error_of([&] { DecoderLM(small(), classes, mha()); }),
            "decoder_lm: decoder_lm needs a language-model dataset such as `text` (this dataset is for "
            "classification)");
  EXPECT_NE(error_of([&] { DecoderLM(small("mega"), lm_spec(), mha()); }).find("block: mega needs the `mega` attention"),
            std::string::npos);
  EXPECT_NE(error_of([&] { DecoderLM(small(), lm_spec(), mega()); }).find("the `mega` attention module needs block: mega"),
            std::string::npos);
  EXPECT_NE(error_of([&] { DecoderLM(small("mega"), lm_spec(64), mega(/*max_positions=*/32)); })
                .find("sequences of the data reach 64 tokens but the mega attention's max_positions is 32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { DecoderLM(small("mega"), lm_spec(), mega(32, "batch")); }).find("breaks causality"),
            std::string::npos);
  auto o = small("mega");
  o.norm = "batch";
  EXPECT_NE(error_of([&] { DecoderLM(o, lm_spec(), mega()); }).find("norm must be layer, scale or rms"),
            std::string::npos);
  // Longer inputs than the positions table fail in the forward with the sizes named.
  DecoderLM model(small(), lm_spec(), mha());
  attention::ForwardContext ctx;
  EXPECT_THROW(model.forward({torch::zeros({1, kT + 1}, torch::kLong), torch::Tensor()}, ctx), c10::Error);
}

TEST(DecoderLM, ClassifiersRejectALanguageModelDataset) {
  EXPECT_NE(error_of([&] { EncoderClassifier(EncoderClassifierOptions{}, lm_spec(), mha()); })
                .find("encoder_classifier is a classifier"),
            std::string::npos);
  EXPECT_NE(error_of([&] { MegaEncoder(MegaEncoderOptions{}, lm_spec(), mega()); }).find("mega_encoder is a classifier"),
            std::string::npos);
}

}  // namespace
}  // namespace attnlab::models
