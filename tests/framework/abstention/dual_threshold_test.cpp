// The dual-threshold rule against the notes' §7.18 and §2: Youden's τ maximises TPR - FPR over the
// candidates, the exact AUROC equals the trapezoid over the full empirical ROC, the paper's grid
// trapezoid is <= 1 and converges to it, the abstention rate falls as τ grows, the target-FPR rule
// keeps its budget, and the paper's oracle score separates "y not in the LAC set" perfectly.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "framework/abstention/dual_threshold.h"
#include "framework/abstention/selective_metrics.h"

namespace attnlab::abstention {
namespace {

struct Draw {
  torch::Tensor probs, labels;
};
Draw draw(int64_t n, int64_t k, uint64_t seed, double scale = 2.0) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto probs = torch::softmax(torch::randn({n, k}, gen, torch::kFloat64) * scale, 1);
  auto labels = torch::multinomial(probs, 1, false, gen).squeeze(1);
  return {probs, labels};
}

// Random scores with a signal: positives score higher on average, with ties on a coarse grid.
void scored_events(int64_t n, uint64_t seed, std::vector<double>& scores, std::vector<bool>& positive) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::bernoulli_distribution coin(0.3);
  scores.clear();
  positive.clear();
  for (int64_t i = 0; i < n; ++i) {
    const bool p = coin(engine);
    positive.push_back(p);
    scores.push_back(std::round((normal(engine) + (p ? 1.0 : 0.0)) * 4.0) / 4.0 + 2.0);  // ties, mostly > 0
  }
}

TEST(DualThresholdRoc, YoudenMaximisesTprMinusFprOverTheCandidates) {
  std::vector<double> scores;
  std::vector<bool> positive;
  scored_events(500, 1, scores, positive);
  const auto roc = abstention_roc(scores, positive, candidate_thresholds(scores, ThresholdGrid::exact));
  const size_t chosen = choose_threshold(roc, ThresholdRule::youden, 0.0);
  for (const auto& r : roc) EXPECT_LE(r.tpr - r.fpr, roc[chosen].tpr - roc[chosen].fpr + 1e-15);
  EXPECT_GT(roc[chosen].tpr - roc[chosen].fpr, 0.2);  // the signal is found
}

TEST(DualThresholdRoc, ExactAurocEqualsTheTrapezoidOverTheFullRoc) {
  for (uint64_t seed : {2, 3, 4}) {
    std::vector<double> scores;
    std::vector<bool> positive;
    scored_events(300, seed, scores, positive);
    const auto roc = abstention_roc(scores, positive, candidate_thresholds(scores, ThresholdGrid::exact));
    // -inf abstains on everything (1, 1); the largest score on nothing (0, 0).
    EXPECT_EQ(roc.front().tpr, 1.0);
    EXPECT_EQ(roc.front().fpr, 1.0);
    EXPECT_EQ(roc.back().abstention_rate, 0.0);
    EXPECT_NEAR(roc_trapezoid(roc), auroc_correct(scores, positive), 1e-12);
  }
}

TEST(DualThresholdRoc, GridTrapezoidIsAtMostOneAndConvergesToTheExactArea) {
  std::vector<double> scores;
  std::vector<bool> positive;
  scored_events(400, 5, scores, positive);
  const double exact = auroc_correct(scores, positive);
  const double paper = roc_trapezoid(abstention_roc(scores, positive, paper_threshold_grid()));
  EXPECT_LE(paper, 1.0);
  EXPECT_GE(paper, 0.0);
  auto grid_gap = [&](int points) {  // a grid over [-2, 10], past both ends of the scores
    std::vector<double> grid;
    for (int i = 0; i < points; ++i) grid.push_back(-2.0 + 12.0 * i / (points - 1));
    return std::fabs(roc_trapezoid(abstention_roc(scores, positive, grid)) - exact);
  };
  EXPECT_GT(grid_gap(5), 1e-3);     // too coarse to trace the curve
  EXPECT_LT(grid_gap(10000), 1e-12);  // 0.25-spaced scores: a fine grid reaches every ROC point
  EXPECT_EQ(paper_threshold_grid().size(), 148u);  // the three linspaces share 0.1 and 1.0
}

TEST(DualThresholdRoc, AbstentionRateFallsAsTheThresholdGrows) {
  std::vector<double> scores;
  std::vector<bool> positive;
  scored_events(200, 6, scores, positive);
  const auto roc = abstention_roc(scores, positive, candidate_thresholds(scores, ThresholdGrid::exact));
  for (size_t i = 1; i < roc.size(); ++i) {
    EXPECT_LE(roc[i].abstention_rate, roc[i - 1].abstention_rate);
    EXPECT_LE(roc[i].tpr, roc[i - 1].tpr);
    EXPECT_LE(roc[i].fpr, roc[i - 1].fpr);
  }
}

