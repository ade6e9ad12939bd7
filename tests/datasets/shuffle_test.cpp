// Deterministic permutations must be the same on every platform: the expected values below were
// computed once and cross-checked against an independent Python implementation of MT19937-64
// (Matsumoto & Nishimura's reference algorithm) with the same rejection draw and Fisher-Yates.
#include "datasets/shuffle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace attnlab::datasets {
namespace {

bool is_permutation_of_range(std::vector<int64_t> p) {
  std::sort(p.begin(), p.end());
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

TEST(DeterministicPermutation, PinnedOrderForSeedZero) {
  EXPECT_EQ(deterministic_permutation(10, 0), (std::vector<int64_t>{7, 2, 0, 8, 3, 9, 6, 1, 5, 4}));
  EXPECT_EQ(deterministic_permutation(10, 1), (std::vector<int64_t>{1, 7, 3, 9, 4, 0, 5, 2, 6, 8}));
}

TEST(DeterministicPermutation, EngineIsTheStandardOne) {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64.
  std::mt19937_64 standard;
  standard.discard(9999);
  EXPECT_EQ(standard(), 9981545732273789042ull);
  std::mt19937_64 seeded(0);
  EXPECT_EQ(seeded(), 2947667278772165694ull);
}

TEST(DeterministicPermutation, SameSeedSameOrderAndAlwaysAPermutation) {
  for (int64_t n : {0, 1, 2, 7, 100, 1000}) {
    for (uint64_t seed : {0ull, 1ull, 12345ull, ~0ull}) {
      const auto p = deterministic_permutation(n, seed);
      ASSERT_EQ(static_cast<int64_t>(p.size()), n);
      EXPECT_TRUE(is_permutation_of_range(p)) << "n " << n << " seed " << seed;
      EXPECT_EQ(p, deterministic_permutation(n, seed));
    }
  }
  EXPECT_NE(deterministic_permutation(100, 0), deterministic_permutation(100, 1));
  EXPECT_THROW(deterministic_permutation(-1, 0), std::invalid_argument);
}

TEST(DeterministicPermutation, EveryPositionIsReachedUniformly) {
  // Where element 0 lands over many seeds: each of the 5 positions about 1/5 of the time.
  std::vector<int> landed(5, 0);
  const int trials = 5000;
  for (int seed = 0; seed < trials; ++seed) {
    const auto p = deterministic_permutation(5, seed);
    landed[std::find(p.begin(), p.end(), 0) - p.begin()]++;
  }
  for (int count : landed) EXPECT_NEAR(count, trials / 5, 120);  // ~4 standard deviations
}

TEST(UniformBelow, StaysInRangeAndRejectsZero) {
  std::mt19937_64 rng(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = uniform_below(rng, 6);
    ASSERT_LT(v, 6u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(uniform_below(rng, 1), 0u);
  EXPECT_THROW(uniform_below(rng, 0), std::invalid_argument);
}

TEST(DeriveSeed, StreamsDiffer) {
  EXPECT_NE(derive_seed(0, 0), derive_seed(0, 1));
  EXPECT_NE(derive_seed(0, 0), derive_seed(1, 0));
  EXPECT_EQ(derive_seed(7, 3), derive_seed(7, 3));
}

}  // namespace
}  // namespace attnlab::datasets
