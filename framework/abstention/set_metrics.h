// Prediction-set metrics (notes §4 table, §1.5 clean mode): sets (M, K) bool, labels (M) integer.
//   coverage          = mean 1[y_i in C_i]          (an empty set is not covered)
//   average_set_size  = mean |C_i|
//   singleton_rate    = mean 1[|C_i| = 1]
//   empty_rate        = mean 1[|C_i| = 0]
// Throws std::invalid_argument on shapes, labels out of range or an empty batch.
#pragma once

#include <torch/torch.h>

namespace attnlab::abstention {

double set_coverage(const torch::Tensor& sets, const torch::Tensor& labels);
double average_set_size(const torch::Tensor& sets);
double singleton_rate(const torch::Tensor& sets);
double empty_rate(const torch::Tensor& sets);

}  // namespace attnlab::abstention
