// The resumable epoch sampler: every epoch is a permutation, epochs differ, drop_last, and a
// sampler restored from a saved state continues with exactly the same batches.
#include <gtest/gtest.h>

#include <set>

#include "framework/errors.h"
#include "framework/train/sampler.h"

namespace attnlab::train {
namespace {

TEST(EpochSampler, EachEpochVisitsEveryExampleOnce) {
  EpochSampler s(10, 3, /*shuffle=*/true, /*drop_last=*/false, 7);
  EXPECT_EQ(s.batches_per_epoch(), 4);
  std::multiset<int64_t> seen;
  for (int b = 0; b < 4; ++b)
    for (auto i : s.next()) seen.insert(i);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 10u);
  EXPECT_EQ(s.epoch(), 0);
  s.next();
  EXPECT_EQ(s.epoch(), 1);
}

TEST(EpochSampler, DropLastSkipsTheTailAndEpochsDiffer) {
  EpochSampler s(10, 4, true, /*drop_last=*/true, 1);
  EXPECT_EQ(s.batches_per_epoch(), 2);
  auto a = s.next(), b = s.next();
  auto c = s.next();  // epoch 1 starts: the 2 leftover examples were dropped
  EXPECT_EQ(s.epoch(), 1);
  EXPECT_EQ(c.size(), 4u);
  std::vector<int64_t> e0 = a, e1 = c;
  e0.insert(e0.end(), b.begin(), b.end());
  const auto d = s.next();
  e1.insert(e1.end(), d.begin(), d.end());
  EXPECT_NE(e0, e1);
}

TEST(EpochSampler, WithoutShuffleIsInOrder) {
  EpochSampler s(5, 2, false, false, 0);
  EXPECT_EQ(s.next(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(s.next(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(s.next(), (std::vector<int64_t>{4}));
  EXPECT_EQ(s.next(), (std::vector<int64_t>{0, 1}));
}

TEST(EpochSampler, RestoredStateContinuesIdentically) {
  EpochSampler a(37, 5, true, true, 3);
  for (int i = 0; i < 11; ++i) a.next();  // into the second epoch, mid-way
  const auto saved = nlohmann::json::parse(a.state().dump());
  EpochSampler b(37, 5, true, true, 3);
  b.load_state(saved);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(a.next(), b.next()) << i;
}

TEST(EpochSampler, SameSeedSameOrderOtherSeedOtherOrder) {
  EpochSampler a(50, 50, true, true, 1), b(50, 50, true, true, 1), c(50, 50, true, true, 2);
  const auto x = a.next();
  EXPECT_EQ(x, b.next());
  EXPECT_NE(x, c.next());
}

TEST(EpochSampler, RejectsImpossibleConfigurations) {
  EXPECT_THROW(EpochSampler(3, 4, true, true, 0), UserError);
  EXPECT_THROW(EpochSampler(0, 4, true, false, 0), UserError);
  EpochSampler s(10, 2, true, true, 0);
  EpochSampler other(12, 2, true, true, 0);
  EXPECT_THROW(s.load_state(other.state()), UserError);
}

}  // namespace
}  // namespace attnlab::train
