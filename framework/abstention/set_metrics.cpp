#include "framework/abstention/set_metrics.h"

#include <stdexcept>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

torch::Tensor sizes(const torch::Tensor& sets, const char* where) {
  if (!sets.defined() || sets.dim() != 2 || sets.scalar_type() != torch::kBool)
    throw std::invalid_argument(std::string(where) + ": sets must be a 2-D (M, K) bool tensor");
  if (sets.size(0) == 0) throw std::invalid_argument(std::string(where) + ": no sets");
  return sets.sum(1).to(torch::kFloat64);
}

}  // namespace

double set_coverage(const torch::Tensor& sets, const torch::Tensor& labels) {
  sizes(sets, "set_coverage");
  check_labels(labels, sets.size(0), sets.size(1), "set_coverage");
  return sets.gather(1, labels.to(torch::kInt64).unsqueeze(1)).to(torch::kFloat64).mean().item<double>();
}

double average_set_size(const torch::Tensor& sets) {
  return sizes(sets, "average_set_size").mean().item<double>();
}

double singleton_rate(const torch::Tensor& sets) {
  return (sizes(sets, "singleton_rate") == 1).to(torch::kFloat64).mean().item<double>();
}

double empty_rate(const torch::Tensor& sets) {
  return (sizes(sets, "empty_rate") == 0).to(torch::kFloat64).mean().item<double>();
}

}  // namespace attnlab::abstention
