// The forward context (attention tap) driven through MultiHeadAttention: recording scores with
// their graph, adding perturbations, reading weights, and the masking guarantees those rely on.
#include "attention/context.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "attention/mha/mha.h"
#include "mha_test_util.h"

namespace attnlab::attention {
namespace {

using testing::make_mha;
using testing::padding_from_lengths;

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(ForwardContext, SitesAreListedOnceInVisitOrderWithoutRecording) {
  auto mha = make_mha(8, 2, torch::kFloat);
  ForwardContext ctx;
  const auto x = torch::randn({1, 4, 8});
  for (const char* site : {"layer1", "layer0", "layer1"}) mha->forward({x, {}, false}, ctx, site);
  EXPECT_EQ(ctx.sites(), (std::vector<std::string>{"layer1", "layer0"}));
  EXPECT_TRUE(ctx.scores().empty());
  EXPECT_TRUE(ctx.weights().empty());
  EXPECT_TRUE(ctx.masks().empty());
}

TEST(ForwardContext, RecordedScoresCarryTheGraphToQProj) {
  auto mha = make_mha(8, 2, torch::kDouble);
  mha->train();
  ForwardContext ctx;
  ctx.set_record_scores(true);
  const auto x = torch::randn({2, 5, 8}, torch::kDouble);
  const auto mask = padding_from_lengths({5, 3}, 5);
  mha->forward({x, mask, false}, ctx, "layer0");
  ASSERT_EQ(ctx.scores().count("layer0"), 1u);
  const auto& scores = ctx.scores().at("layer0");
  EXPECT_EQ(scores.sizes(), (std::vector<int64_t>{2, 2, 5, 5}));
  EXPECT_TRUE(scores.requires_grad());
  EXPECT_TRUE(torch::equal(ctx.masks().at("layer0"), mask));
  // Scores are recorded before masking: padded keys still hold their raw (finite) scores.
  EXPECT_TRUE(torch::isfinite(scores).all().item<bool>());
  // An adversarial regularizer differentiates a loss w.r.t. the scores; here d(sum)/dWq.
  (scores * scores).sum().backward();
  ASSERT_TRUE(mha->q_proj()->weight.grad().defined());
  EXPECT_GT(mha->q_proj()->weight.grad().abs().sum().item<double>(), 0.0);
  // The scores are exactly Q K^T / sqrt(d_h) for head 0.
  torch::NoGradGuard no_grad;
  const auto q = mha->q_proj()->forward(x).narrow(-1, 0, 4);
  const auto k = mha->k_proj()->forward(x).narrow(-1, 0, 4);
  EXPECT_LT(max_abs_diff(scores.select(1, 0), torch::matmul(q, k.transpose(1, 2)) / 2.0), 1e-12);
}

TEST(ForwardContext, PerturbationChangesTheOutputButNotAtPaddedKeys) {
  auto mha = make_mha(8, 2, torch::kDouble, 1);
  const auto x = torch::randn({2, 6, 8}, torch::kDouble);
  const auto mask = padding_from_lengths({6, 4}, 6);
  ForwardContext plain;
  const auto base = mha->forward({x, mask, false}, plain, "layer0").out;

  const auto r = torch::randn({2, 2, 6, 6}, torch::kDouble);
  ForwardContext perturbed;
  perturbed.set_perturbation("layer0", r);
  EXPECT_GT(max_abs_diff(mha->forward({x, mask, false}, perturbed, "layer0").out, base), 1e-3);

  // Nonzero only at padded keys (example 1, keys 4 and 5): masked out like the scores.
  const auto at_padding = r * mask.view({2, 1, 1, 6}).to(torch::kDouble) * 1e3;  // (B,1,1,Tk)
  ForwardContext padded_only;
  padded_only.set_perturbation("layer0", at_padding);
  EXPECT_LT(max_abs_diff(mha->forward({x, mask, false}, padded_only, "layer0").out, base), 1e-12);

  // Softmax is shift-invariant: the same value added to every key of a query changes nothing.
  ForwardContext shifted;
  shifted.set_perturbation("layer0", torch::randn({2, 2, 6, 1}, torch::kDouble));
  EXPECT_LT(max_abs_diff(mha->forward({x, mask, false}, shifted, "layer0").out, base), 1e-12);

  // A perturbation for another site is not applied; clearing removes it.
  ForwardContext other;
  other.set_perturbation("layer1", r);
  EXPECT_LT(max_abs_diff(mha->forward({x, mask, false}, other, "layer0").out, base), 1e-12);
  perturbed.clear_perturbations();
  EXPECT_LT(max_abs_diff(mha->forward({x, mask, false}, perturbed, "layer0").out, base), 1e-12);
}

TEST(ForwardContext, RecordedScoresExcludeThePerturbationAndGradientReachesIt) {
  auto mha = make_mha(8, 2, torch::kDouble, 2);
  const auto x = torch::randn({1, 4, 8}, torch::kDouble);
  ForwardContext ctx;
  ctx.set_record_scores(true);
  // Broadcast form (Tq, Tk); VAT differentiates the loss w.r.t. r.
  const auto r = torch::randn({4, 4}, torch::kDouble).requires_grad_(true);
  ctx.set_perturbation("layer0", r);
  const auto out = mha->forward({x, {}, false}, ctx, "layer0").out;
  ForwardContext plain;
  plain.set_record_scores(true);
  mha->forward({x, {}, false}, plain, "layer0");
  EXPECT_LT(max_abs_diff(ctx.scores().at("layer0"), plain.scores().at("layer0")), 1e-12);
  out.pow(2).sum().backward();
  ASSERT_TRUE(r.grad().defined());
  EXPECT_GT(r.grad().abs().sum().item<double>(), 0.0);
}

TEST(ForwardContext, PerturbationOfTheWrongShapeNamesTheSite) {
  auto mha = make_mha(8, 2, torch::kFloat);
  ForwardContext ctx;
  ctx.set_perturbation("layer3", torch::randn({2, 2, 5, 4}));
  try {
    mha->forward({torch::randn({2, 5, 8}), {}, false}, ctx, "layer3");
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("site 'layer3'"), std::string::npos) << message;
    EXPECT_NE(message.find("does not broadcast"), std::string::npos) << message;
  }
}

TEST(ForwardContext, RecordedWeightsAreDistributionsOverValidKeys) {
  auto mha = make_mha(8, 2, torch::kDouble, 4);
  const auto x = torch::randn({3, 7, 8}, torch::kDouble);
  const auto mask = padding_from_lengths({7, 5, 2}, 7);
  for (bool causal : {false, true}) {
    ForwardContext ctx;
    ctx.set_record_weights(true);
    mha->forward({x, mask, causal}, ctx, "layer0");
    const auto& w = ctx.weights().at("layer0");  // (B,H,T,T)
    EXPECT_TRUE(ctx.scores().empty());
    EXPECT_TRUE(torch::equal(ctx.masks().at("layer0"), mask));
    EXPECT_LT(max_abs_diff(w.sum(-1), torch::ones({3, 2, 7}, torch::kDouble)), 1e-12);
    const auto padded_keys = mask.view({3, 1, 1, 7}).expand_as(w);  // (B,H,Tq,Tk)
    EXPECT_EQ(w.masked_select(padded_keys).abs().max().item<double>(), 0.0);
    EXPECT_GE(w.min().item<double>(), 0.0);
    if (causal) {
      const auto future = torch::ones({7, 7}, torch::kBool).triu(1).expand_as(w);
      EXPECT_EQ(w.masked_select(future).abs().max().item<double>(), 0.0);
    }
  }
}

TEST(ForwardContext, FullyPaddedExampleGivesZerosNotNaN) {
  auto mha = make_mha(8, 2, torch::kDouble, 6);
  mha->train();  // dropout is 0; training mode only so gradients are taken as in training
  const auto x = torch::randn({2, 4, 8}, torch::kDouble).requires_grad_(true);
  const auto mask = padding_from_lengths({4, 0}, 4);  // example 1 entirely padded
  ForwardContext ctx;
  ctx.set_record_weights(true);
  const auto out = mha->forward({x, mask, false}, ctx, "layer0").out;
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  EXPECT_EQ(ctx.weights().at("layer0")[1].abs().max().item<double>(), 0.0);
  // No value is attended: every position's output is the out_proj bias.
  EXPECT_LT(max_abs_diff(out[1], mha->out_proj()->bias.expand({4, 8})), 1e-12);
  out.sum().backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
  for (const auto& p : mha->parameters()) {
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
  // Left padding with a causal mask leaves the first queries with no visible key either.
  ForwardContext causal_ctx;
  const auto left = torch::tensor({true, true, false, false}).view({1, 4});
  const auto y = mha->forward({x.narrow(0, 0, 1), left, true}, causal_ctx, "layer0").out;
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  EXPECT_LT(max_abs_diff(y[0][0], mha->out_proj()->bias), 1e-12);
}

}  // namespace
}  // namespace attnlab::attention

