// A split held as whole tensors: inputs (N, T) int64 token ids or (N, T, F) float features,
// labels (N) int64, optional padding mask (N, T) bool (true = padding). batch(indices) gathers
// rows with index_select, so a batch keeps the split's T (no trimming) and its device.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::datasets {

class InMemorySplit : public Split {
 public:
  // padding_mask may be undefined (nothing padded); then batches have an undefined mask too.
  InMemorySplit(torch::Tensor inputs, torch::Tensor labels, torch::Tensor padding_mask = {});

  // The rows `indices` of the given tensors as a split (a stratified split's part, say).
  static std::shared_ptr<InMemorySplit> select(const torch::Tensor& inputs,
                                               const torch::Tensor& labels,
                                               const torch::Tensor& padding_mask,
                                               const std::vector<int64_t>& indices);

  int64_t size() const override { return labels_.size(0); }
  // Throws std::out_of_range for an index outside 0..size()-1.
  Batch batch(const std::vector<int64_t>& indices) const override;

  const torch::Tensor& inputs() const { return inputs_; }
  const torch::Tensor& labels() const { return labels_; }
  const torch::Tensor& padding_mask() const { return padding_mask_; }

 private:
  torch::Tensor inputs_, labels_, padding_mask_;
};

// An int64 index tensor on `device` holding `indices`.
torch::Tensor index_tensor(const std::vector<int64_t>& indices,
                           const torch::Device& device = torch::kCPU);

}  // namespace attnlab::datasets
