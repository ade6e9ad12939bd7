// The typed registries of every component kind a recipe can name. Concrete datasets, models and
// attention modules are registered by the wiring layer (tools/components); the framework's own
// generic components (optimizers, schedules, metrics) by register_framework_components().
// The framework itself only ever reaches concrete components through these.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "attention/attention.h"
#include "datasets/dataset.h"
#include "framework/config/section.h"
#include "framework/metrics/metric.h"
#include "framework/objective/regularizer.h"
#include "framework/optim/optimizers.h"
#include "framework/optim/schedules.h"
#include "framework/registry/registry.h"
#include "models/model.h"

namespace attnlab::registry {

using DatasetFactory = std::function<std::shared_ptr<datasets::Dataset>(const config::Section&)>;
// (attention section, layer index, model width) -> module.
using AttentionFactory =
    std::function<attention::AttentionPtr(const config::Section&, int layer, int64_t d_model)>;
// The framework turns the model section's `attention:` block into the AttentionBuilder.
using ModelFactory = std::function<models::ModelPtr(
    const config::Section&, const models::InputSpec&, const models::AttentionBuilder&)>;
using OptimizerFactory = std::function<optim::BuiltOptimizer(
    const config::Section&, const std::vector<std::pair<std::string, torch::Tensor>>&)>;
// (schedule section, the run's total optimizer steps) -> schedule.
using ScheduleFactory =
    std::function<std::unique_ptr<optim::Schedule>(const config::Section&, int64_t total_steps)>;
using RegularizerFactory = std::function<objective::RegularizerPtr(const config::Section&)>;
using MetricFactory = std::function<metrics::MetricPtr(const config::Section&)>;

Registry<DatasetFactory>& datasets();
Registry<AttentionFactory>& attention_modules();
Registry<ModelFactory>& models();
Registry<OptimizerFactory>& optimizers();
Registry<ScheduleFactory>& schedules();
Registry<RegularizerFactory>& regularizers();
Registry<MetricFactory>& metrics();

// Registers adamw/adam/sgd, the schedules and the classification metrics. Idempotent.
void register_framework_components();

}  // namespace attnlab::registry
