// Optimizers with parameter groups. By default biases and normalisation weights (every parameter
// with fewer than two dimensions, which covers both) get no weight decay, as in most transformer
// recipes; embeddings and matrices do. Each group keeps its base lr so schedules can scale it.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace attnlab::optim {

struct OptimizerOptions {
  std::string name = "adamw";     // adamw | adam | sgd
  double lr = 1e-3;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  double momentum = 0.0;          // sgd
  bool nesterov = false;          // sgd (needs momentum > 0)
  bool decay_biases_and_norms = false;  // false: params with dim < 2 get weight_decay 0
};

struct BuiltOptimizer {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<double> base_lrs;                  // per param group
  std::vector<std::vector<std::string>> group_names;  // parameter names per group (for logging/tests)
};

// Groups: [0] decayed parameters, [1] parameters with no weight decay (omitted if empty).
// Throws std::invalid_argument for an unknown name or nesterov without momentum.
BuiltOptimizer make_optimizer(const std::vector<std::pair<std::string, torch::Tensor>>& named_params,
                              const OptimizerOptions& options);

// Sets every group's lr to base_lr * factor.
void apply_lr_factor(BuiltOptimizer& opt, double factor);
double current_lr(const torch::optim::Optimizer& optimizer, size_t group = 0);

}  // namespace attnlab::optim