TEST(DualThresholdRoc, TargetFprKeepsItsBudgetWithTheMostDetections) {
  std::vector<double> scores;
  std::vector<bool> positive;
  scored_events(500, 7, scores, positive);
  const auto roc = abstention_roc(scores, positive, candidate_thresholds(scores, ThresholdGrid::exact));
  for (double target : {0.0, 0.05, 0.2, 0.5}) {
    const size_t i = choose_threshold(roc, ThresholdRule::target_fpr, target);
    EXPECT_LE(roc[i].fpr, target);
    for (const auto& r : roc)
      if (r.fpr <= target) EXPECT_LE(r.tpr, roc[i].tpr);
  }
}

TEST(DualThreshold, OracleScoreSeparatesUncoveredItemsOfTheLacSetPerfectly) {
  // LAC: y not in C(x) iff p_y < 1 - q iff -log p_y > -log(1 - q): the paper's oracle score is a
  // perfect detector on the calibration split, so Youden finds J = 1.
  const Draw cal = draw(400, 6, 11);
  DualThresholdOptions options;
  options.conformal.score.kind = ScoreKind::lac;
  options.conformal.alpha = 0.1;
  options.score = AbstentionScore::oracle_neg_log_true_prob;
  const DualThresholdFit fit = fit_dual_threshold(cal.probs, cal.labels, options, 1);
  EXPECT_DOUBLE_EQ(fit.detection_auroc, 1.0);
  EXPECT_DOUBLE_EQ(fit.youden_j, 1.0);
  EXPECT_NEAR(fit.abstention_rate, 0.1, 0.03);  // about alpha of the items fall outside their set
}

TEST(DualThreshold, AbstainedItemsHaveEmptySetsAndTheRestKeepTheConformalSet) {
  const Draw cal = draw(400, 5, 12), test = draw(300, 5, 13);
  DualThresholdOptions options;
  options.conformal.score = {ScoreKind::raps, true, 2, 0.05};
  options.score = AbstentionScore::neg_log_max_prob;
  const DualThresholdFit fit = fit_dual_threshold(cal.probs, cal.labels, options, 1);
  const MethodOutput out = apply_dual_threshold(test.probs, fit, options, 2);  // label-free: no labels
  const torch::Tensor sets = predict_sets(test.probs, fit.set_thresholds, options.conformal, 2);
  const auto a = abstention_scores(test.probs, sets, options.score);
  int64_t abstained = 0;
  for (int64_t i = 0; i < test.probs.size(0); ++i) {
    const bool abstain = a[static_cast<size_t>(i)] > fit.tau;
    EXPECT_EQ(out.decisions[static_cast<size_t>(i)] == Decision::abstain, abstain);
    if (abstain) {
      ++abstained;
      EXPECT_FALSE(out.sets[i].any().item<bool>());
    } else {
      EXPECT_TRUE(out.sets[i].equal(sets[i]));
    }
  }
  EXPECT_GT(abstained, 0);
  EXPECT_LT(abstained, test.probs.size(0));
}

TEST(DualThreshold, LabelFreeScoresNeverReadLabelsAndTheOracleDemandsThem) {
  const Draw cal = draw(200, 4, 14), test = draw(100, 4, 15);
  DualThresholdOptions options;
  options.score = AbstentionScore::entropy;
  const DualThresholdFit fit = fit_dual_threshold(cal.probs, cal.labels, options, 1);
  const MethodOutput a = apply_dual_threshold(test.probs, fit, options, 2);
  const MethodOutput b = apply_dual_threshold(test.probs, fit, options, 2, test.labels.flip(0));
  EXPECT_TRUE(a.sets.equal(b.sets));
  options.score = AbstentionScore::oracle_neg_log_true_prob;
  EXPECT_THROW(apply_dual_threshold(test.probs, fit, options, 2), std::invalid_argument);
}

TEST(DualThreshold, ScoresMatchTheirDefinitions) {
  const auto probs = torch::tensor({0.7, 0.2, 0.1, 0.25, 0.25, 0.5}, torch::kFloat64).view({2, 3});
  const auto sets = torch::tensor({1, 0, 0, 1, 1, 1}, torch::kBool).view({2, 3});
  const auto neg_log = abstention_scores(probs, sets, AbstentionScore::neg_log_max_prob);
  EXPECT_NEAR(neg_log[0], -std::log(0.7), 1e-15);
  EXPECT_NEAR(neg_log[1], -std::log(0.5), 1e-15);
  const auto h = abstention_scores(probs, sets, AbstentionScore::entropy);
  EXPECT_NEAR(h[0], -(0.7 * std::log(0.7) + 0.2 * std::log(0.2) + 0.1 * std::log(0.1)), 1e-12);
  const auto size = abstention_scores(probs, sets, AbstentionScore::set_size);
  EXPECT_EQ(size, (std::vector<double>{1.0, 3.0}));
  const auto oracle = abstention_scores(probs, sets, AbstentionScore::oracle_neg_log_true_prob,
                                        torch::tensor({1, 2}, torch::kLong));
  EXPECT_NEAR(oracle[0], -std::log(0.2 + 1e-7), 1e-12);
}

}  // namespace
}  // namespace attnlab::abstention
