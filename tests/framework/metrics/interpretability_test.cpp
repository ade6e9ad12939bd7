// Interpretability metrics against values computed with scipy 1.10 / sklearn 1.2 (Debian's
// python3-scipy and python3-sklearn), and the identities of notes §6 (27, 28).
#include <gtest/gtest.h>

#include "framework/metrics/interpretability.h"

namespace attnlab::metrics {
namespace {

TEST(Correlation, KnownValuesAndIdentities) {
  // scipy.stats.kendalltau([1,2,2,3,5], [2,1,3,3,4]) = 0.6666..., pearsonr = 0.7518094115561124
  const std::vector<double> a = {1, 2, 2, 3, 5}, b = {2, 1, 3, 3, 4};
  EXPECT_NEAR(*kendall_tau(a, b), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(*pearson(a, b), 0.7518094115561124, 1e-12);
  const std::vector<double> up = {0.1, 0.5, 0.2, 0.9}, down = {0.9, 0.5, 0.8, 0.1};
  EXPECT_NEAR(*kendall_tau(up, up), 1.0, 1e-12);
  EXPECT_NEAR(*pearson(up, up), 1.0, 1e-12);
  EXPECT_NEAR(*kendall_tau(up, down), -1.0, 1e-12);  // reversed order
  EXPECT_FALSE(pearson({1, 1, 1}, {1, 2, 3}).has_value());
  EXPECT_FALSE(kendall_tau({1, 1, 1}, {1, 2, 3}).has_value());
  EXPECT_FALSE(kendall_tau({1}, {1}).has_value());
}

TEST(Rationale, MatchesSklearn) {
  // precision_recall_curve + auc, average_precision_score, roc_auc_score.
  EXPECT_NEAR(*token_auprc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.7916666666666666, 1e-12);
  EXPECT_NEAR(*average_precision({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.8333333333333333, 1e-12);
  EXPECT_NEAR(*roc_auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75, 1e-12);
  // With tied scores.
  const std::vector<double> s = {0.9, 0.9, 0.3, 0.3, 0.1, 0.5};
  const std::vector<int> y = {1, 0, 1, 0, 0, 1};
  EXPECT_NEAR(*token_auprc(s, y), 0.6555555555555556, 1e-12);
  EXPECT_NEAR(*average_precision(s, y), 0.5888888888888889, 1e-12);
  EXPECT_NEAR(*roc_auc(s, y), 0.6666666666666666, 1e-12);
}

TEST(Rationale, PerfectRankingIsOneAndOneClassDocumentsAreSkipped) {
  EXPECT_NEAR(*token_auprc({0.9, 0.8, 0.1, 0.2}, {1, 1, 0, 0}), 1.0, 1e-12);
  EXPECT_NEAR(*average_precision({0.9, 0.8, 0.1, 0.2}, {1, 1, 0, 0}), 1.0, 1e-12);
  EXPECT_NEAR(*roc_auc({0.9, 0.8, 0.1, 0.2}, {1, 1, 0, 0}), 1.0, 1e-12);
  EXPECT_FALSE(token_auprc({0.1, 0.2}, {0, 0}).has_value());
  EXPECT_FALSE(average_precision({0.1, 0.2}, {1, 1}).has_value());
  EXPECT_FALSE(roc_auc({0.1, 0.2}, {1, 1}).has_value());
  const auto s = summarize({0.5, std::nullopt, 1.0});
  EXPECT_DOUBLE_EQ(s.mean, 0.75);
  EXPECT_EQ(s.counted, 2);
  EXPECT_EQ(s.skipped, 1);
}

TEST(GradientImportance, NonNegativeSumsToOneOverRealTokens) {
  const auto grad = torch::tensor({1.0, -2.0, 0.5, 0.5, 3.0, 1.0}, torch::kDouble).view({3, 2});
  const auto emb = torch::tensor({1.0, 1.0, 2.0, -2.0, 1.0, 1.0}, torch::kDouble).view({3, 2});
  const auto valid = torch::tensor({1, 1, 0}, torch::kLong).to(torch::kBool);
  const auto imp = gradient_importance(grad, emb, valid);
  ASSERT_EQ(imp.size(), 2u);  // the padded token is dropped
  // |1 - 2| = 1 and |1 - 1| = 0: normalised to 1 and 0.
  EXPECT_NEAR(imp[0], 1.0, 1e-12);
  EXPECT_NEAR(imp[1], 0.0, 1e-12);
}

}  // namespace
}  // namespace attnlab::metrics
