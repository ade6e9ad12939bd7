// In-memory split; see in_memory_split.h.
#include "datasets/in_memory_split.h"

#include <stdexcept>
#include <string>

namespace attnlab::datasets {

torch::Tensor index_tensor(const std::vector<int64_t>& indices, const torch::Device& device) {
  return torch::tensor(indices, torch::kLong).to(device);
}

InMemorySplit::InMemorySplit(torch::Tensor inputs, torch::Tensor labels, torch::Tensor padding_mask)
    : inputs_(std::move(inputs)),
      labels_(std::move(labels)),
      padding_mask_(std::move(padding_mask)) {
  TORCH_CHECK(labels_.defined() && labels_.dim() == 1 && labels_.scalar_type() == torch::kLong,
              "InMemorySplit: labels must be (N) int64");
  TORCH_CHECK(inputs_.defined() && (inputs_.dim() == 2 || inputs_.dim() == 3) &&
                  inputs_.size(0) == labels_.size(0),
              "InMemorySplit: inputs must be (N, T) or (N, T, F) with N = ", labels_.size(0),
              ", got ", inputs_.sizes());
  if (padding_mask_.defined()) {
    TORCH_CHECK(padding_mask_.scalar_type() == torch::kBool && padding_mask_.dim() == 2 &&
                    padding_mask_.size(0) == inputs_.size(0) &&
                    padding_mask_.size(1) == inputs_.size(1),
                "InMemorySplit: padding_mask must be (N, T) bool, got ", padding_mask_.sizes());
  }
}

std::shared_ptr<InMemorySplit> InMemorySplit::select(const torch::Tensor& inputs,
                                                     const torch::Tensor& labels,
                                                     const torch::Tensor& padding_mask,
                                                     const std::vector<int64_t>& indices) {
  const auto rows = index_tensor(indices, inputs.device());
  return std::make_shared<InMemorySplit>(
      inputs.index_select(0, rows), labels.index_select(0, rows.to(labels.device())),
      padding_mask.defined() ? padding_mask.index_select(0, rows.to(padding_mask.device()))
                             : torch::Tensor());
}

Batch InMemorySplit::batch(const std::vector<int64_t>& indices) const {
  for (const int64_t i : indices) {
    if (i < 0 || i >= size()) {
      throw std::out_of_range("InMemorySplit::batch: index " + std::to_string(i) +
                              " is outside 0.." + std::to_string(size() - 1));
    }
  }
  const auto rows = index_tensor(indices, inputs_.device());
  Batch b;
  b.inputs = inputs_.index_select(0, rows);
  b.labels = labels_.index_select(0, rows.to(labels_.device()));
  if (padding_mask_.defined())
    b.padding_mask = padding_mask_.index_select(0, rows.to(padding_mask_.device()));
  return b;
}

}  // namespace attnlab::datasets
