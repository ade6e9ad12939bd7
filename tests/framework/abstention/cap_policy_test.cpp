// Abstention_CP (notes §1.2) and its cost (§1.3) against the notes' §7.19-7.20 properties: hard-mode
// regions ordered in p_max and disjoint, the set action = the LAC set at 1-beta with the top-1
// fallback, stochastic action frequencies matching the action probabilities (chi-square), seeds,
// the cost on a hand-computed pattern (lambda5 term and entropy included), bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "framework/abstention/cap_policy.h"
#include "framework/abstention/conformal.h"
#include "tests/framework/abstention/synthetic_probs.h"

namespace attnlab::abstention {
namespace {

using testing::Data;
using testing::synthetic;

std::vector<double> lac_label_scores(const Data& d) {
  std::vector<double> s;
  for (int64_t i = 0; i < d.probs.size(0); ++i)
    s.push_back(1.0 - d.probs[i][d.labels[i].item<int64_t>()].item<double>());
  return s;
}

TEST(CapCalibrate, QuantilesAreTheNumpyHigherLacQuantiles) {
  const auto cal = synthetic(300, 6, 1.5, 1);
  const auto scores = lac_label_scores(cal);
  const CapThresholds t{0.85, 0.025};
  const auto q = cap_calibrate(cal.probs, cal.labels, t);
  EXPECT_EQ(q.q_predict, conformal_quantile(scores, 0.85, QuantileMode::numpy_higher));
  EXPECT_EQ(q.q_abstain, conformal_quantile(scores, 0.025, QuantileMode::numpy_higher));
  const auto exact = cap_calibrate(cal.probs, cal.labels, t, QuantileMode::exact);
  EXPECT_EQ(exact.q_abstain, conformal_quantile(scores, 0.025, QuantileMode::exact));
  // alpha > beta => q_predict <= q_abstain, over the whole RL box.
  for (double alpha : {0.75, 0.8, 0.85, 0.9})
    for (double beta : {0.01, 0.025, 0.05}) {
      const auto qq = cap_calibrate(cal.probs, cal.labels, {alpha, beta});
      EXPECT_LE(qq.q_predict, qq.q_abstain) << alpha << " " << beta;
    }
}

TEST(CapHardMode, RegionsAreOrderedInPmaxAndDisjoint) {
  const auto cal = synthetic(400, 6, 2.5, 2, /*argmax_labels=*/true);
  const auto test = synthetic(2000, 6, 2.5, 3);
  for (const CapThresholds t : {CapThresholds{0.85, 0.025}, CapThresholds{0.75, 0.05}, CapThresholds{0.9, 0.01}}) {
    const auto r = abstention_cp(cal.probs, cal.labels, test.probs, t);
    ASSERT_LE(r.quantiles.q_predict, r.quantiles.q_abstain);
    const auto p_max = std::get<0>(test.probs.max(1));
    double min_single = 2, max_set = -1, min_set = 2, max_abstain = -1;
    int counts[3] = {0, 0, 0};
    for (int64_t i = 0; i < test.probs.size(0); ++i) {
      const double pm = p_max[i].item<double>();
      switch (r.output.decisions[static_cast<size_t>(i)]) {
        case Decision::single:
          EXPECT_GT(pm, 1 - r.quantiles.q_predict);
          min_single = std::min(min_single, pm);
          ++counts[0];
          break;
        case Decision::set:
          EXPECT_LE(pm, 1 - r.quantiles.q_predict);
          EXPECT_GE(pm, 1 - r.quantiles.q_abstain);
          min_set = std::min(min_set, pm);
          max_set = std::max(max_set, pm);
          ++counts[1];
          break;
        case Decision::abstain:
          EXPECT_LT(pm, 1 - r.quantiles.q_abstain);
          max_abstain = std::max(max_abstain, pm);
          ++counts[2];
          break;
      }
    }
    // All three actions occur on this data, and the regions are ordered: abstain < set < single.
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[1], 0);
    EXPECT_GT(counts[2], 0);
    EXPECT_LT(max_abstain, min_set);
    EXPECT_LT(max_set, min_single);
  }
}

TEST(CapHardMode, OutputsAreArgmaxLacSetAtOneMinusBetaAndEmpty) {
  const auto cal = synthetic(400, 6, 1.5, 4);
  const auto test = synthetic(1500, 6, 1.5, 5);
  for (auto mode : {CapDecisionMode::hard, CapDecisionMode::stochastic}) {
    CapOptions options;
    options.mode = mode;
    options.seed = 9;
    const auto r = abstention_cp(cal.probs, cal.labels, test.probs, {0.85, 0.025}, options);
    ConformalOptions lac;
    lac.empty_set = EmptySetPolicy::fallback_top1;
    const auto lac_sets = predict_sets(test.probs, {r.quantiles.q_abstain}, lac, 0);
    const auto top = test.probs.argmax(1);
    for (int64_t i = 0; i < test.probs.size(0); ++i) {
      const auto row = r.output.sets[i];
      switch (r.output.decisions[static_cast<size_t>(i)]) {
        case Decision::single:
          EXPECT_EQ(row.sum().item<int64_t>(), 1);
          EXPECT_TRUE(row[top[i].item<int64_t>()].item<bool>());
          break;
        case Decision::set:
          EXPECT_TRUE(torch::equal(row, lac_sets[i])) << "item " << i;
          break;
        case Decision::abstain:
          EXPECT_EQ(row.sum().item<int64_t>(), 0);
          break;
      }
    }
  }
}

TEST(CapHardMode, StochasticSetFallsBackToTopOne) {
  // One item whose (1-beta) LAC set is empty: q_abstain = 0.1, p_max = 0.5 < 0.9.
  const auto probs = torch::tensor({{0.5, 0.3, 0.2}}, torch::kFloat64);
  CapOptions options;
  options.mode = CapDecisionMode::stochastic;
  bool seen_set = false;
  for (uint64_t seed = 0; seed < 200 && !seen_set; ++seed) {
    options.seed = seed;
    const auto r = cap_predict(probs, {0.05, 0.1}, options);
    if (r.output.decisions[0] == Decision::set) {
      seen_set = true;
      EXPECT_TRUE(torch::equal(r.output.sets[0], torch::tensor({true, false, false})));
    }
  }
  EXPECT_TRUE(seen_set);
  // Hard mode abstains on it.
  EXPECT_EQ(cap_predict(probs, {0.05, 0.1}).output.decisions[0], Decision::abstain);
}

TEST(CapActionProbabilities, HandValuesClampAndNormalisation) {
  const auto probs = torch::tensor({{0.7, 0.2, 0.1}, {1.0, 0.0, 0.0}}, torch::kFloat64);
  const CapQuantiles q{0.2, 0.8};
  const auto a = cap_action_probabilities(probs, q, 5.0);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{2, 3}));
  const auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  // Item 0: s = 0.3.
  const double ps = sig(-5 * (0.3 - 0.2)), pa = sig(5 * (0.3 - 0.8)), pset = 1 - ps - pa;
  EXPECT_NEAR(a[0][0].item<double>(), ps, 1e-15);
  EXPECT_NEAR(a[0][1].item<double>(), pset, 1e-15);
  EXPECT_NEAR(a[0][2].item<double>(), pa, 1e-15);
  // Item 1: s = 0: p_single = sig(1), p_abstain = sig(-4), p_set = max(0, ...) then renormalised.
  const double s1 = sig(1.0), a1 = sig(-4.0), set1 = std::max(1e-6, 1 - s1 - a1);
  const double sum = s1 + a1 + set1;
  EXPECT_NEAR(a[1][0].item<double>(), s1 / sum, 1e-15);
  EXPECT_NEAR(a[1][1].item<double>(), set1 / sum, 1e-15);
  // A p_set below zero is clamped to 1e-6 before the renormalisation.
  const auto b = cap_action_probabilities(torch::tensor({{1.0, 0.0}}, torch::kFloat64), {0.5, 0.5}, 5.0);
  const double bs = sig(2.5), ba = sig(-2.5);  // sum exactly 1 -> p_set = max(0, ~0) -> 1e-6
  EXPECT_NEAR(b[0][1].item<double>(), 1e-6 / (bs + ba + 1e-6), 1e-12);
  EXPECT_TRUE(torch::allclose(a.sum(1), torch::ones({2}, torch::kFloat64), 0, 1e-15));
}

