// Image corruptions for the robustness sweep: each grows with severity, is reproducible from its
// seed, keeps values in [0, 1]; the digits dataset hands out corrupted copies of a split with the
// same labels.
#include <gtest/gtest.h>

#include "datasets/digits.h"
#include "datasets/image_corruption.h"
#include "datasets/in_memory_split.h"

namespace attnlab::datasets {
namespace {

torch::Tensor images() {  // 32 random 8x8 "digits": strokes of 1 on a 0 background
  torch::manual_seed(0);
  return (torch::rand({32, 8, 8}) > 0.6).to(torch::kFloat);
}

double change(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().mean().item<double>(); }

TEST(ImageCorruption, EveryCorruptionGrowsWithSeverityAndStaysInRange) {
  const auto clean = images();
  for (auto c : {Corruption::gaussian_noise, Corruption::blur, Corruption::occlusion}) {
    SCOPED_TRACE(corruption_name(c));
    double previous = 0.0;
    for (int64_t s = 1; s <= 5; ++s) {
      const auto out = corrupt_images(clean, c, s, 7);
      EXPECT_EQ(out.sizes(), clean.sizes());
      EXPECT_GE(out.min().item<double>(), 0.0);
      EXPECT_LE(out.max().item<double>(), 1.0 + 1e-6);
      const double d = change(out, clean);
      EXPECT_GT(d, previous) << "severity " << s;
      previous = d;
    }
  }
}

TEST(ImageCorruption, ReproducibleFromTheSeed) {
  const auto clean = images();
  EXPECT_TRUE(corrupt_images(clean, Corruption::gaussian_noise, 3, 1).equal(corrupt_images(clean, Corruption::gaussian_noise, 3, 1)));
  EXPECT_FALSE(corrupt_images(clean, Corruption::gaussian_noise, 3, 1).equal(corrupt_images(clean, Corruption::gaussian_noise, 3, 2)));
  EXPECT_TRUE(corrupt_images(clean, Corruption::blur, 2, 1).equal(corrupt_images(clean, Corruption::blur, 2, 9)));  // no randomness
}

TEST(ImageCorruption, BlurKeepsMassAwayFromTheBorderAndOcclusionBlanksASquare) {
  auto dot = torch::zeros({1, 8, 8});
  dot[0][4][4] = 1.0;
  const auto blurred = corrupt_images(dot, Corruption::blur, 1, 0);
  EXPECT_NEAR(blurred.sum().item<double>(), 1.0, 1e-5);  // a normalised kernel, far from the edge
  EXPECT_LT(blurred[0][4][4].item<double>(), 1.0);
  const auto ones = torch::ones({4, 8, 8});
  for (int64_t s = 1; s <= 5; ++s) {
    const auto occluded = corrupt_images(ones, Corruption::occlusion, s, 3);
    const int64_t side = s + 1;
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(occluded[i].eq(0).sum().item<int64_t>(), side * side);
  }
}

TEST(ImageCorruption, BadNamesAndSeveritiesAreRefused) {
  EXPECT_THROW(corruption_from_name("fog"), std::invalid_argument);
  EXPECT_THROW(corrupt_images(images(), Corruption::blur, 0, 0), std::invalid_argument);
  EXPECT_THROW(corrupt_images(images(), Corruption::blur, 6, 0), std::invalid_argument);
}

TEST(ImageCorruption, DigitsGiveCorruptedCopiesOfASplit) {
  DigitsOptions options;
  options.patch_size = 4;
  const DigitsDataset digits(options);
  const auto clean = std::static_pointer_cast<const InMemorySplit>(digits.split("test"));
  const auto noisy = std::static_pointer_cast<const InMemorySplit>(
      digits.corrupted_split("test", Corruption::gaussian_noise, 5, 0));
  EXPECT_EQ(noisy->inputs().sizes(), clean->inputs().sizes());
  EXPECT_TRUE(noisy->labels().equal(clean->labels()));
  EXPECT_GT(change(noisy->inputs(), clean->inputs()), 0.1);
  const auto* corruptible = dynamic_cast<const CorruptibleImages*>(static_cast<const Dataset*>(&digits));
  EXPECT_NE(corruptible, nullptr);
}

}  // namespace
}  // namespace attnlab::datasets
