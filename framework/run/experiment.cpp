// Recipe sections -> components, through the registries only.
#include "framework/run/experiment.h"

#include <sstream>

#include "framework/errors.h"
#include "framework/registry/components.h"

namespace attnlab::run {
namespace {

// The first line of a torch error, without its C++ backtrace.
std::string first_line(const std::string& s) {
  auto end = s.find('\n');
  return end == std::string::npos ? s : s.substr(0, end);
}

// Runs a factory; errors it raises about the user's values are reported against the section.
template <typename F>
auto building(const config::Section& section, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const UserError&) {
    throw;
  } catch (const datasets::DataError&) {
    throw;
  } catch (const c10::Error& e) {
    throw UserError(section.node().origin().str() + ": " + section.path() + ": " +
                    first_line(e.what_without_backtrace()));
  } catch (const std::invalid_argument& e) {
    throw UserError(section.node().origin().str() + ": " + section.path() + ": " + e.what());
  }
}

}  // namespace

std::shared_ptr<datasets::Dataset> build_dataset(const Recipe& recipe) {
  const auto s = recipe.section("data");
  return building(s, [&] { return registry::datasets().get(s.get_string("name"))(s); });
}

std::shared_ptr<datasets::Dataset> build_unlabelled_dataset(const Recipe& recipe, const datasets::DataSpec& main) {
  if (!recipe.semi_supervised.has_data) return nullptr;
  const auto s = recipe.section("semi_supervised").sub("data");
  auto dataset = building(s, [&] { return registry::datasets().get(s.get_string("name"))(s); });
  const auto spec = dataset->spec();
  // The model reads both, so their inputs must mean the same: same token ids or feature size.
  if (spec.vocab_size != main.vocab_size || spec.feature_dim != main.feature_dim) {
    throw UserError(s.node().origin().str() + ": " + s.path() + ": its inputs (vocabulary " +
                    std::to_string(spec.vocab_size) + ", features " + std::to_string(spec.feature_dim) +
                    ") differ from the main dataset's (vocabulary " + std::to_string(main.vocab_size) +
                    ", features " + std::to_string(main.feature_dim) + ")");
  }
  return dataset;
}

models::InputSpec input_spec_of(const datasets::DataSpec& spec) {
  models::InputSpec in;
  in.num_classes = spec.num_classes;
  in.vocab_size = spec.vocab_size;
  in.feature_dim = spec.feature_dim;
  in.max_length = spec.max_length;
  in.pad_id = spec.pad_id;
  in.language_model = spec.task == datasets::Task::kLanguageModel;
  in.pretrained_embeddings = spec.pretrained_embeddings;
  return in;
}

models::ModelPtr build_model(const Recipe& recipe, const datasets::DataSpec& spec) {
  const auto s = recipe.section("model");
  models::AttentionBuilder attention;
  if (s.has("attention")) {
    const auto a = s.sub("attention");
    attention = [a](int layer, int64_t d_model) {
      return building(a, [&] {
        return registry::attention_modules().get(a.get_string("name"))(a, layer, d_model);
      });
    };
  }
  return building(s, [&] {
    return registry::models().get(s.get_string("name"))(s, input_spec_of(spec), attention);
  });
}

optim::BuiltOptimizer build_optimizer(const Recipe& recipe, models::Model& model) {
  const auto s = recipe.section("optim");
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (const auto& p : model.named_parameters()) params.emplace_back(p.key(), p.value());
  return building(s, [&] { return registry::optimizers().get(s.get_string("name"))(s, params); });
}

std::unique_ptr<optim::Schedule> build_schedule(const Recipe& recipe, int64_t total_steps) {
  const auto s = recipe.section("schedule");
  return building(s, [&] {
    return registry::schedules().get(s.get_string("name"))(s, total_steps);
  });
}

objective::Objective build_objective(const Recipe& recipe) {
  std::vector<objective::WeightedRegularizer> regs;
  for (const auto& s : recipe.section("objective").sub_list("regularizers")) {
    const std::string name = s.get_string("name");
    auto reg = building(s, [&] { return registry::regularizers().get(name)(s); });
    regs.push_back({name, reg, objective::read_weight_keys(s)});
  }
  return objective::Objective(recipe.objective.label_smoothing, std::move(regs));
}

NamedMetrics build_metrics(const Recipe& recipe, const datasets::DataSpec& spec) {
  NamedMetrics out;
  config::Value empty = config::Value::map();
  std::vector<std::string> mismatched;
  for (const auto& name : recipe.eval.metrics) {
    out.emplace_back(name, registry::metrics().get(name)(config::Section(&empty, "eval.metrics")));
    if (out.back().second->task() != spec.task) mismatched.push_back(name);
  }
  if (!mismatched.empty()) {
    // Caught before training: a classification metric cannot read a language model's evaluation.
    std::ostringstream msg;
    const auto e = recipe.section("eval");
    msg << e.origin("metrics").str() << ": eval.metrics:";
    for (const auto& m : mismatched) msg << " '" << m << "'";
    msg << (mismatched.size() == 1 ? " does" : " do") << " not apply to this dataset, whose task is "
        << datasets::task_name(spec.task) << "; metrics for it:";
    for (const auto& name : registry::metrics().names()) {
      config::Value none = config::Value::map();
      if (registry::metrics().get(name)(config::Section(&none, "eval.metrics"))->task() == spec.task) msg << " " << name;
    }
    throw UserError(msg.str());
  }
  return out;
}

std::shared_ptr<const datasets::Split> split_or_error(const datasets::Dataset& dataset,
                                                      const std::string& name,
                                                      const std::string& where) {
  const auto names = dataset.split_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::ostringstream msg;
    msg << where << ": the dataset has no split '" << name << "'; it has:";
    for (const auto& n : names) msg << " " << n;
    throw UserError(msg.str());
  }
  return dataset.split(name);
}

}  // namespace attnlab::run
