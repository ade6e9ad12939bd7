// Best-value tracking: modes, min_delta, non-finite values, state round trip.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/registry/components.h"
#include "framework/run/recipe.h"
#include "framework/train/monitor.h"

namespace attnlab::train {
namespace {

TEST(MetricMonitor, MaxModeWithMinDelta) {
  MetricMonitor m("val/accuracy", "max", 0.01);
  EXPECT_TRUE(m.observe(0.5, 10));
  EXPECT_FALSE(m.observe(0.505, 20));  // within min_delta
  EXPECT_EQ(m.evals_without_improvement(), 1);
  EXPECT_TRUE(m.observe(0.6, 30));
  EXPECT_EQ(m.best_step(), 30);
  EXPECT_EQ(m.evals_without_improvement(), 0);
}

TEST(MetricMonitor, MinModeAndNonFinite) {
  MetricMonitor m("val/loss", "min");
  EXPECT_FALSE(m.observe(NAN, 1));
  EXPECT_FALSE(m.has_best());
  EXPECT_TRUE(m.observe(2.0, 2));
  EXPECT_FALSE(m.observe(3.0, 3));
  EXPECT_TRUE(m.observe(1.0, 4));
  EXPECT_DOUBLE_EQ(m.best(), 1.0);
}

TEST(MetricMonitor, StateRoundTrip) {
  MetricMonitor a("val/accuracy", "max");
  a.observe(0.7, 5);
  a.observe(0.6, 6);
  MetricMonitor b("val/accuracy", "max");
  b.load_state(a.state());
  EXPECT_EQ(b.best_step(), 5);
  EXPECT_EQ(b.evals_without_improvement(), 1);
  EXPECT_FALSE(b.observe(0.65, 7));
}

TEST(ResolveMode, LossesAreMinimised) {
  EXPECT_EQ(run::resolve_mode("val/loss", "auto"), "min");
  EXPECT_EQ(run::resolve_mode("val/accuracy", "auto"), "max");
  EXPECT_EQ(run::resolve_mode("val/accuracy", "min"), "min");
}

TEST(ResolveMode, RegisteredMetricsKnowTheirDirection) {
  registry::register_framework_components();
  EXPECT_EQ(run::resolve_mode("val/perplexity", "auto"), "min");
  EXPECT_EQ(run::resolve_mode("val/bits_per_byte", "auto"), "min");
  EXPECT_EQ(run::resolve_mode("val/token_accuracy", "auto"), "max");
  EXPECT_EQ(run::resolve_mode("val/macro_f1", "auto"), "max");
}

}  // namespace
}  // namespace attnlab::train
