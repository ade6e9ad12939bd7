// Split conformal classification against the notes' §7 properties (conformal_abstention.md):
// the order-statistic quantile and its numpy 'higher' variant (§3, §7.1-2), score definitions
// (§3, §7.8-11), marginal coverage on exchangeable synthetic data (§7.3), the oracle (§7.5),
// nesting (§7.9), the empty-set policy (§7.12), Mondrian per-class coverage (§7.6), bad input.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "framework/abstention/conformal.h"
#include "framework/abstention/quantile.h"
#include "framework/abstention/scores.h"
#include "framework/abstention/set_metrics.h"

namespace attnlab::abstention {
namespace {

const double kInf = std::numeric_limits<double>::infinity();

std::vector<double> iota_scores(int64_t n) {  // 1, 2, ..., n in a shuffled order
  std::vector<double> s;
  for (int64_t i = 0; i < n; ++i) s.push_back(static_cast<double>(i + 1));
  std::mt19937_64 engine(static_cast<uint64_t>(n));
  std::shuffle(s.begin(), s.end(), engine);
  return s;
}

// Exchangeable synthetic data: logits ~ scale·N(0,1), labels ~ Cat(softmax(logits)).
struct Draw {
  torch::Tensor probs, labels;
};
Draw draw(int64_t n, int64_t k, at::Generator& gen, double scale = 2.0) {
  auto logits = torch::randn({n, k}, gen, torch::kFloat64) * scale;
  auto probs = torch::softmax(logits, 1);
  auto labels = torch::multinomial(probs, 1, false, gen).squeeze(1);
  return {probs, labels};
}

TEST(ConformalQuantile, ExactIsTheKthOrderStatistic) {
  EXPECT_EQ(conformal_rank(4, 0.5), 3);
  EXPECT_EQ(conformal_rank(10, 0.1), 10);
  EXPECT_EQ(conformal_rank(9, 0.05), 10);
  EXPECT_EQ(conformal_rank(100, 0.1), 91);
  EXPECT_EQ(conformal_rank(99, 0.1), 90);  // 100·0.9 is 90.000000000000014 in floating point
  EXPECT_EQ(conformal_quantile(iota_scores(4), 0.5), 3.0);
  EXPECT_EQ(conformal_quantile(iota_scores(10), 0.1), 10.0);
  EXPECT_EQ(conformal_quantile(iota_scores(9), 0.05), kInf);
  EXPECT_EQ(conformal_quantile(iota_scores(100), 0.1), 91.0);
}

TEST(ConformalQuantile, NumpyHigherDiffersExactlyWhereTheNotesSay) {
  const auto higher = QuantileMode::numpy_higher;
  EXPECT_EQ(conformal_quantile(iota_scores(4), 0.5, higher), 4.0);
  EXPECT_EQ(conformal_quantile(iota_scores(100), 0.1, higher), 92.0);
  EXPECT_EQ(conformal_quantile(iota_scores(10), 0.1, higher), 10.0);
  EXPECT_EQ(conformal_quantile(iota_scores(9), 0.05, higher), 9.0);  // max, not +inf
  for (int64_t n = 1; n <= 60; ++n)
    for (double alpha : {0.01, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 0.9}) {
      const int64_t k = conformal_rank(n, alpha);
      const double exact = conformal_quantile(iota_scores(n), alpha);
      const double numpy = conformal_quantile(iota_scores(n), alpha, higher);
      SCOPED_TRACE("n=" + std::to_string(n) + " alpha=" + std::to_string(alpha));
      if (k < n) {
        EXPECT_EQ(exact, static_cast<double>(k));
        EXPECT_EQ(numpy, static_cast<double>(k + 1));
      } else if (k == n) {
        EXPECT_EQ(exact, static_cast<double>(n));
        EXPECT_EQ(numpy, static_cast<double>(n));
      } else {
        EXPECT_EQ(exact, kInf);
        EXPECT_EQ(numpy, static_cast<double>(n));
      }
    }
}

TEST(ConformalQuantile, PermutationInvariantMonotoneAndTakenFromTheSet) {
  const std::vector<double> tied = {0.3, 0.1, 0.3, 0.7, 0.1, 0.3, 0.9, 0.5};
  auto reversed = tied;
  std::reverse(reversed.begin(), reversed.end());
  double previous = kInf;
  for (double alpha : {0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9}) {
    const double q = conformal_quantile(tied, alpha);
    EXPECT_EQ(q, conformal_quantile(reversed, alpha));
    EXPECT_LE(q, previous);
    if (std::isfinite(q)) EXPECT_NE(std::find(tied.begin(), tied.end(), q), tied.end());
    previous = q;
  }
}

TEST(ConformalScores, DefinitionsOnAHandExample) {
  // Classes 1 and 2 tie at 0.3: the lower index ranks first (rank 2), class 2 ranks third.
  const auto probs = torch::tensor({{0.1, 0.3, 0.3, 0.3}}, torch::kFloat64);
  const auto lac = score_matrix(probs, {ScoreKind::lac}, 0);
  EXPECT_NEAR(lac[0][0].item<double>(), 0.9, 1e-15);
  const auto aps = score_matrix(probs, {ScoreKind::aps, false}, 0);
  EXPECT_NEAR(aps[0][1].item<double>(), 0.3, 1e-15);  // top-1: p_(1)
  EXPECT_NEAR(aps[0][2].item<double>(), 0.6, 1e-15);
  EXPECT_NEAR(aps[0][3].item<double>(), 0.9, 1e-15);
  EXPECT_NEAR(aps[0][0].item<double>(), 1.0, 1e-15);
  const auto topk = score_matrix(probs, {ScoreKind::top_k, false}, 0);
  EXPECT_EQ(topk[0][1].item<double>(), 1.0);
  EXPECT_EQ(topk[0][3].item<double>(), 3.0);
  EXPECT_EQ(topk[0][0].item<double>(), 4.0);
  // RAPS non-randomised: APS + lambda·(o - k_reg)^+.
  const auto raps = score_matrix(probs, {ScoreKind::raps, false, 1, 0.5}, 0);
  EXPECT_NEAR(raps[0][0].item<double>(), 1.0 + 0.5 * 3, 1e-12);
  EXPECT_NEAR(raps[0][1].item<double>(), 0.3, 1e-15);
  // Randomised: one U per row shared by the labels; APS_rand <= APS for every label.
  const auto aps_rand = score_matrix(probs, {ScoreKind::aps, true}, 7);
  EXPECT_TRUE((aps_rand <= aps).all().item<bool>());
  const double u = (0.3 - aps_rand[0][1].item<double>()) / 0.3;
  EXPECT_NEAR(aps_rand[0][0].item<double>(), 1.0 - u * 0.1, 1e-12);
}

TEST(ConformalScores, RapsWithZeroLambdaIsApsBitForBitAndSeedsMatter) {
  at::Generator gen = at::detail::createCPUGenerator(1);
  const auto d = draw(50, 6, gen);
  const auto aps = score_matrix(d.probs, {ScoreKind::aps, true}, 11);
  EXPECT_TRUE(torch::equal(aps, score_matrix(d.probs, {ScoreKind::raps, true, 2, 0.0}, 11)));
  EXPECT_TRUE(torch::equal(aps, score_matrix(d.probs, {ScoreKind::aps, true}, 11)));
  EXPECT_FALSE(torch::equal(aps, score_matrix(d.probs, {ScoreKind::aps, true}, 12)));
  EXPECT_TRUE((aps >= 0).all().item<bool>() && (aps <= 1 + 1e-12).all().item<bool>());
}

TEST(ConformalScores, PermutingClassesPermutesScores) {
  at::Generator gen = at::detail::createCPUGenerator(2);
  const auto d = draw(20, 5, gen);
  const auto perm = torch::tensor({3, 0, 4, 1, 2}, torch::kInt64);
  for (auto kind : {ScoreKind::lac, ScoreKind::aps, ScoreKind::raps, ScoreKind::top_k}) {
    const ScoreParams params{kind, true, 1, 0.1};
    const auto a = score_matrix(d.probs, params, 5).index_select(1, perm);
    const auto b = score_matrix(d.probs.index_select(1, perm), params, 5);
    EXPECT_TRUE(torch::allclose(a, b, 0, 1e-12));
  }
}

// Notes §7.3: mean coverage over R draws within [1-α - 3σ_R, 1-α + 1/(n+1) + 3σ_R].
TEST(ConformalCoverage, MarginalCoverageWithinBinomialTolerance) {
  const int64_t n_cal = 500, n_test = 1000, k = 5, trials = 30;
  const double alpha = 0.1;
  const int64_t rank = conformal_rank(n_cal, alpha);
  const double var_beta = static_cast<double>(rank) * static_cast<double>(n_cal + 1 - rank) /
                          (std::pow(n_cal + 1.0, 2) * (n_cal + 2.0));
  const double sigma = std::sqrt(var_beta + (1 - alpha) * alpha / n_test) / std::sqrt(trials);
  const std::vector<ScoreParams> scores = {
      {ScoreKind::lac}, {ScoreKind::aps, true}, {ScoreKind::raps, true, 1, 0.05}};
  for (const auto& score : scores) {
    at::Generator gen = at::detail::createCPUGenerator(42);
    ConformalOptions options;
    options.score = score;
    options.alpha = alpha;
    double sum = 0.0;
    for (int64_t t = 0; t < trials; ++t) {
      const auto cal = draw(n_cal, k, gen);
      const auto test = draw(n_test, k, gen);
      const auto q = calibrate(cal.probs, cal.labels, options, 1000 + t);
      sum += set_coverage(predict_sets(test.probs, q, options, 5000 + t), test.labels);
    }
    const double mean = sum / trials;
    SCOPED_TRACE("score kind " + std::to_string(static_cast<int>(score.kind)));
    EXPECT_GE(mean, 1 - alpha - 3 * sigma);
    EXPECT_LE(mean, 1 - alpha + 1.0 / (n_cal + 1) + 3 * sigma);
  }
}

TEST(ConformalSets, NestedInTheThreshold) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const auto d = draw(200, 6, gen);
  for (auto kind : {ScoreKind::lac, ScoreKind::aps, ScoreKind::raps, ScoreKind::top_k}) {
    ConformalOptions options;
    options.score = {kind, true, 1, 0.1};
    torch::Tensor previous;
    for (double q : {0.05, 0.2, 0.5, 0.8, 1.0, 2.0, 5.0}) {
      const auto sets = predict_sets(d.probs, {q}, options, 9);
      if (previous.defined()) EXPECT_TRUE((previous & ~sets).any().item<bool>() == false);
      previous = sets;
    }
  }
}

// Notes §7.9: alpha1 > alpha2 gives nested sets for the same calibration data and seeds.
TEST(ConformalSets, NestedInAlpha) {
  at::Generator gen = at::detail::createCPUGenerator(6);
  const auto cal = draw(300, 5, gen);
  const auto test = draw(300, 5, gen);
  for (auto kind : {ScoreKind::lac, ScoreKind::aps, ScoreKind::raps}) {
    ConformalOptions options;
    options.score = {kind, true, 1, 0.1};
    torch::Tensor previous;
    for (double alpha : {0.5, 0.3, 0.2, 0.1, 0.05, 0.01, 0.001}) {
      options.alpha = alpha;
      const auto sets = predict_sets(test.probs, calibrate(cal.probs, cal.labels, options, 1), options, 2);
      if (previous.defined()) EXPECT_FALSE((previous & ~sets).any().item<bool>()) << alpha;
      previous = sets;
    }
    EXPECT_EQ(average_set_size(previous), 5.0);  // alpha < 1/(n+1): q = +inf, every label
  }
}

TEST(ConformalSets, MondrianClassWithoutCalibrationItemsIsAlwaysIn) {
  const auto p = torch::tensor({{0.7, 0.2, 0.1}, {0.2, 0.7, 0.1}, {0.6, 0.3, 0.1}}, torch::kFloat64);
  ConformalOptions options;
  options.class_conditional = true;
  options.alpha = 0.5;
  const auto q = calibrate(p, torch::tensor({0, 1, 0}), options, 0);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_NEAR(q[0], 0.4, 1e-15);  // class 0 scores {0.3, 0.4}: k = ceil(3·0.5) = 2
  EXPECT_NEAR(q[1], 0.3, 1e-15);  // one item: k = ceil(2·0.5) = 1
  EXPECT_EQ(q[2], kInf);           // no calibration item
  const auto sets = predict_sets(p, q, options, 0);
  EXPECT_TRUE(sets.select(1, 2).all().item<bool>());
}

TEST(ConformalSets, OracleModelGivesTheSmallestSets) {
  at::Generator gen = at::detail::createCPUGenerator(4);
  const auto cal = draw(2000, 6, gen);
  const auto test = draw(2000, 6, gen);
  // A worse model: the true logits blurred by noise (same labels).
  auto blur = [&](const torch::Tensor& p) {
    return torch::softmax(torch::log(p) + 1.5 * torch::randn(p.sizes(), gen, torch::kFloat64), 1);
  };
  ConformalOptions lac;
  const auto oracle_sets = predict_sets(test.probs, calibrate(cal.probs, cal.labels, lac, 0), lac, 1);
  const auto blurred_test = blur(test.probs);
  const auto worse_sets =
      predict_sets(blurred_test, calibrate(blur(cal.probs), cal.labels, lac, 0), lac, 1);
  EXPECT_LT(average_set_size(oracle_sets) + 0.3, average_set_size(worse_sets));
  ConformalOptions aps;
  aps.score = {ScoreKind::aps, true};
  const auto aps_sets = predict_sets(test.probs, calibrate(cal.probs, cal.labels, aps, 0), aps, 1);
  EXPECT_LT(average_set_size(oracle_sets), average_set_size(aps_sets));  // LAC is smallest (§3)
}

// Notes §7.5: true p, q = 1-α directly: randomised APS covers exactly 1-α in expectation over U.
TEST(ConformalSets, RandomizedApsCoversExactlyInExpectation) {
  const int64_t m = 20000;
  const auto p = torch::tensor({0.5, 0.3, 0.15, 0.05}, torch::kFloat64).unsqueeze(0).expand({m, 4});
  ConformalOptions options;
  options.score = {ScoreKind::aps, true};
  const auto sets = predict_sets(p, {0.9}, options, 123);
  const double covered = (sets.to(torch::kFloat64) * p).sum(1).mean().item<double>();
  EXPECT_NEAR(covered, 0.9, 0.006);
  options.score.randomized = false;  // non-randomised with q = 0.9 keeps only {0, 1}: mass 0.8
  const auto fixed = predict_sets(p, {0.9}, options, 123);
  EXPECT_NEAR((fixed.to(torch::kFloat64) * p).sum(1).mean().item<double>(), 0.8, 1e-12);
}

TEST(ConformalSets, EmptySetPolicy) {
  const auto p = torch::tensor({{0.6, 0.3, 0.1}, {0.2, 0.2, 0.6}}, torch::kFloat64);
  ConformalOptions options;  // LAC at q = 0.1: p_y >= 0.9 -> both sets empty
  const auto empty = predict_sets(p, {0.1}, options, 0);
  EXPECT_EQ(empty_rate(empty), 1.0);
  EXPECT_EQ(set_coverage(empty, torch::tensor({0, 2})), 0.0);
  options.empty_set = EmptySetPolicy::fallback_top1;
  const auto filled = predict_sets(p, {0.1}, options, 0);
  EXPECT_EQ(singleton_rate(filled), 1.0);
  EXPECT_TRUE(filled[0][0].item<bool>());
  EXPECT_TRUE(filled[1][2].item<bool>());
}

// Notes §7.6: the model underrates a 5% minority class; marginal calibration under-covers it,
// Mondrian thresholds restore per-class coverage.
TEST(ConformalSets, ClassConditionalCoversEveryClass) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  auto make = [&](int64_t n) {
    auto logits = torch::randn({n, 3}, gen, torch::kFloat64);
    logits.select(1, 2).sub_(2.0);
    auto truth = torch::softmax(logits, 1);
    auto labels = torch::multinomial(truth, 1, false, gen).squeeze(1);
    auto model = truth * torch::tensor({1.0, 1.0, 0.05}, torch::kFloat64);
    return Draw{model / model.sum(1, true), labels};
  };
  const auto cal = make(6000);
  const auto test = make(6000);
  ConformalOptions options;
  const auto minority = test.labels == 2;
  auto minority_coverage = [&](const torch::Tensor& sets) {
    return set_coverage(sets.index({minority}), test.labels.index({minority}));
  };
  const auto marginal = predict_sets(test.probs, calibrate(cal.probs, cal.labels, options, 0), options, 0);
  EXPECT_LT(minority_coverage(marginal), 0.8);
  options.class_conditional = true;
  const auto q = calibrate(cal.probs, cal.labels, options, 0);
  ASSERT_EQ(q.size(), 3u);
  const auto mondrian = predict_sets(test.probs, q, options, 0);
  for (int64_t c = 0; c < 3; ++c) {
    const auto mine = test.labels == c;
    EXPECT_GE(set_coverage(mondrian.index({mine}), test.labels.index({mine})), 0.9 - 0.04) << c;
  }
}

