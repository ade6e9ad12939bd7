// Averaging attention statistics over forwards: scalar means per site and over sites, vectors per
// site, shapes checked.
#include <gtest/gtest.h>

#include "framework/train/attention_statistics.h"

namespace attnlab::train {
namespace {

TEST(AttentionStatistics, MeansOverForwardsAndSites) {
  AttentionStatistics stats;
  EXPECT_TRUE(stats.empty());
  EXPECT_TRUE(stats.read().scalars.empty());
  for (double shift : {0.0, 0.2}) {  // two forwards
    attention::ForwardContext ctx;
    ctx.report("layer0", "active", torch::tensor(0.5 + shift));
    ctx.report("layer1", "active", torch::tensor(1.0 + shift));
    ctx.report("layer0", "usage", torch::tensor({0.25 + shift, 0.75}));
    stats.add(ctx);
  }
  const auto read = stats.read();
  EXPECT_NEAR(read.scalars.at("layer0/active"), 0.6, 1e-6);
  EXPECT_NEAR(read.scalars.at("layer1/active"), 1.1, 1e-6);
  EXPECT_NEAR(read.scalars.at("active"), 0.85, 1e-6);  // mean over the two sites
  ASSERT_EQ(read.vectors.at("layer0/usage").size(), 2u);
  EXPECT_NEAR(read.vectors.at("layer0/usage")[0], 0.35, 1e-6);
  EXPECT_NEAR(read.vectors.at("layer0/usage")[1], 0.75, 1e-6);
  EXPECT_EQ(read.scalars.count("usage"), 0u);  // vectors are not averaged across sites

  const auto j = read.to_json();
  EXPECT_NEAR(j.at("attention/active").get<double>(), 0.85, 1e-6);
  EXPECT_EQ(j.at("attention/layer0/usage").size(), 2u);

  stats.clear();
  EXPECT_TRUE(stats.empty());
}

TEST(AttentionStatistics, RejectsAStatisticThatChangesShape) {
  AttentionStatistics stats;
  attention::ForwardContext a, b;
  a.report("layer0", "usage", torch::ones({4}));
  b.report("layer0", "usage", torch::ones({3}));
  stats.add(a);
  EXPECT_THROW(stats.add(b), c10::Error);
}

TEST(ForwardContext, ReportRejectsMatrices) {
  attention::ForwardContext ctx;
  EXPECT_THROW(ctx.report("layer0", "x", torch::ones({2, 2})), c10::Error);
}

}  // namespace
}  // namespace attnlab::train
