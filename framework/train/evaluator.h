// Evaluation of a model on a whole split, in order, without gradients: the task loss (mean over
// examples) and the recipe's metrics over the concatenated logits.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "datasets/dataset.h"
#include "framework/objective/objective.h"
#include "framework/run/experiment.h"
#include "models/model.h"

namespace attnlab::train {

struct EvalResult {
  std::string split;
  int64_t examples = 0;
  double loss = 0.0;
  std::map<std::string, double> metrics;  // undefined metrics (e.g. AUROC on 10 classes) absent

  // "loss" or a metric name -> value; throws std::out_of_range if absent.
  double get(const std::string& name) const;
  nlohmann::json to_json() const;  // {"split":..., "examples":..., "loss":..., <metric>: ...}
  std::string to_line() const;     // "val: loss 0.1234 | accuracy 0.9712 | macro_f1 0.9705"
};

EvalResult evaluate(models::Model& model, const datasets::Split& split, const std::string& split_name,
                    int64_t batch_size, const objective::Objective& objective,
                    const run::NamedMetrics& metrics, const torch::Device& device);

}  // namespace attnlab::train
