// The objective: task loss, auxiliary losses weighted by their modules' coefficients and logged
// unweighted per name, regularizers weighted by their schedules, every term by name.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "datasets/dataset.h"
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

// A language model's loss: the mean over the non-ignored targets of -log softmax(logits)[target],
// computed here by a plain loop; ignored positions get no gradient.
TEST(Objective, LanguageModelLossIsTheMeanOverNonIgnoredTargets) {
  torch::manual_seed(1);
  const auto logits = torch::randn({2, 3, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  constexpr int64_t kIgnore = datasets::kIgnoreTarget;
  const auto targets = torch::tensor(std::vector<int64_t>{1, 4, kIgnore, 0, kIgnore, 2}).view({2, 3});
  Objective objective(0.0, {});
  const auto loss = objective.task_loss(logits, targets);

  double sum = 0.0;
  int count = 0;
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 3; ++t) {
      const int64_t y = targets[b][t].item<int64_t>();
      if (y == datasets::kIgnoreTarget) continue;
      const auto row = logits[b][t].detach();
      sum += (row.exp().sum().log() - row[y]).item<double>();
      ++count;
    }
  }
  EXPECT_EQ(count, 4);
  EXPECT_NEAR(loss.item<double>(), sum / count, 1e-12);

  loss.backward();
  EXPECT_EQ(logits.grad()[0][2].abs().sum().item<double>(), 0.0);  // ignored target
  EXPECT_EQ(logits.grad()[1][1].abs().sum().item<double>(), 0.0);
  EXPECT_GT(logits.grad()[0][0].abs().sum().item<double>(), 0.0);
}

TEST(Objective, LanguageModelLossRejectsMismatchedTargets) {
  Objective objective(0.0, {});
  EXPECT_THROW(objective.task_loss(torch::zeros({2, 3, 5}), torch::zeros({2, 4}, torch::kLong)), c10::Error);
}

}  // namespace
}  // namespace attnlab::objective
