#include "framework/abstention/method_output.h"

#include <stdexcept>

namespace attnlab::abstention {

std::vector<Decision> decisions_from_sets(const torch::Tensor& sets) {
  if (sets.dim() != 2 || sets.scalar_type() != torch::kBool) {
    throw std::invalid_argument("decisions_from_sets: sets must be a 2-D bool tensor");
  }
  const torch::Tensor sizes = sets.sum(1).to(torch::kLong).contiguous();
  const int64_t* size = sizes.data_ptr<int64_t>();
  std::vector<Decision> decisions(static_cast<size_t>(sets.size(0)));
  for (size_t i = 0; i < decisions.size(); ++i) {
    decisions[i] = size[i] == 1 ? Decision::single : Decision::set;
  }
  return decisions;
}

}  // namespace attnlab::abstention
