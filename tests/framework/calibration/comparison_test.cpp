// The methods compared side by side on synthetic exchangeable data: the conformal sets reach their
// coverage, every method reports the same metrics, rl_paper is flagged as tuned on the test split,
// and no method except rl_paper reads the test labels: permuting them leaves every other method's
// fitted thresholds unchanged (the test for the sound RL variant).
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "framework/calibration/comparison.h"
#include "framework/calibration/stage.h"
#include "tests/support/user_error.h"

namespace attnlab::calibration {
namespace {

Scored draw(int64_t n, int64_t k, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto probs = torch::softmax(torch::randn({n, k}, gen, torch::kFloat64) * 2.5, 1);
  return {probs, torch::multinomial(probs, 1, false, gen).squeeze(1)};
}

AbstentionSettings quick_settings() {
  AbstentionSettings s;
  s.rl_epochs = 25;
  return s;
}

TEST(AbstentionComparison, EveryMethodIsScoredAndConformalSetsReachTheirCoverage) {
  const Scored cal = draw(1000, 6, 1), test = draw(2000, 6, 2);
  const AbstentionSettings s = quick_settings();
  const Comparison c = compare(fit_methods(cal, test, s), test, s);
  ASSERT_EQ(c.methods.size(), s.methods.size());
  for (const auto& r : c.methods) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(r.tuned_on_test, r.name == "rl_paper");
    EXPECT_NEAR(r.metrics.answer_rate + r.metrics.abstention_rate, 1.0, 1e-12);
    if (r.name == "lac" || r.name == "aps" || r.name == "raps" || r.name == "top_k") {
      EXPECT_EQ(r.metrics.abstention_rate, 0.0);
      EXPECT_NEAR(r.metrics.coverage, 0.9, 0.035);  // Beta(k, n+1-k) sd 0.0095 plus test noise
    }
  }
  const auto j = c.to_json();
  EXPECT_EQ(j["methods"].size(), s.methods.size());
  EXPECT_TRUE(j["methods"][4].contains("diagnostics"));  // dual_threshold's detection AUROC
  EXPECT_EQ(j["model"]["reliability"].size(), 15u);
  const std::string table = comparison_table(c, s.alpha);
  EXPECT_NE(table.find("rl_paper*"), std::string::npos);
  EXPECT_NE(table.find("chosen on the test split"), std::string::npos);
}

TEST(AbstentionComparison, OnlyRlPaperReadsTheTestLabels) {
  const Scored cal = draw(600, 5, 3), test = draw(600, 5, 4);
  const Scored permuted{test.probs, test.labels.index_select(0, torch::randperm(600, torch::kLong))};
  ASSERT_FALSE(permuted.labels.equal(test.labels));
  const AbstentionSettings s = quick_settings();
  const FittedMethods a = fit_methods(cal, test, s), b = fit_methods(cal, permuted, s);
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i]->name());
    if (a[i]->name() == "rl_paper") {
      EXPECT_NE(a[i]->parameters().dump(), b[i]->parameters().dump());  // its reward reads them
    } else {
      EXPECT_EQ(a[i]->parameters().dump(), b[i]->parameters().dump());
      // The decisions too: they read test probabilities only.
      EXPECT_TRUE(a[i]->apply(test, 0).sets.equal(b[i]->apply(permuted, 0).sets));
    }
  }
  // ...while the scores on the permuted labels do change.
  const auto ca = compare(a, test, s), cb = compare(b, permuted, s);
  EXPECT_NE(ca.methods[0].metrics.coverage, cb.methods[0].metrics.coverage);
}

TEST(AbstentionComparison, PaperCompatAddsThePapersDefinitions) {
  const Scored cal = draw(500, 6, 5), test = draw(500, 6, 6);
  AbstentionSettings s = quick_settings();
  s.metrics_mode = "paper_compat";
  s.methods = {"lac", "rl_sound"};
  const Comparison c = compare(fit_methods(cal, test, s), test, s);
  EXPECT_EQ(c.methods[0].paper_metrics["flavor"], "baseline");
  EXPECT_EQ(c.methods[1].paper_metrics["flavor"], "ours");
  EXPECT_NE(comparison_table(c, s.alpha).find("paper_compat"), std::string::npos);
}

TEST(AbstentionComparison, SettingsComeFromTheSectionWithOverridesAndBadValuesAreNamed) {
  const auto s = settings_with_overrides(nullptr, {"alpha=0.05", "methods=[lac, dual_threshold]"});
  EXPECT_DOUBLE_EQ(s.alpha, 0.05);
  EXPECT_EQ(s.methods, (std::vector<std::string>{"lac", "dual_threshold"}));
  EXPECT_EQ(s.threshold_rule, "youden");
  EXPECT_NE(testing::user_error_of([] { settings_with_overrides(nullptr, {"methods=[lac, magic]"}); }).find("abstention.methods"),
            std::string::npos);
  EXPECT_NE(testing::user_error_of([] { settings_with_overrides(nullptr, {"alpah=0.1"}); }).find("alpha"),
            std::string::npos);
  EXPECT_NE(testing::user_error_of([] { settings_with_overrides(nullptr, {"severities=[0, 3]"}); }).find("not in 1..5"),
            std::string::npos);
}

TEST(AbstentionComparison, EmptyCalibrationDataIsRefused) {
  const Scored test = draw(50, 3, 7);
  const Scored empty{torch::empty({0, 3}, torch::kFloat64), torch::empty({0}, torch::kLong)};
  EXPECT_NE(testing::user_error_of([&] { fit_methods(empty, test, quick_settings()); }).find("calibration split is empty"),
            std::string::npos);
}

}  // namespace
}  // namespace attnlab::calibration
