// A split of multiple-instance-learning bags: every bag is a list of rows of one instance feature
// table, with a bag label and, when known, a 0/1 label per instance (the witnesses). batch() pads
// to the longest bag of the batch:
//   inputs (B, N, F) float32, zeros at padding; padding_mask (B, N) bool, true = padding, undefined
//   when the batch's bags all have the same length; labels (B) int64; rationale (B, N) int64,
//   1 = witness instance, 0 = not or padding (undefined when instance labels are unknown).
// Bags share the instance table, so a pool image drawn into many bags is stored once.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::datasets {

struct MilBag {
  std::vector<int64_t> rows;             // rows of the instance table, in bag order (repeats allowed)
  int64_t label = 0;
  std::vector<int64_t> instance_labels;  // one per row, or empty (unknown)
};

class MilSplit : public Split {
 public:
  // instances (M, F) float32; every bag non-empty with rows in 0..M-1; instance labels given for
  // every bag or for none.
  MilSplit(torch::Tensor instances, std::vector<MilBag> bags);

  int64_t size() const override { return static_cast<int64_t>(bags_.size()); }
  Batch batch(const std::vector<int64_t>& indices) const override;

  const std::vector<MilBag>& bags() const { return bags_; }
  const torch::Tensor& instances() const { return instances_; }
  int64_t max_bag_size() const;

 private:
  torch::Tensor instances_;
  std::vector<MilBag> bags_;
  bool has_instance_labels_ = false;
};

}  // namespace attnlab::datasets