TEST(CapStochasticMode, FrequenciesMatchTheProbabilitiesChiSquare) {
  const auto cal = synthetic(500, 6, 1.5, 6);
  const auto test = synthetic(20000, 6, 1.5, 7);
  CapOptions options;
  options.mode = CapDecisionMode::stochastic;
  options.seed = 12345;
  const auto r = abstention_cp(cal.probs, cal.labels, test.probs, {0.85, 0.025}, options);
  // Heterogeneous items: E_a = sum_i p_ia; Var(O_a) = sum p(1-p) <= E_a, so Pearson's statistic is
  // conservative; 13.82 is the chi-square(2) 0.999 quantile.
  const auto expected = r.action_probs.sum(0);
  double observed[3] = {0, 0, 0};
  for (auto d : r.output.decisions) observed[static_cast<int>(d)] += 1;
  double chi2 = 0;
  for (int a = 0; a < 3; ++a) {
    const double e = expected[a].item<double>();
    ASSERT_GT(e, 100);
    chi2 += (observed[a] - e) * (observed[a] - e) / e;
  }
  EXPECT_LT(chi2, 13.82) << observed[0] << " " << observed[1] << " " << observed[2];
  // Homogeneous items (one repeated row): an exact multinomial, the textbook test.
  const auto same = torch::tensor({0.55, 0.25, 0.1, 0.05, 0.03, 0.02}, torch::kFloat64).repeat({20000, 1});
  const auto rs = cap_predict(same, {0.3, 0.6}, options);
  double obs[3] = {0, 0, 0};
  for (auto d : rs.output.decisions) obs[static_cast<int>(d)] += 1;
  double chi = 0;
  for (int a = 0; a < 3; ++a) {
    const double e = 20000 * rs.action_probs[0][a].item<double>();
    chi += (obs[a] - e) * (obs[a] - e) / e;
  }
  EXPECT_LT(chi, 13.82);
}

