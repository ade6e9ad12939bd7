// InMemorySplit gathers the requested rows of inputs, labels and mask.
#include "datasets/in_memory_split.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace attnlab::datasets {
namespace {

TEST(InMemorySplit, BatchGathersRowsInOrder) {
  const auto inputs = torch::arange(5 * 3 * 2, torch::kFloat).view({5, 3, 2});
  const auto labels = torch::tensor({10, 11, 12, 13, 14}, torch::kLong);
  auto mask = torch::zeros({5, 3}, torch::kBool);
  mask[4][2] = true;
  InMemorySplit split(inputs, labels, mask);
  EXPECT_EQ(split.size(), 5);
  const auto b = split.batch({4, 0, 4});
  EXPECT_EQ(b.size(), 3);
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({14, 10, 14}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.inputs[1], inputs[0]));
  EXPECT_TRUE(torch::equal(b.inputs[2], inputs[4]));
  EXPECT_TRUE(b.padding_mask[0][2].item<bool>());
  EXPECT_FALSE(b.padding_mask[1].any().item<bool>());
  EXPECT_THROW(split.batch({5}), std::out_of_range);
  EXPECT_THROW(split.batch({-1}), std::out_of_range);
}

TEST(InMemorySplit, TokensWithoutMaskAndSelect) {
  const auto tokens = torch::arange(12, torch::kLong).view({4, 3});
  const auto labels = torch::tensor({0, 1, 0, 1}, torch::kLong);
  const auto part = InMemorySplit::select(tokens, labels, {}, {1, 3});
  EXPECT_EQ(part->size(), 2);
  const auto b = part->batch({1});
  EXPECT_FALSE(b.padding_mask.defined());
  EXPECT_TRUE(torch::equal(b.inputs, tokens[3].unsqueeze(0)));
  EXPECT_THROW(InMemorySplit(tokens, labels.narrow(0, 0, 3)), c10::Error);
}

}  // namespace
}  // namespace attnlab::datasets
