// The clean scoring of a method's output (method_metrics.h) on a hand-worked example, and the
// notes' §7.16 bookkeeping: coverage and accuracy over answered items only, answer + abstention
// rates = 1, NaN when everything is abstained, the penalty score over all items.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/abstention/method_metrics.h"

namespace attnlab::abstention {
namespace {

// Four items, three classes:
//   0: single {0}, y = 0   -> covered, correct
//   1: set {1, 2}, y = 2   -> covered, top member 1 (p 0.5 > 0.4) is wrong
//   2: abstain,    y = 1
//   3: set {} (empty), y = 0 -> answered, not covered, wrong
MethodOutput example_output() {
  MethodOutput out;
  out.method = "example";
  out.sets = torch::tensor({1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0}, torch::kBool).view({4, 3});
  out.decisions = {Decision::single, Decision::set, Decision::abstain, Decision::set};
  return out;
}
torch::Tensor example_probs() {
  return torch::tensor({0.8, 0.1, 0.1, 0.1, 0.5, 0.4, 0.3, 0.4, 0.3, 0.6, 0.2, 0.2}, torch::kFloat64).view({4, 3});
}

TEST(MethodMetrics, HandWorkedExample) {
  const auto m = method_metrics(example_output(), example_probs(), torch::tensor({0, 2, 1, 0}, torch::kLong), 2.0);
  EXPECT_EQ(m.items, 4);
  EXPECT_DOUBLE_EQ(m.answer_rate, 0.75);
  EXPECT_DOUBLE_EQ(m.abstention_rate, 0.25);
  EXPECT_DOUBLE_EQ(m.coverage, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.coverage_all, 0.5);
  EXPECT_DOUBLE_EQ(m.average_set_size, 1.0);  // (1 + 2 + 0) / 3
  EXPECT_DOUBLE_EQ(m.singleton_rate, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.empty_rate, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.selective_risk, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.penalty_score, 100.0 * (1.0 - 2.0 * 2.0) / 4.0);
  // Answered items by set size 0..3: the empty set, the singleton, the pair; the abstained item is not counted.
  EXPECT_EQ(m.set_size_counts, (std::vector<int64_t>{1, 1, 1, 0}));
}

TEST(MethodMetrics, EverythingAbstainedLeavesAnsweredMetricsUndefined) {
  MethodOutput out = example_output();
  out.sets.fill_(false);
  out.decisions.assign(4, Decision::abstain);
  const auto m = method_metrics(out, example_probs(), torch::tensor({0, 2, 1, 0}, torch::kLong), 1.0);
  EXPECT_DOUBLE_EQ(m.answer_rate + m.abstention_rate, 1.0);
  EXPECT_DOUBLE_EQ(m.abstention_rate, 1.0);
  EXPECT_TRUE(std::isnan(m.coverage));
  EXPECT_TRUE(std::isnan(m.accuracy));
  EXPECT_DOUBLE_EQ(m.penalty_score, 0.0);
  EXPECT_DOUBLE_EQ(m.coverage_all, 0.0);
  EXPECT_EQ(m.set_size_counts, (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(MethodMetrics, ModelLineSharesOneConfidenceDefinition) {
  const auto probs = example_probs();
  const auto labels = torch::tensor({0, 2, 1, 0}, torch::kLong);
  const auto m = model_metrics(probs, labels, 1.0);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);  // argmax 0, 1, 1, 0 against 0, 2, 1, 0
  EXPECT_DOUBLE_EQ(m.chow_threshold, 0.5);
  // Chow answers where max p > 0.5: items 0 (right), 3 (right) -> RS = 100·2/4.
  EXPECT_DOUBLE_EQ(m.chow_penalty_score, 50.0);
  EXPECT_DOUBLE_EQ(m.aurc, aurc(max_probability(probs), top1_correct(probs, labels)));
  EXPECT_EQ(m.calibration.bins.size(), 15u);
}

TEST(MethodMetrics, RejectsOutputsThatDoNotMatchTheData) {
  MethodOutput out = example_output();
  out.decisions.pop_back();
  EXPECT_THROW(method_metrics(out, example_probs(), torch::tensor({0, 2, 1, 0}, torch::kLong), 1.0),
               std::invalid_argument);
  EXPECT_THROW(method_metrics(example_output(), example_probs(), torch::tensor({0, 2, 1, 3}, torch::kLong), 1.0),
               std::invalid_argument);
}

}  // namespace
}  // namespace attnlab::abstention
