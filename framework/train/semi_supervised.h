// The data side of semi-supervised training (recipe section semi_supervised): which training
// examples keep their labels, and a split restricted to them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::train {

// Exactly `n` positions of `labels` (N) int64, stratified: each class gets n * (its count) / N
// examples rounded down, the remainder going to the classes with the largest fractional parts
// (ties to the smaller class id); within a class the examples are the first of a permutation drawn
// from `seed`. Sorted ascending. Requires 0 < n <= N.
std::vector<int64_t> labelled_subset(const torch::Tensor& labels, int64_t n, uint64_t seed);

// The examples of `base` at `positions`, renumbered 0..size-1.
class SubsetSplit : public datasets::Split {
 public:
  SubsetSplit(std::shared_ptr<const datasets::Split> base, std::vector<int64_t> positions);
  int64_t size() const override { return static_cast<int64_t>(positions_.size()); }
  datasets::Batch batch(const std::vector<int64_t>& indices) const override;

 private:
  std::shared_ptr<const datasets::Split> base_;
  std::vector<int64_t> positions_;
};

}  // namespace attnlab::train
