// Selective-prediction metrics against the notes' §5, §6 and §7.13-17 properties: AUROC against
// brute-force pair counting, AURC of an oracle ranking = the discrete optimum, ECE bin edges and
// a calibrated synthetic predictor, the penalty score and its c/(1+c) threshold, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "framework/abstention/selective_metrics.h"

namespace attnlab::abstention {
namespace {

struct Sample {
  std::vector<double> confidence;
  std::vector<bool> correct;
};
// Calibrated synthetic predictor (notes §7.13): conf ~ U(lo, 1), correct ~ Bernoulli(conf).
Sample calibrated(size_t n, double lo, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Sample s;
  for (size_t i = 0; i < n; ++i) {
    const double c = lo + (1 - lo) * u(engine);
    s.confidence.push_back(c);
    s.correct.push_back(u(engine) < c);
  }
  return s;
}

TEST(SelectiveAuroc, PerfectReversedConstantAndBruteForce) {
  const std::vector<bool> correct = {true, false, true, false, true};
  EXPECT_EQ(auroc_correct({0.9, 0.1, 0.8, 0.2, 0.7}, correct), 1.0);
  EXPECT_EQ(auroc_correct({0.1, 0.9, 0.2, 0.8, 0.3}, correct), 0.0);
  EXPECT_EQ(auroc_correct({0.5, 0.5, 0.5, 0.5, 0.5}, correct), 0.5);
  EXPECT_TRUE(std::isnan(auroc_correct({0.1, 0.2}, {true, true})));
  std::mt19937_64 engine(3);
  std::uniform_int_distribution<int> level(0, 4);
  for (int trial = 0; trial < 20; ++trial) {
    Sample s;
    for (int i = 0; i < 30; ++i) {
      s.confidence.push_back(level(engine) / 4.0);  // many ties
      s.correct.push_back(level(engine) % 2 == 0);
    }
    double pairs = 0, wins = 0;
    for (size_t i = 0; i < 30; ++i)
      for (size_t j = 0; j < 30; ++j)
        if (s.correct[i] && !s.correct[j]) {
          pairs += 1;
          wins += s.confidence[i] > s.confidence[j] ? 1.0 : s.confidence[i] == s.confidence[j] ? 0.5 : 0.0;
        }
    EXPECT_NEAR(auroc_correct(s.confidence, s.correct), wins / pairs, 1e-12);
    std::vector<double> cubed;  // strictly monotone transform
    for (double c : s.confidence) cubed.push_back(c * c * c - 5);
    EXPECT_NEAR(auroc_correct(cubed, s.correct), wins / pairs, 1e-12);
  }
}

TEST(SelectiveAurc, OracleRankingReachesTheDiscreteOptimum) {
  const std::vector<bool> correct = {true, false, true, true, false, true, false, true};
  std::vector<double> oracle;
  for (bool c : correct) oracle.push_back(c ? 0.9 : 0.1);
  // n = 8, n_c = 5: (1/8)·(1/6 + 2/7 + 3/8).
  EXPECT_NEAR(aurc_optimal(correct), (1.0 / 6 + 2.0 / 7 + 3.0 / 8) / 8, 1e-15);
  EXPECT_NEAR(aurc(oracle, correct), aurc_optimal(correct), 1e-15);
  EXPECT_NEAR(eaurc(oracle, correct), 0.0, 1e-15);
  std::vector<double> reversed;
  for (double c : oracle) reversed.push_back(1 - c);
  EXPECT_GT(eaurc(reversed, correct), 0.1);
  EXPECT_LE(aurc(reversed, correct), 1.0);
  // Constant confidence: every risk_m = r̂ (tied group), so AURC = r̂; AUARC = 1 - AURC.
  const std::vector<double> constant(correct.size(), 0.5);
  EXPECT_NEAR(aurc(constant, correct), 3.0 / 8, 1e-15);
  EXPECT_NEAR(auarc(constant, correct), 5.0 / 8, 1e-15);
  EXPECT_NEAR(auarc(reversed, correct), 1 - aurc(reversed, correct), 1e-15);
  EXPECT_EQ(aurc(constant, std::vector<bool>(8, true)), 0.0);
  EXPECT_NEAR(selective_risk_at_coverage(reversed, correct, 1.0), 3.0 / 8, 1e-15);
  EXPECT_NEAR(selective_risk_at_coverage(oracle, correct, 0.5), 0.0, 1e-15);
  EXPECT_NEAR(selective_risk_at_coverage(oracle, correct, 0.75), 1.0 / 6, 1e-15);
}

TEST(SelectiveAurc, RiskCoverageCurvePoints) {
  const auto curve = risk_coverage_curve({0.9, 0.2, 0.5, 0.5}, {true, false, false, true});
  ASSERT_EQ(curve.risk.size(), 4u);
  EXPECT_EQ(curve.coverage[0], 0.25);
  EXPECT_EQ(curve.coverage[3], 1.0);
  EXPECT_NEAR(curve.risk[0], 0.0, 1e-15);
  EXPECT_NEAR(curve.risk[1], 0.5 / 2, 1e-15);  // half of the tied pair's one error
  EXPECT_NEAR(curve.risk[2], 1.0 / 3, 1e-15);
  EXPECT_NEAR(curve.risk[3], 2.0 / 4, 1e-15);
}

TEST(SelectiveEce, BinEdgesFollowGuoConvention) {
  EXPECT_EQ(calibration_bin(0.0, 15), 0);
  EXPECT_EQ(calibration_bin(1.0 / 15, 15), 0);  // (0, 1/15] with 0 included
  EXPECT_EQ(calibration_bin(std::nextafter(1.0 / 15, 1.0), 15), 1);
  for (int m = 1; m <= 15; ++m) EXPECT_EQ(calibration_bin(m / 15.0, 15), m - 1) << m;
  EXPECT_EQ(calibration_bin(1.0, 15), 14);
}

TEST(SelectiveEce, CalibratedIsNearZeroAndOverconfidentIsHalf) {
  const auto s = calibrated(200000, 0.2, 1);
  const auto result = calibration_error(s.confidence, s.correct);
  EXPECT_LT(result.ece, 0.01);
  ASSERT_EQ(result.bins.size(), 15u);
  EXPECT_EQ(result.bins[0].count, 0);
  EXPECT_TRUE(std::isnan(result.bins[0].accuracy));
  int64_t total = 0;
  for (const auto& b : result.bins) total += b.count;
  EXPECT_EQ(total, 200000);
  const auto over = calibration_error(std::vector<double>(10, 1.0),
                                      {true, false, true, false, true, false, true, false, true, false});
  EXPECT_NEAR(over.ece, 0.5, 1e-15);
  EXPECT_NEAR(over.mce, 0.5, 1e-15);
  EXPECT_EQ(over.bins[14].count, 10);
}

TEST(SelectivePenalty, ScoreAndAnswerBookkeeping) {
  const std::vector<bool> correct = {true, true, false, false};
  EXPECT_EQ(penalty_score(correct, {false, false, false, false}, 10), 0.0);
  EXPECT_EQ(penalty_score({true, true}, {true, true}, 10), 100.0);
  EXPECT_EQ(penalty_score(correct, {true, true, true, false}, 0), 50.0);  // RS(0) = 100·correct rate
  EXPECT_EQ(penalty_score(correct, {true, false, true, false}, 2), 100.0 * (1 - 2) / 4);
  EXPECT_EQ(accuracy_on_answered(correct, {true, true, true, false}), 2.0 / 3);
  EXPECT_TRUE(std::isnan(accuracy_on_answered(correct, {false, false, false, false})));
  EXPECT_EQ(abstention_rate({true, false, false, false}), 0.75);
}

TEST(SelectivePenalty, OptimalThresholdIsChowsRule) {
  EXPECT_EQ(chow_threshold(1.0), 0.5);
  EXPECT_NEAR(chow_threshold(3.0), 0.75, 1e-15);
  const auto s = calibrated(100000, 0.0, 7);
  for (double c : {0.5, 1.0, 3.0}) {
    const auto best = optimal_penalty_threshold(s.confidence, s.correct, c);
    EXPECT_NEAR(best.threshold, chow_threshold(c), 0.03) << c;
    std::vector<bool> answered;
    for (double k : s.confidence) answered.push_back(k > best.threshold);
    EXPECT_NEAR(penalty_score(s.correct, answered, c), best.score, 1e-9);
  }
  // Small exact case: answering only the 0.9 item scores 1; adding the 0.6 one (wrong) costs 2.
  const auto best = optimal_penalty_threshold({0.9, 0.6, 0.3}, {true, false, true}, 2.0);
  EXPECT_EQ(best.threshold, 0.6);
  EXPECT_NEAR(best.score, 100.0 / 3, 1e-12);
}

TEST(SelectiveInput, BadInputThrowsInvalidArgument) {
  EXPECT_THROW(aurc({}, {}), std::invalid_argument);
  EXPECT_THROW(aurc({0.1, 0.2}, {true}), std::invalid_argument);
  EXPECT_THROW(auroc_correct({0.1, std::nan("")}, {true, false}), std::invalid_argument);
  EXPECT_THROW(calibration_error({1.5}, {true}), std::invalid_argument);
  EXPECT_THROW(selective_risk_at_coverage({0.1}, {true}, 0.0), std::invalid_argument);
  EXPECT_THROW(penalty_score({true}, {true}, -1.0), std::invalid_argument);
  EXPECT_THROW(penalty_score({true}, {true, false}, 1.0), std::invalid_argument);
  try {
    aurc({0.1, 0.2}, {true});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2 confidences for 1 outcomes"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnlab::abstention
