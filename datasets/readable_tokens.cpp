#include "datasets/readable_tokens.h"

namespace attnlab::datasets {

std::vector<int64_t> real_token_ids(const Batch& batch, int64_t index) {
  const auto ids = batch.inputs[index].to(torch::kCPU).to(torch::kLong).contiguous();
  const int64_t n = ids.size(0);
  const auto* data = ids.data_ptr<int64_t>();
  torch::Tensor padded;
  if (batch.padding_mask.defined()) padded = batch.padding_mask[index].to(torch::kCPU).contiguous();
  std::vector<int64_t> out;
  for (int64_t t = 0; t < n; ++t)
    if (!padded.defined() || !padded[t].item<bool>()) out.push_back(data[t]);
  return out;
}

}  // namespace attnlab::datasets