TEST(CapStochasticMode, SameSeedSameActionsOtherSeedOthers) {
  const auto cal = synthetic(300, 6, 1.5, 8);
  const auto test = synthetic(2000, 6, 1.5, 9);
  CapOptions options;
  options.mode = CapDecisionMode::stochastic;
  options.seed = 77;
  const auto a = abstention_cp(cal.probs, cal.labels, test.probs, {0.85, 0.025}, options);
  const auto b = abstention_cp(cal.probs, cal.labels, test.probs, {0.85, 0.025}, options);
  EXPECT_EQ(a.output.decisions, b.output.decisions);
  EXPECT_TRUE(torch::equal(a.output.sets, b.output.sets));
  options.seed = 78;
  const auto c = abstention_cp(cal.probs, cal.labels, test.probs, {0.85, 0.025}, options);
  EXPECT_NE(a.output.decisions, c.output.decisions);
}

// 20 items, K = 4: 17 single (14 correct), 2 sets (sizes 2 and 3, one covers), 1 abstain.
MethodOutput toy_pattern(torch::Tensor& labels) {
  MethodOutput out;
  out.sets = torch::zeros({20, 4}, torch::kBool);
  labels = torch::zeros({20}, torch::kLong);
  for (int i = 0; i < 17; ++i) {
    out.decisions.push_back(Decision::single);
    out.sets[i][i < 14 ? 0 : 1] = true;  // label 0: the first 14 are right
  }
  out.decisions.push_back(Decision::set);  // {0, 2} covers y = 0
  out.sets[17][0] = true;
  out.sets[17][2] = true;
  out.decisions.push_back(Decision::set);  // {1, 2, 3} misses y = 0
  out.sets[18][1] = out.sets[18][2] = out.sets[18][3] = true;
  out.decisions.push_back(Decision::abstain);
  return out;
}

