// MIL bags (notes attention_regularizers.md §6 property 29 and §3.5): the bag label is
// any(instance == target) and the instance labels mark the targets; the balanced loader gives
// exactly 50% positives, alternating; lengths are >= 1 and distributed as int(N(mean, std)) with
// std a standard deviation; multi-witness positives hold >= k targets (or exactly the fraction);
// digits_mil draws its splits from disjoint image pools and collates padded batches.
#include "datasets/mil_bags.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "datasets/digits.h"

namespace attnlab::datasets {
namespace {

std::vector<int64_t> pool_of(int64_t n) {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(i % 10);
  return labels;
}

int64_t witnesses(const MilBag& bag) {
  return std::count(bag.instance_labels.begin(), bag.instance_labels.end(), 1);
}

void expect_labels_follow_content(const std::vector<MilBag>& bags, const std::vector<int64_t>& pool, int64_t target) {
  for (const auto& bag : bags) {
    ASSERT_GE(bag.rows.size(), 1u);
    ASSERT_EQ(bag.instance_labels.size(), bag.rows.size());
    bool any = false;
    for (size_t j = 0; j < bag.rows.size(); ++j) {
      const bool is_target = pool[bag.rows[j]] == target;
      EXPECT_EQ(bag.instance_labels[j], is_target ? 1 : 0);
      any = any || is_target;
    }
    EXPECT_EQ(bag.label, any ? 1 : 0);
  }
}

TEST(MilBags, BalancedBagsAlternateAndLabelsAreAnyTarget) {
  const auto pool = pool_of(500);
  for (const int64_t target : {9, 3}) {
    MilBagOptions o;
    o.target = target;
    const auto bags = draw_mil_bags(pool, o, 501, 7);
    ASSERT_EQ(bags.size(), 501u);
    expect_labels_follow_content(bags, pool, target);
    int64_t positives = 0;
    for (size_t i = 0; i < bags.size(); ++i) {
      EXPECT_EQ(bags[i].label, i % 2 == 0 ? 1 : 0) << "bag " << i;
      positives += bags[i].label;
    }
    EXPECT_EQ(positives, 251);  // exactly half, rounded up (the first bag is positive)
  }
}

TEST(MilBags, LengthsAreTruncatedNormalFlooredAtOne) {
  const auto pool = pool_of(500);
  MilBagOptions o;  // mean 10, std 2
  const auto bags = draw_mil_bags(pool, o, 4000, 1);
  // Negative bags keep their first drawn length (positives are redrawn, which favours long bags).
  double sum = 0, sq = 0, n = 0;
  for (size_t i = 1; i < bags.size(); i += 2) {
    const double len = static_cast<double>(bags[i].rows.size());
    sum += len;
    sq += len * len;
    n += 1;
  }
  const double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  // int() truncates: E[int(X)] = 10 - 0.5 for X ~ N(10, 2) (to within 1e-3), sd sqrt(4 + 1/12).
  EXPECT_NEAR(mean, 9.5, 0.15);
  EXPECT_NEAR(sd, 2.02, 0.15);  // a variance of 2 (the P16 misreading) would give 1.44
  // Mean 1, std 2: P(int(X) <= 1) = P(X < 2) = 0.69, those floored at 1 (negative bags again).
  o.mean_bag_size = 1.0;
  const auto short_bags = draw_mil_bags(pool, o, 1000, 2);
  int64_t ones = 0;
  for (size_t i = 0; i < short_bags.size(); ++i) {
    ASSERT_GE(short_bags[i].rows.size(), 1u);
    if (i % 2 == 1) ones += short_bags[i].rows.size() == 1;
  }
  EXPECT_NEAR(ones / 500.0, 0.69, 0.07);
}

TEST(MilBags, MultiWitnessPositivesHoldAtLeastKTargets) {
  const auto pool = pool_of(500);
  MilBagOptions o;
  o.mean_bag_size = 50;
  o.std_bag_size = 10;
  o.min_witnesses = 3;
  auto bags = draw_mil_bags(pool, o, 300, 3);
  expect_labels_follow_content(bags, pool, 9);
  for (size_t i = 0; i < bags.size(); i += 2) EXPECT_GE(witnesses(bags[i]), 3);
  for (size_t i = 1; i < bags.size(); i += 2) EXPECT_EQ(witnesses(bags[i]), 0);
  o.min_witnesses = 2;
  o.witness_fraction = 0.1;
  bags = draw_mil_bags(pool, o, 300, 4);
  expect_labels_follow_content(bags, pool, 9);
  for (size_t i = 0; i < bags.size(); i += 2) {
    const auto n = static_cast<int64_t>(bags[i].rows.size());
    EXPECT_EQ(witnesses(bags[i]), std::max<int64_t>(2, std::llround(0.1 * n)));
  }
}

TEST(MilBags, NaiveBagsAreLabelledByContentAndDeterministic) {
  const auto pool = pool_of(500);
  MilBagOptions o;
  o.balanced = false;
  const auto bags = draw_mil_bags(pool, o, 2000, 5);
  expect_labels_follow_content(bags, pool, 9);
  double positives = 0;
  for (const auto& bag : bags) positives += bag.label;
  EXPECT_NEAR(positives / 2000, 0.62, 0.05);  // 1 - 0.9^n averaged over n = int(N(10, 2))
  const auto again = draw_mil_bags(pool, o, 2000, 5);
  for (size_t i = 0; i < bags.size(); ++i) EXPECT_EQ(bags[i].rows, again[i].rows);
}

TEST(MilBags, ImpossibleOptionsAreDataErrors) {
  MilBagOptions o;
  EXPECT_THROW(draw_mil_bags(std::vector<int64_t>(20, 1), o, 4, 0), DataError);  // no target
  o.mean_bag_size = 3;
  o.std_bag_size = 0;
  o.min_witnesses = 5;
  o.max_attempts = 100;
  try {
    draw_mil_bags(pool_of(100), o, 2, 0);
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no positive bag with >= 5 targets"), std::string::npos) << e.what();
  }
}

TEST(DigitsMil, SplitsUseDisjointImagePoolsAndBatchesArePadded) {
  std::string path;
  try {
    path = find_digits_file();
  } catch (const DataError&) {
    GTEST_SKIP() << "python3-sklearn's digits are not installed";
  }
  DigitsMilOptions o;
  o.train_bags = 40;
  o.val_bags = 20;
  o.test_bags = 20;
  const DigitsMilDataset data(o);
  std::set<int64_t> seen;
  size_t total = 0;
  for (const std::string name : {"train", "val", "test"}) {
    const auto& pool = data.pool_images(name);
    total += pool.size();
    seen.insert(pool.begin(), pool.end());
  }
  EXPECT_EQ(total, seen.size()) << "an image is in two pools";
  EXPECT_EQ(total, 1797u);
  EXPECT_EQ(data.spec().num_classes, 2);
  EXPECT_EQ(data.spec().feature_dim, 64);
  const auto digits = read_digits_csv(path);
  const auto split = data.mil_split("val");
  const auto& pool = data.pool_images("val");
  std::vector<int64_t> all(split->size());
  for (int64_t i = 0; i < split->size(); ++i) all[i] = i;
  const Batch b = split->batch(all);
  const int64_t n = b.inputs.size(1);
  EXPECT_EQ(n, split->max_bag_size());
  ASSERT_TRUE(b.padding_mask.defined());
  ASSERT_TRUE(b.rationale.defined());
  for (int64_t k = 0; k < split->size(); ++k) {
    const auto& bag = split->bags()[k];
    EXPECT_EQ(b.labels[k].item<int64_t>(), bag.label);
    for (int64_t j = 0; j < n; ++j) {
      const bool real = j < static_cast<int64_t>(bag.rows.size());
      EXPECT_EQ(b.padding_mask[k][j].item<bool>(), !real);
      if (!real) {
        EXPECT_EQ(b.rationale[k][j].item<int64_t>(), 0);
        EXPECT_EQ(b.inputs[k][j].abs().sum().item<float>(), 0.0f);
        continue;
      }
      const int64_t image = pool[bag.rows[j]];
      EXPECT_EQ(b.rationale[k][j].item<int64_t>(), digits.labels[image].item<int64_t>() == 9 ? 1 : 0);
      EXPECT_TRUE(torch::equal(b.inputs[k][j], digits.images[image].reshape({64}) / 16.0));
    }
  }
  o.features = "random_projection";
  o.projection_dim = 32;
  const DigitsMilDataset projected(o);
  EXPECT_EQ(projected.spec().feature_dim, 32);
  EXPECT_GE(projected.mil_split("train")->instances().min().item<float>(), 0.0f);
}

}  // namespace
}  // namespace attnlab::datasets
