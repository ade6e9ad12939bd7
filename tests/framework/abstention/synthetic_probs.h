// Synthetic classifier outputs for the abstention tests: softmax of N(0, scale²) logits, with labels
// drawn from those probabilities (a calibrated model) or set to the arg-max (an always-right model).
// One std::mt19937_64 stream per call, so a seed gives the same data on every platform.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace attnlab::abstention::testing {

struct Data {
  torch::Tensor probs;   // (n, k) float64
  torch::Tensor labels;  // (n) int64
};

inline Data synthetic(int64_t n, int64_t k, double scale, uint64_t seed, bool argmax_labels = false) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto probs = torch::empty({n, k}, torch::kFloat64);
  auto labels = torch::empty({n}, torch::kLong);
  double* p = probs.data_ptr<double>();
  int64_t* y = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int64_t c = 0; c < k; ++c) sum += p[i * k + c] = std::exp(normal(engine));
    for (int64_t c = 0; c < k; ++c) p[i * k + c] /= sum;
    y[i] = 0;
    if (argmax_labels) {
      for (int64_t c = 1; c < k; ++c)
        if (p[i * k + c] > p[i * k + y[i]]) y[i] = c;
      continue;
    }
    double r = u(engine), acc = 0.0;
    y[i] = k - 1;
    for (int64_t c = 0; c < k; ++c)
      if (r < (acc += p[i * k + c])) {
        y[i] = c;
        break;
      }
  }
  return {probs, labels};
}

}  // namespace attnlab::abstention::testing
