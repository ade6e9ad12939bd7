// Classification metrics against values computed by hand (the same numbers sklearn's
// accuracy_score, f1_score(average="macro", zero_division=0) and roc_auc_score give), AUROC
// against the pairwise definition on data full of ties, and the rejected inputs.
#include "framework/metrics/classification_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace attnlab::metrics {
namespace {

constexpr double kTol = 1e-12;

// Logits whose argmax is `predicted` (one row per example, `classes` columns).
torch::Tensor logits_predicting(const std::vector<int64_t>& predicted, int64_t classes) {
  auto logits = torch::zeros({static_cast<int64_t>(predicted.size()), classes});
  for (size_t i = 0; i < predicted.size(); ++i) logits[i][predicted[i]] = 1.0;
  return logits;
}

torch::Tensor labels(const std::vector<int64_t>& values) { return torch::tensor(values); }

TEST(Accuracy, CountsArgmaxMatches) {
  EXPECT_NEAR(accuracy(logits_predicting({0, 1, 2, 2}, 3), labels({0, 1, 2, 0})), 0.75, kTol);
  EXPECT_NEAR(accuracy(logits_predicting({1, 1}, 2), labels({0, 0})), 0.0, kTol);
}

TEST(Accuracy, ArgmaxTiesGoToTheLowestClass) {
  const auto tied = torch::tensor({{0.5f, 0.5f, 0.1f}, {0.2f, 0.7f, 0.7f}});
  EXPECT_NEAR(accuracy(tied, labels({0, 1})), 1.0, kTol);
  EXPECT_NEAR(accuracy(tied, labels({1, 2})), 0.0, kTol);
}

// labels      0 0 1 1 2 2
// predictions 0 1 1 1 2 0
// class 0: TP 1, FP 1, FN 1 -> F1 = 2/4;  class 1: TP 2, FP 1, FN 0 -> 4/5;
// class 2: TP 1, FP 0, FN 1 -> 2/3;  macro = (1/2 + 4/5 + 2/3) / 3 = 59/90
TEST(MacroF1, HandComputed) {
  EXPECT_NEAR(macro_f1(logits_predicting({0, 1, 1, 1, 2, 0}, 3), labels({0, 0, 1, 1, 2, 2})),
              59.0 / 90.0, kTol);
}

TEST(MacroF1, ClassAbsentFromLabelsAndPredictionsIsSkipped) {
  // Same data with a fourth class nobody uses: still 59/90, not 59/120.
  EXPECT_NEAR(macro_f1(logits_predicting({0, 1, 1, 1, 2, 0}, 4), labels({0, 0, 1, 1, 2, 2})),
              59.0 / 90.0, kTol);
}

// labels 0 0 1, predictions 0 2 1: class 2 is predicted but never true, so its precision is
// 0/1 and its recall 0/0 := 0, F1 = 0; class 0 has F1 2/3, class 1 F1 1 -> (2/3 + 1 + 0) / 3.
TEST(MacroF1, PredictedButNeverTrueCountsAsZero) {
  EXPECT_NEAR(macro_f1(logits_predicting({0, 2, 1}, 3), labels({0, 0, 1})), 5.0 / 9.0, kTol);
}

// labels 0 1 1, predictions 0 0 0: class 1 is never predicted (precision 0/0 := 0) -> F1 = 0;
// class 0: TP 1, FP 2 -> 2/4.  macro = 1/4.
TEST(MacroF1, TrueButNeverPredictedCountsAsZero) {
  EXPECT_NEAR(macro_f1(logits_predicting({0, 0, 0}, 2), labels({0, 1, 1})), 0.25, kTol);
}

TEST(MacroF1, PerfectAndSingleClass) {
  EXPECT_NEAR(macro_f1(logits_predicting({2, 0, 1}, 3), labels({2, 0, 1})), 1.0, kTol);
  EXPECT_NEAR(macro_f1(logits_predicting({1, 1}, 3), labels({1, 1})), 1.0, kTol);
}

TEST(Auroc, HandComputedExample) {
  // Ranks 1, 3, 2, 4; positives' rank sum 6, U = 6 - 3 = 3, AUROC = 3 / (2 * 2).
  const auto auc = auroc_from_scores(torch::tensor({0.1, 0.4, 0.35, 0.8}), labels({0, 0, 1, 1}));
  ASSERT_TRUE(auc.has_value());
  EXPECT_NEAR(*auc, 0.75, kTol);
}

TEST(Auroc, TiesCountAsHalf) {
  EXPECT_NEAR(*auroc_from_scores(torch::tensor({0.5, 0.5, 0.5, 0.5}), labels({0, 1, 0, 1})), 0.5,
              kTol);
  // Positive 0.5 beats negative 0.1 and ties negative 0.5 (1.5); positive 0.9 beats both (2).
  EXPECT_NEAR(*auroc_from_scores(torch::tensor({0.1, 0.5, 0.5, 0.9}), labels({0, 0, 1, 1})),
              3.5 / 4.0, kTol);
}

TEST(Auroc, PerfectAndInvertedRankings) {
  EXPECT_NEAR(*auroc_from_scores(torch::tensor({1.0, 2.0, 3.0}), labels({0, 1, 1})), 1.0, kTol);
  EXPECT_NEAR(*auroc_from_scores(torch::tensor({3.0, 2.0, 1.0}), labels({0, 1, 1})), 0.0, kTol);
}

TEST(Auroc, MatchesThePairwiseDefinitionWithManyTies) {
  torch::manual_seed(3);
  const auto scores = torch::randint(0, 5, {301}).to(torch::kFloat);  // heavy ties
  const auto y = torch::randint(0, 2, {301});
  const auto s = scores.accessor<float, 1>();
  const auto l = y.accessor<int64_t, 1>();
  double wins = 0.0, pairs = 0.0;
  for (int64_t i = 0; i < 301; ++i)
    for (int64_t j = 0; j < 301; ++j)
      if (l[i] == 1 && l[j] == 0) {
        pairs += 1.0;
        wins += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
      }
  ASSERT_GT(pairs, 0.0);
  EXPECT_NEAR(*auroc_from_scores(scores, y), wins / pairs, kTol);
}

TEST(Auroc, UndefinedWithOneClass) {
  EXPECT_FALSE(auroc_from_scores(torch::tensor({0.1, 0.9}), labels({1, 1})).has_value());
  EXPECT_FALSE(auroc_from_scores(torch::tensor({0.1, 0.9}), labels({0, 0})).has_value());
  EXPECT_FALSE(binary_auroc(torch::zeros({3, 2}), labels({0, 0, 0})).has_value());
}

TEST(BinaryAuroc, RanksByTheClassOneProbability) {
  // Margins z1 - z0 = -1, 0.5, 0.3, 2: the same order as the hand-computed example above.
  const auto logits = torch::tensor({{1.0, 0.0}, {0.0, 0.5}, {0.2, 0.5}, {-1.0, 1.0}});
  EXPECT_NEAR(*binary_auroc(logits, labels({0, 0, 1, 1})), 0.75, kTol);
}

TEST(BinaryAuroc, ConfidentLogitsDoNotCollapseIntoTies) {
  // In float, softmax gives probability 1.0 to both rows; the margins 100 < 200 still rank them.
  const auto logits = torch::tensor({{0.0f, 100.0f}, {0.0f, 200.0f}});
  ASSERT_EQ(torch::softmax(logits, 1)[0][1].item<float>(), 1.0f);
  EXPECT_NEAR(*binary_auroc(logits, labels({0, 1})), 1.0, kTol);
}

TEST(Metrics, RejectMalformedInputs) {
  const auto logits = torch::zeros({3, 2});
  EXPECT_THROW(accuracy(logits, labels({0, 1})), c10::Error);         // length
  EXPECT_THROW(accuracy(logits, labels({0, 1, 2})), c10::Error);      // class out of range
  EXPECT_THROW(macro_f1(logits, labels({0, -1, 1})), c10::Error);     // negative class
  EXPECT_THROW(accuracy(logits.flatten(), labels({0, 1, 1})), c10::Error);
  EXPECT_THROW(accuracy(torch::zeros({0, 2}), labels({})), c10::Error);  // empty split
  EXPECT_THROW(binary_auroc(torch::zeros({3, 3}), labels({0, 1, 2})), c10::Error);
  EXPECT_THROW(auroc_from_scores(torch::tensor({0.1, 0.2}), labels({0, 2})), c10::Error);
  EXPECT_THROW(auroc_from_scores(torch::tensor({0.1, NAN}), labels({0, 1})), c10::Error);
  EXPECT_THROW(accuracy(logits, torch::tensor({0.0, 1.0, 1.0})), c10::Error);  // float labels
}

}  // namespace
}  // namespace attnlab::metrics
