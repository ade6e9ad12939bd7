// Attention pooling: the additive and dot scores against their formulas, weights zero at padding
// and summing to 1, no gradient into padded scores, and the tap sees (B, 1, 1, T) scores.
#include <gtest/gtest.h>

#include <cmath>

#include "attention/additive/additive_pooling.h"

namespace attnlab::attention {
namespace {

TEST(AdditivePooling, ScoresFollowTheirFormulas) {
  torch::manual_seed(0);
  AdditivePooling additive(AdditivePoolingOptions{6, 4, "additive"});
  AdditivePooling dot(AdditivePoolingOptions{6, 4, "dot"});
  additive->to(torch::kDouble);
  dot->to(torch::kDouble);
  const auto h = torch::randn({2, 5, 6}, torch::kDouble);
  const auto& p = additive->named_parameters();
  const auto w = p["w.weight"], b = p["w.bias"], v = p["v.weight"];
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t t = 0; t < 5; ++t) {
      const auto x = h[i][t];
      const double want = torch::dot(v[0], torch::tanh(torch::mv(w, x) + b)).item<double>();
      EXPECT_NEAR(additive->scores(h)[i][t].item<double>(), want, 1e-12);
      const double want_dot = torch::dot(dot->named_parameters()["v.weight"][0], x).item<double>() / std::sqrt(6.0);
      EXPECT_NEAR(dot->scores(h)[i][t].item<double>(), want_dot, 1e-12);
    }
  }
  EXPECT_THROW(AdditivePooling(AdditivePoolingOptions{6, 4, "cosine"}), std::invalid_argument);
}

TEST(AdditivePooling, PaddingGetsNoWeightAndNoGradient) {
  torch::manual_seed(1);
  AdditivePooling pool(AdditivePoolingOptions{4, 3, "additive"});
  pool->to(torch::kDouble);
  const auto h = torch::randn({2, 5, 4}, torch::dtype(torch::kDouble).requires_grad(true));
  auto mask = torch::zeros({2, 5}, torch::kBool);
  mask[1].narrow(0, 3, 2).fill_(true);
  ForwardContext ctx;
  ctx.set_record_scores(true);
  const auto out = pool->forward(h, mask, ctx, "pool");
  EXPECT_EQ(ctx.scores().at("pool").sizes(), (std::vector<int64_t>{2, 1, 1, 5}));
  EXPECT_EQ(out.weights[1].narrow(0, 3, 2).abs().sum().item<double>(), 0.0);
  EXPECT_NEAR(out.weights.sum(1)[0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(out.weights.sum(1)[1].item<double>(), 1.0, 1e-12);
  // c = sum_t a_t h_t
  EXPECT_LT((out.context - (out.weights.unsqueeze(-1) * h).sum(1)).abs().max().item<double>(), 1e-12);
  const auto g = torch::autograd::grad({out.context.sum()}, {ctx.scores().at("pool")})[0];
  EXPECT_EQ(g[1][0][0].narrow(0, 3, 2).abs().sum().item<double>(), 0.0);
  // Changing padded vectors changes nothing.
  ForwardContext ctx2;
  const auto h2 = h.detach().clone();
  h2[1].narrow(0, 3, 2).normal_();
  EXPECT_LT((pool->forward(h2, mask, ctx2, "pool").context - out.context).abs().max().item<double>(), 1e-12);
}

}  // namespace
}  // namespace attnlab::attention
