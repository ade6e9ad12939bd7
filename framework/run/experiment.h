// Builds a recipe's components through the registries: dataset, model (with its attention
// modules), optimizer, schedule, objective and metrics. An error a component raises while being
// built (e.g. heads that do not divide d_model) becomes a UserError naming the recipe section.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "datasets/dataset.h"
#include "framework/metrics/metric.h"
#include "framework/objective/objective.h"
#include "framework/optim/optimizers.h"
#include "framework/optim/schedules.h"
#include "framework/run/recipe.h"
#include "models/model.h"

namespace attnlab::run {

using NamedMetrics = std::vector<std::pair<std::string, metrics::MetricPtr>>;

std::shared_ptr<datasets::Dataset> build_dataset(const Recipe& recipe);
// semi_supervised.data when the recipe gives one (else nullptr: the main dataset serves); a
// UserError when its inputs do not match the main dataset's (vocabulary size, feature size).
std::shared_ptr<datasets::Dataset> build_unlabelled_dataset(const Recipe& recipe, const datasets::DataSpec& main);
models::InputSpec input_spec_of(const datasets::DataSpec& spec);
models::ModelPtr build_model(const Recipe& recipe, const datasets::DataSpec& spec);
optim::BuiltOptimizer build_optimizer(const Recipe& recipe, models::Model& model);
std::unique_ptr<optim::Schedule> build_schedule(const Recipe& recipe, int64_t total_steps);
objective::Objective build_objective(const Recipe& recipe);
// The recipe's eval.metrics; a metric of another task than the dataset's is a UserError naming
// eval.metrics and the metrics that do apply.
NamedMetrics build_metrics(const Recipe& recipe, const datasets::DataSpec& spec);

// The split named `name` of `dataset`, or a UserError naming the recipe key and the valid splits.
std::shared_ptr<const datasets::Split> split_or_error(const datasets::Dataset& dataset,
                                                      const std::string& name,
                                                      const std::string& where);

}  // namespace attnlab::run
