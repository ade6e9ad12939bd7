// Stratified splits: a partition of all indices, in the requested proportions per class,
// reproducible from the seed.
#include "datasets/splits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::datasets {
namespace {

// 3 classes of 100, 40 and 7 examples, interleaved.
std::vector<int64_t> make_labels() {
  std::vector<int64_t> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(0);
  for (int i = 0; i < 40; ++i) labels.push_back(2);
  for (int i = 0; i < 7; ++i) labels.push_back(5);
  std::vector<int64_t> mixed(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) mixed[(i * 31) % labels.size()] = labels[i];
  return mixed;
}

std::map<int64_t, int64_t> class_counts(const std::vector<int64_t>& indices,
                                        const std::vector<int64_t>& labels) {
  std::map<int64_t, int64_t> counts;
  for (int64_t i : indices) counts[labels[i]]++;
  return counts;
}

TEST(StratifiedSplit, IsASortedPartition) {
  const auto labels = make_labels();
  const auto s = stratified_split(labels, 0.2, 0.1, 0);
  std::vector<int64_t> all;
  for (const auto* part : {&s.train, &s.val, &s.test}) {
    EXPECT_TRUE(std::is_sorted(part->begin(), part->end()));
    all.insert(all.end(), part->begin(), part->end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), labels.size());  // disjoint and covering: each index exactly once
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i));
}

TEST(StratifiedSplit, KeepsPerClassProportions) {
  const auto labels = make_labels();
  const auto s = stratified_split(labels, 0.2, 0.1, 0);
  // round(n_c * fraction) per class: 100 -> 20 val, 10 test; 40 -> 8, 4; 7 -> round(1.4) = 1,
  // round(0.7) = 1.
  EXPECT_EQ(class_counts(s.val, labels), (std::map<int64_t, int64_t>{{0, 20}, {2, 8}, {5, 1}}));
  EXPECT_EQ(class_counts(s.test, labels), (std::map<int64_t, int64_t>{{0, 10}, {2, 4}, {5, 1}}));
  EXPECT_EQ(class_counts(s.train, labels), (std::map<int64_t, int64_t>{{0, 70}, {2, 28}, {5, 5}}));
}

TEST(StratifiedSplit, DeterministicAndSeedDependent) {
  const auto labels = make_labels();
  const auto a = stratified_split(labels, 0.2, 0.1, 3);
  const auto b = stratified_split(labels, 0.2, 0.1, 3);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
  const auto c = stratified_split(labels, 0.2, 0.1, 4);
  EXPECT_NE(a.val, c.val);
  EXPECT_NE(a.test, c.test);
  EXPECT_EQ(c.val.size(), a.val.size());
}

TEST(StratifiedSplit, EdgeCases) {
  const auto none = stratified_split({}, 0.1, 0.1, 0);
  EXPECT_TRUE(none.train.empty() && none.val.empty() && none.test.empty());
  // A single example per class rounds to test first, and the class never over-commits.
  const auto tiny = stratified_split({0, 1}, 0.45, 0.5, 0);
  EXPECT_EQ(tiny.test, (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(tiny.val.empty() && tiny.train.empty());
  const auto only_train = stratified_split({0, 0, 1}, 0.0, 0.0, 0);
  EXPECT_EQ(only_train.train, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_THROW(stratified_split({0}, 0.6, 0.4, 0), DataError);
  EXPECT_THROW(stratified_split({0}, -0.1, 0.1, 0), DataError);
}

}  // namespace
}  // namespace attnlab::datasets