TEST(CapCost, HandComputedToyPatternWithLambda5AndEntropy) {
  torch::Tensor labels;
  const auto out = toy_pattern(labels);
  const auto s = cap_summary(out, labels);
  EXPECT_DOUBLE_EQ(s.accuracy, 15.0 / 19.0);
  EXPECT_DOUBLE_EQ(s.abstention_rate, 0.05);
  EXPECT_DOUBLE_EQ(s.avg_set_size, 2.5);
  EXPECT_DOUBLE_EQ(s.single_fraction, 0.85);
  EXPECT_DOUBLE_EQ(s.set_fraction, 0.1);
  EXPECT_DOUBLE_EQ(s.abstain_fraction, 0.05);
  // (1 - 15/19) + 0.3·2.5 + 0.3·0.05 - 0.4·0.95 - 0.2·H + 0.5·(0.85 - 0.8),
  // H = -Σ π ln(π + 1e-8) = 0.5181861830502144 (computed with Python's math.log).
  const double h = -(0.85 * std::log(0.85 + 1e-8) + 0.1 * std::log(0.1 + 1e-8) + 0.05 * std::log(0.05 + 1e-8));
  EXPECT_NEAR(h, 0.5181861830502144, 1e-15);
  const double expected = (1 - 15.0 / 19) + 0.3 * 2.5 + 0.3 * 0.05 - 0.4 * 0.95 - 0.2 * h + 0.5 * 0.05;
  EXPECT_NEAR(cap_cost(s), expected, 1e-15);
  EXPECT_NEAR(cap_cost(s), 0.5168890791794308, 1e-14);
  EXPECT_EQ(cap_reward(s), -cap_cost(s));
  // The lambda5 term is exactly 0.5·0.05; without eps the entropy is the plain one.
  CapRewardWeights no_cap;
  no_cap.lambda5 = 0;
  EXPECT_NEAR(cap_cost(s) - cap_cost(s, no_cap), 0.025, 1e-15);
  CapRewardWeights plain;
  plain.entropy_eps = 0;
  EXPECT_NEAR(cap_cost(s, plain), expected - 0.2 * (0.5181862130502128 - h), 1e-15);
  // Below the 0.8 single cap the lambda5 term vanishes; an all-abstain run has accuracy 0 (the code).
  CapSummary low{0.9, 0.1, 2.0, 0.5, 0.4, 0.1};
  CapRewardWeights w5;
  w5.lambda5 = 100;
  EXPECT_EQ(cap_cost(low), cap_cost(low, w5));
  MethodOutput all_abstain{"x", torch::zeros({3, 2}, torch::kBool), std::vector<Decision>(3, Decision::abstain)};
  const auto sa = cap_summary(all_abstain, torch::zeros({3}, torch::kLong));
  EXPECT_EQ(sa.accuracy, 0.0);
  EXPECT_EQ(sa.abstention_rate, 1.0);
  EXPECT_EQ(sa.avg_set_size, 0.0);
  EXPECT_NEAR(cap_cost(sa), 1 + 0.3 - 0.2 * -std::log(1 + 1e-8), 1e-15);
}

TEST(CapInput, BadInputThrowsInvalidArgument) {
  const auto cal = synthetic(50, 4, 1.0, 10);
  const auto test = synthetic(20, 4, 1.0, 11);
  const auto throws = [](auto&& f) { EXPECT_THROW(f(), std::invalid_argument); };
  throws([&] { cap_calibrate(torch::empty({0, 4}, torch::kFloat64), torch::empty({0}, torch::kLong), {}); });
  throws([&] { cap_calibrate(cal.probs, cal.labels.slice(0, 0, 10), {}); });
  throws([&] { cap_calibrate(cal.probs[0], cal.labels, {}); });
  throws([&] { cap_calibrate(cal.probs, cal.labels, {1.0, 0.025}); });
  throws([&] { cap_calibrate(cal.probs, cal.labels, {0.85, 0.0}); });
  throws([&] { cap_calibrate(cal.probs, cal.labels, {0.85, -0.1}); });
  throws([&] { cap_calibrate(cal.probs * 2, cal.labels, {}); });
  throws([&] { cap_predict(test.probs.slice(1, 0, 3), {0.2, 0.8}); });  // rows not summing to 1
  throws([&] { cap_predict(test.probs, {std::nan(""), 0.8}); });
  throws([&] { cap_action_probabilities(test.probs, {0.2, 0.8}, 0.0); });
  throws([&] { abstention_cp(cal.probs, cal.labels, synthetic(5, 3, 1.0, 1).probs, {}); });
  const auto out = cap_predict(test.probs, {0.2, 0.8}).output;
  throws([&] { cap_summary(out, test.labels.slice(0, 0, 5)); });
  throws([&] { cap_summary(out, test.labels + 4); });
  MethodOutput short_decisions = out;
  short_decisions.decisions.pop_back();
  throws([&] { cap_summary(short_decisions, test.labels); });
  try {
    cap_calibrate(cal.probs, cal.labels, {0.85, 1.5});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("cap_calibrate"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("beta"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnlab::abstention
