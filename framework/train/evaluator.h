// Evaluation of a model on a whole split, in order, without gradients: the task loss and the
// recipe's metrics. Classification: loss is the mean over examples and metrics read the
// concatenated logits. Language model: loss is the mean over every non-ignored target of the split
// (not over windows, so a short last window weighs what its tokens weigh) and metrics read the
// split's token totals. Attention statistics the modules report (e.g. MoH's fraction of heads
// used) are averaged over batches into `statistics`.
#pragma once

#include <torch/torch.h>

#include <functional>
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
  int64_t tokens = 0;                     // language model: targets counted; else 0
  std::map<std::string, double> metrics;  // undefined metrics (e.g. AUROC on 10 classes) absent
  std::map<std::string, double> statistics;  // attention statistics: "<name>" averaged over sites

  // "loss" or a metric name -> value; throws std::out_of_range if absent.
  double get(const std::string& name) const;
  nlohmann::json to_json() const;  // {"split":..., "examples":..., "loss":..., <metric>: ...}
  std::string to_line() const;     // "val: loss 0.1234 | accuracy 0.9712 | macro_f1 0.9705"
};

// Data-parallel evaluation: rank r of W evaluates the contiguous share [r·N/W, (r+1)·N/W) of the
// split, and `sum` adds a CPU tensor over the ranks in place. The loss and token sums are summed,
// the logits and labels put together in split order (so every metric sees the whole split, exactly
// as one process would, up to the order of the loss sum), attention statistics averaged with the
// ranks' batch counts as weights. With fewer examples than ranks every rank evaluates everything.
struct EvalSharding {
  int64_t rank = 0;
  int64_t world_size = 1;
  std::function<void(torch::Tensor&)> sum;
};

EvalResult evaluate(models::Model& model, const datasets::Split& split, const std::string& split_name,
                    int64_t batch_size, const objective::Objective& objective,
                    const run::NamedMetrics& metrics, const torch::Device& device,
                    const EvalSharding* sharding = nullptr);

}  // namespace attnlab::train
