// The counter-based CPU dropout (attention/kernels/dropout.h): its mask against the one-element-
// at-a-time reference, its keep rate and independence, the scaling, the gradient and the seeding.
#include "attention/kernels/dropout.h"

#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"

namespace attnlab::attention::kernels {
namespace {

TEST(CounterDropout, MaskEqualsTheElementwiseReference) {
  // Odd sizes: the last element has no partner in its 64-bit pair; large enough to be split over
  // threads at several places.
  for (const int64_t n : {1, 2, 7, 8193, 100001}) {
    const auto x = torch::randn({n});
    for (const double p : {0.1, 0.5, 0.9}) {
      const auto fast = dropout_keep_mask(x, p, 12345 + n);
      const auto plain = dropout_keep_mask_reference(x, p, 12345 + n);
      EXPECT_TRUE(torch::equal(fast, plain)) << "n=" << n << " p=" << p;
    }
  }
}

TEST(CounterDropout, KeepRateIsOneMinusP) {
  const int64_t n = 1 << 21;
  const auto x = torch::empty({n});
  for (const double p : {0.1, 0.3, 0.5}) {
    const double kept = dropout_keep_mask(x, p, 99).sum().item<double>() / n;
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(kept, 1.0 - p, 5 * sigma) << "p=" << p;
  }
}

TEST(CounterDropout, NeighboursAndPairHalvesAreIndependent) {
  // Elements 2j and 2j+1 share one 64-bit draw; i and i+1 across pairs come from consecutive
  // draws. Both must drop together with probability p^2.
  const int64_t n = 1 << 21;
  const double p = 0.3;
  const auto m = dropout_keep_mask(torch::empty({n}), p, 7).view({n / 2, 2});
  const auto dropped = 1 - m;
  const double within = (dropped.select(1, 0) * dropped.select(1, 1)).mean().item<double>();
  const auto flat = dropped.view({n});
  const double across = (flat.slice(0, 1, n - 1, 2) * flat.slice(0, 2, n, 2)).mean().item<double>();
  const double sigma = std::sqrt(p * p * (1 - p * p) / (n / 2));
  EXPECT_NEAR(within, p * p, 5 * sigma);
  EXPECT_NEAR(across, p * p, 5 * sigma);
}

TEST(CounterDropout, KeptValuesAreScaledAndDroppedAreZero) {
  const auto x = torch::randn({64, 33});
  const double p = 0.25;
  const auto y = dropout_with_seed(x, p, 2024);
  const auto mask = dropout_keep_mask(x, p, 2024);
  EXPECT_TRUE(torch::allclose(y, x * mask / (1 - p), 1e-6, 1e-7));
  EXPECT_EQ(y.sizes(), x.sizes());
}

TEST(CounterDropout, GradientIsTheSameMaskScaled) {
  const double p = 0.4;
  auto x = torch::randn({5, 6}, torch::kDouble).requires_grad_(true);
  const auto weights = torch::randn({5, 6}, torch::kDouble);
  const auto f = [&] { return (dropout_with_seed(x, p, 31) * weights).sum(); };
  const auto check = testing::gradcheck(f, x);
  EXPECT_LT(check.max_abs_error, 1e-8 * std::max(1.0, check.max_abs_grad));

  f().backward();
  const auto expected = weights * dropout_keep_mask(x.detach(), p, 31) / (1 - p);
  EXPECT_TRUE(torch::allclose(x.grad(), expected));
}

TEST(CounterDropout, NonContiguousAndReducedPrecisionInputs) {
  const auto base = torch::randn({40, 30});
  const auto x = base.t();  // non-contiguous
  const auto y = dropout_with_seed(x, 0.5, 5);
  EXPECT_TRUE(torch::allclose(y, x.contiguous() * dropout_keep_mask(x, 0.5, 5) * 2.0));
  const auto xb = x.to(torch::kBFloat16);
  const auto yb = dropout_with_seed(xb, 0.5, 5);
  EXPECT_EQ(yb.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(yb != 0, y != 0));
}

TEST(CounterDropout, IdentityWhenEvaluatingOrPIsZeroAndZeroWhenPIsOne) {
  const auto x = torch::randn({3, 4});
  EXPECT_TRUE(torch::equal(kernels::dropout(x, 0.5, /*training=*/false), x));
  EXPECT_TRUE(torch::equal(kernels::dropout(x, 0.0, /*training=*/true), x));
  EXPECT_TRUE(torch::equal(kernels::dropout(x, 1.0, /*training=*/true), torch::zeros_like(x)));
  EXPECT_THROW(kernels::dropout(x, 1.5, true), c10::Error);
}

TEST(CounterDropout, SeededByTheDefaultGeneratorAndFreshEveryCall) {
  const auto x = torch::ones({4096});
  torch::manual_seed(3);
  const auto a1 = kernels::dropout(x, 0.5, true), a2 = kernels::dropout(x, 0.5, true);
  torch::manual_seed(3);
  const auto b1 = kernels::dropout(x, 0.5, true);
  EXPECT_TRUE(torch::equal(a1, b1));    // reproducible under manual_seed
  EXPECT_FALSE(torch::equal(a1, a2));   // a new mask per call
}

}  // namespace
}  // namespace attnlab::attention::kernels