namespace attnlab::attention {
namespace {

TEST(ForwardContext, ObservesOnlyWhenRecordingOrPerturbing) {
  ForwardContext ctx;
  EXPECT_FALSE(ctx.observes("layer0"));
  ctx.set_perturbation("layer1", torch::zeros({1}));
  EXPECT_FALSE(ctx.observes("layer0"));
  EXPECT_TRUE(ctx.observes("layer1"));
  ctx.clear_perturbations();
  ctx.set_record_weights(true);
  EXPECT_TRUE(ctx.observes("layer0"));
  ForwardContext quiet;
  quiet.visit("layer3");
  quiet.visit("layer3");
  EXPECT_EQ(quiet.sites(), std::vector<std::string>{"layer3"});
  EXPECT_TRUE(quiet.scores().empty());
}

TEST(ForwardContext, EmbeddingSiteIsRecordedAndPerturbedButNotListedAsAttention) {
  ForwardContext ctx;
  ctx.set_record_embeddings(true);
  const auto e = torch::randn({2, 3, 4}, torch::requires_grad());
  const auto mask = torch::tensor({{false, false, true}, {false, false, false}});
  const auto r = torch::randn({2, 3, 4});
  ctx.set_perturbation("embed", r);
  const auto out = ctx.on_embeddings("embed", e, mask);
  EXPECT_LT(max_abs_diff(out, e + r), 1e-6);
  ASSERT_EQ(ctx.embeddings().count("embed"), 1u);
  EXPECT_TRUE(ctx.embeddings().at("embed").equal(e));  // before the perturbation
  EXPECT_TRUE(ctx.embedding_masks().at("embed").equal(mask));
  EXPECT_TRUE(ctx.sites().empty());
  ctx.set_perturbation("embed", torch::randn({5}));
  EXPECT_THROW(ctx.on_embeddings("embed", e, mask), c10::Error);
}

TEST(ForwardContext, DetachedAttentionKeepsTheOutputButCutsTheGradientThroughTheScores) {
  auto mha = make_mha(8, 2, torch::kDouble);
  const auto x = torch::randn({2, 5, 8}, torch::kDouble);
  ForwardContext plain, detached;
  detached.set_detach_attention(true);
  EXPECT_TRUE(detached.observes("layer0"));
  const auto a = mha->forward({x, {}, false}, plain, "layer0").out;
  const auto b = mha->forward({x, {}, false}, detached, "layer0").out;
  EXPECT_LT(max_abs_diff(a, b), 1e-12);
  // The query projection reaches the output only through the weights: detached, it gets no gradient.
  mha->zero_grad();
  b.sum().backward();
  const auto& q_grad = mha->named_parameters()["q_proj.weight"].grad();
  EXPECT_TRUE(!q_grad.defined() || q_grad.abs().max().item<double>() == 0.0);
  mha->zero_grad();
  a.sum().backward();
  EXPECT_GT(mha->named_parameters()["q_proj.weight"].grad().abs().max().item<double>(), 0.0);
}

}  // namespace
}  // namespace attnlab::attention
