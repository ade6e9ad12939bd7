// Task loss, auxiliary losses and weighted regularizers, term by term.
#include "framework/objective/objective.h"

#include <algorithm>
#include <cmath>

#include "datasets/dataset.h"

namespace attnlab::objective {

double WeightSchedule::at(int64_t step, int64_t total_steps) const {
  if (shape == "constant") return weight;
  const double p = total_steps > 0 ? std::min(1.0, std::max(0.0, double(step) / total_steps)) : 1.0;
  if (shape == "linear") return weight + (weight_end - weight) * p;
  TORCH_INTERNAL_ASSERT(shape == "cosine", "unknown weight schedule '", shape, "'");
  return weight_end + (weight - weight_end) * 0.5 * (1.0 + std::cos(M_PI * p));
}

void add_weight_keys(config::Schema& schema, double default_weight) {
  schema.add_float("weight", default_weight, "weight of this term in the loss (at step 0)").at_least(0);
  schema.add_float("weight_end", 0.0, "weight at the last step (linear and cosine schedules)").at_least(0);
  schema.add_string("schedule", "constant", "how the weight changes over training")
      .one_of({"constant", "linear", "cosine"});
}

WeightSchedule read_weight_keys(const config::Section& section) {
  return {section.get_float("weight"), section.get_float("weight_end"),
          section.get_string("schedule")};
}

bool Objective::needs_scores() const {
  for (const auto& r : regularizers_)
    if (r.regularizer->needs_scores()) return true;
  return false;
}

bool Objective::needs_weights() const {
  for (const auto& r : regularizers_)
    if (r.regularizer->needs_weights()) return true;
  return false;
}

bool Objective::needs_row_entropy() const {
  for (const auto& r : regularizers_)
    if (r.regularizer->needs_row_entropy()) return true;
  return false;
}

bool Objective::needs_embeddings() const {
  for (const auto& r : regularizers_)
    if (r.regularizer->needs_embeddings()) return true;
  return false;
}

bool Objective::has_label_free_terms() const {
  for (const auto& r : regularizers_)
    if (!r.regularizer->reads_labels()) return true;
  return false;
}

torch::Tensor Objective::task_loss(const torch::Tensor& logits, const torch::Tensor& labels) const {
  namespace F = torch::nn::functional;
  auto options = F::CrossEntropyFuncOptions().label_smoothing(label_smoothing_);
  if (logits.dim() == 3) {
    // Language model: every position predicts the next token; ignored targets (padding) neither
    // count in the mean nor get gradient.
    TORCH_CHECK(labels.dim() == 2 && labels.size(0) == logits.size(0) && labels.size(1) == logits.size(1),
                "a language model's logits (B, T, V) need targets (B, T); got ", logits.sizes(), " and ",
                labels.sizes());
    return F::cross_entropy(logits.reshape({-1, logits.size(2)}), labels.reshape({-1}),
                            options.ignore_index(datasets::kIgnoreTarget));
  }
  return F::cross_entropy(logits, labels, options);
}

ObjectiveTerms Objective::compute(models::Model& model, const models::ModelInput& input,
                                  const torch::Tensor& labels, const models::ModelOutput& clean,
                                  const attention::ForwardContext& clean_ctx, int64_t step,
                                  int64_t total_steps, const UnlabelledForward* unlabelled) const {
  ObjectiveTerms out;
  out.task_loss = task_loss(clean.logits, labels);
  out.total = out.task_loss;
  out.terms.emplace_back("task", out.task_loss.detach());

  // Auxiliary losses of the same name (one per layer, e.g. MoH's balance loss) are averaged over
  // the layers that report them, as MoH's code averages over its routing layers; the module's
  // weight multiplies that mean in `total`, and the mean itself is logged unweighted.
  struct Aux {
    std::string name;
    torch::Tensor weighted_sum, sum;
    int64_t count = 0;
  };
  std::vector<Aux> aux;
  for (const auto& a : clean.aux_losses) {
    auto it = std::find_if(aux.begin(), aux.end(), [&](const Aux& x) { return x.name == a.name; });
    if (it == aux.end()) {
      aux.push_back({a.name, a.value * a.weight, a.value.detach(), 1});
    } else {
      it->weighted_sum = it->weighted_sum + a.value * a.weight;
      it->sum = it->sum + a.value.detach();
      ++it->count;
    }
  }
  for (const auto& a : aux) {
    out.total = out.total + a.weighted_sum / static_cast<double>(a.count);
    out.terms.emplace_back(a.name, a.sum / static_cast<double>(a.count));
  }

  for (const auto& r : regularizers_) {
    const double w = r.weight.at(step, total_steps);
    const RegularizerInputs inputs{model, input, labels, clean, clean_ctx, out.task_loss, step,
                                   [this, &labels](const torch::Tensor& logits) { return task_loss(logits, labels); },
                                   w};
    torch::Tensor term = r.regularizer->compute(inputs);
    if (unlabelled && !r.regularizer->reads_labels()) {
      const torch::Tensor no_labels, no_loss;
      const RegularizerInputs u{model, unlabelled->input, no_labels, unlabelled->out, unlabelled->ctx, no_loss, step,
                                [](const torch::Tensor&) -> torch::Tensor {
                                  TORCH_INTERNAL_ASSERT(false, "a label-free term asked for a task loss");
                                },
                                w};
      const double n_l = static_cast<double>(clean.logits.size(0));
      const double n_u = static_cast<double>(unlabelled->out.logits.size(0));
      term = (n_l * term + n_u * r.regularizer->compute(u)) / (n_l + n_u);
    }
    out.total = out.total + w * term;
    out.terms.emplace_back(r.name, term.detach());
  }
  return out;
}

}  // namespace attnlab::objective
