// The objective: task loss, auxiliary losses weighted by their modules' coefficients and logged
// unweighted per name, regularizers weighted by their schedules, every term by name.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/objective/objective.h"

namespace attnlab::objective {
namespace {

// A model that is never called: the regularizer below only looks at the clean output.
struct NoModel : models::Model {
  models::ModelOutput forward(const models::ModelInput&, attention::ForwardContext&) override { return {}; }
};

// Returns the mean squared logit, so its value is known.
struct LogitL2 : Regularizer {
  torch::Tensor compute(const RegularizerInputs& in) override { return in.clean.logits.pow(2).mean(); }
};

TEST(WeightSchedule, ConstantLinearCosine) {
  WeightSchedule c{2.0, 0.0, "constant"};
  EXPECT_DOUBLE_EQ(c.at(50, 100), 2.0);
  WeightSchedule l{2.0, 1.0, "linear"};
  EXPECT_DOUBLE_EQ(l.at(0, 100), 2.0);
  EXPECT_DOUBLE_EQ(l.at(50, 100), 1.5);
  EXPECT_DOUBLE_EQ(l.at(100, 100), 1.0);
  WeightSchedule k{1.0, 0.0, "cosine"};
  EXPECT_DOUBLE_EQ(k.at(0, 100), 1.0);
  EXPECT_NEAR(k.at(50, 100), 0.5, 1e-12);  // (w0 + w_end) / 2 at T/2
  EXPECT_NEAR(k.at(100, 100), 0.0, 1e-12);
  double prev = 2.0;
  for (int t = 0; t <= 100; t += 5) {
    EXPECT_LE(k.at(t, 100), prev);
    prev = k.at(t, 100);
  }
}

TEST(Objective, SumsTermsAndNamesThem) {
  torch::manual_seed(0);
  NoModel model;
  const auto logits = torch::randn({4, 3}, torch::requires_grad());
  const auto labels = torch::tensor({0, 1, 2, 1}, torch::kLong);
  models::ModelOutput out;
  out.logits = logits;
  out.aux_losses = {{"balance", torch::tensor(0.5), 0.01}, {"balance", torch::tensor(0.25), 0.01}};
  Objective objective(0.0, {{"logit_l2", std::make_shared<LogitL2>(), WeightSchedule{0.1, 0.0, "constant"}}});
  attention::ForwardContext ctx;
  const models::ModelInput input{};
  const auto terms = objective.compute(model, input, labels, out, ctx, 0, 10);

  const double task = torch::nn::functional::cross_entropy(logits, labels).item<double>();
  const double l2 = logits.pow(2).mean().item<double>();
  // The two layers' balance losses are averaged: 0.01 * (0.5 + 0.25) / 2.
  EXPECT_NEAR(terms.total.item<double>(), task + 0.01 * 0.375 + 0.1 * l2, 1e-6);
  ASSERT_EQ(terms.terms.size(), 3u);
  EXPECT_EQ(terms.terms[0].first, "task");
  EXPECT_EQ(terms.terms[1].first, "balance");
  EXPECT_NEAR(terms.terms[1].second.item<double>(), 0.375, 1e-7);  // logged unweighted, mean over layers
  EXPECT_EQ(terms.terms[2].first, "logit_l2");
  EXPECT_NEAR(terms.terms[2].second.item<double>(), l2, 1e-6);
  terms.total.backward();
  EXPECT_TRUE(logits.grad().defined());
}

TEST(Objective, LabelSmoothing) {
  const auto logits = torch::tensor({{2.0, 0.0}});
  const auto labels = torch::tensor({0}, torch::kLong);
  Objective plain(0.0, {}), smooth(0.2, {});
  const double lse = std::log(std::exp(2.0) + 1.0);
  EXPECT_NEAR(plain.task_loss(logits, labels).item<double>(), lse - 2.0, 1e-6);
  // 0.9 on the label, 0.1 on the other class.
  EXPECT_NEAR(smooth.task_loss(logits, labels).item<double>(), 0.9 * (lse - 2.0) + 0.1 * lse, 1e-6);
}

}  // namespace
}  // namespace attnlab::objective
