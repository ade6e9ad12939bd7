// What every loop over a split repeats: the positions of one batch, and its model input on a device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "datasets/dataset.h"
#include "models/model.h"

namespace attnlab::train {

// Positions begin..end-1 of a split, for Split::batch.
inline std::vector<int64_t> index_range(int64_t begin, int64_t end) {
  std::vector<int64_t> idx(static_cast<size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  return idx;
}

// The batch's inputs and padding mask on `device` (an undefined mask stays undefined).
inline models::ModelInput model_input(const datasets::Batch& batch, const torch::Device& device) {
  return {batch.inputs.to(device), batch.padding_mask.defined() ? batch.padding_mask.to(device) : torch::Tensor()};
}

}  // namespace attnlab::train