template <typename F>
void expect_invalid(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no exception, expected one mentioning '" << fragment << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ConformalInput, BadInputThrowsInvalidArgument) {
  const auto p = torch::tensor({{0.7, 0.3}, {0.4, 0.6}}, torch::kFloat64);
  const auto y = torch::tensor({0, 1});
  ConformalOptions o;
  expect_invalid([&] { calibrate(torch::tensor({0.7, 0.3}), y, o, 0); }, "2-D");
  expect_invalid([&] { calibrate(torch::tensor({{0.7, std::nan("")}, {0.4, 0.6}}), y, o, 0); }, "NaN");
  expect_invalid([&] { calibrate(torch::tensor({{0.7, 0.7}, {0.4, 0.6}}), y, o, 0); }, "sum to 1");
  expect_invalid([&] { calibrate(p, torch::tensor({0, 2}), o, 0); }, "[0, 2)");
  expect_invalid([&] { calibrate(p, torch::tensor({0, -1}), o, 0); }, "[0, 2)");
  expect_invalid([&] { calibrate(p, torch::tensor({0}), o, 0); }, "1 labels for 2");
  expect_invalid([&] { calibrate(torch::zeros({0, 2}, torch::kFloat64), torch::zeros({0}, torch::kInt64), o, 0); },
                 "empty calibration set");
  expect_invalid([&] { conformal_quantile({}, 0.1); }, "empty calibration set");
  o.alpha = 1.0;
  expect_invalid([&] { calibrate(p, y, o, 0); }, "alpha");
  o.alpha = 0.1;
  expect_invalid([&] { predict_sets(p, {0.5, 0.5, 0.5}, o, 0); }, "1 or K = 2 thresholds");
  expect_invalid([&] { set_coverage(torch::ones({2, 2}, torch::kBool), torch::tensor({0, 5})); }, "[0, 2)");
}

}  // namespace
}  // namespace attnlab::abstention
