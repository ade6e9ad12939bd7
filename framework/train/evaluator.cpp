// Whole-split evaluation.
#include "framework/train/evaluator.h"

#include <cstdio>
#include <numeric>
#include <sstream>

#include "framework/metrics/language_model_metrics.h"
#include "framework/train/attention_statistics.h"

namespace attnlab::train {

double EvalResult::get(const std::string& name) const {
  if (name == "loss") return loss;
  return metrics.at(name);
}

nlohmann::json EvalResult::to_json() const {
  nlohmann::json j = {{"split", split}, {"examples", examples}, {"loss", loss}};
  if (tokens > 0) j["tokens"] = tokens;
  for (const auto& [k, v] : metrics) j[k] = v;
  for (const auto& [k, v] : statistics) j["attention/" + k] = v;
  return j;
}

std::string EvalResult::to_line() const {
  std::ostringstream s;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", loss);
  s << split << ": loss " << buf;
  for (const auto& [k, v] : metrics) {
    std::snprintf(buf, sizeof buf, "%.4f", v);
    s << " | " << k << " " << buf;
  }
  s << " (" << examples << " examples";
  if (tokens > 0) s << ", " << tokens << " tokens";
  s << ")";
  return s.str();
}

EvalResult evaluate(models::Model& model, const datasets::Split& split, const std::string& split_name,
                    int64_t batch_size, const objective::Objective& objective,
                    const run::NamedMetrics& metrics, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();

  EvalResult result;
  result.split = split_name;
  result.examples = split.size();
  AttentionStatistics statistics;
  std::vector<torch::Tensor> all_logits, all_labels;
  bool language_model = false;
  // Summed on the device and read once at the end: a read per batch would stall a GPU each time.
  const auto sum_options = torch::TensorOptions().dtype(torch::kDouble).device(device);
  torch::Tensor loss_sum = torch::zeros({}, sum_options);
  torch::Tensor token_sums = torch::zeros({4}, sum_options);  // metrics::token_totals_of_batch
  for (int64_t start = 0; start < split.size(); start += batch_size) {
    const int64_t end = std::min(split.size(), start + batch_size);
    std::vector<int64_t> idx(end - start);
    std::iota(idx.begin(), idx.end(), start);
    const datasets::Batch batch = split.batch(idx);
    models::ModelInput input{batch.inputs.to(device),
                             batch.padding_mask.defined() ? batch.padding_mask.to(device)
                                                          : torch::Tensor()};
    attention::ForwardContext ctx;
    const auto out = model.forward(input, ctx);
    statistics.add(ctx);
    const auto labels = batch.labels.to(device);
    language_model = out.logits.dim() == 3;
    if (language_model) {
      // The task loss weighted by the batch's targets, so the split's loss is a mean over targets.
      const auto totals = metrics::token_totals_of_batch(
          out.logits, labels, batch.target_bytes.defined() ? batch.target_bytes.to(device) : torch::Tensor());
      token_sums += totals;
      loss_sum += objective.task_loss(out.logits, labels).to(torch::kDouble) * totals[1];
    } else {
      loss_sum += objective.task_loss(out.logits, labels).to(torch::kDouble) * static_cast<double>(end - start);
      all_logits.push_back(out.logits.detach().to(torch::kFloat));
      all_labels.push_back(batch.labels);
    }
  }
  if (language_model) {
    const metrics::TokenTotals totals = metrics::token_totals_from(token_sums);
    result.tokens = totals.tokens;
    if (totals.tokens > 0) result.loss = loss_sum.item<double>() / static_cast<double>(totals.tokens);
    for (const auto& [name, metric] : metrics) {
      if (auto v = metric->compute_tokens(totals)) result.metrics[name] = *v;
    }
  } else if (result.examples > 0) {
    result.loss = loss_sum.item<double>() / result.examples;
    const auto logits = torch::cat(all_logits).to(torch::kCPU);
    const auto labels = torch::cat(all_labels);
    for (const auto& [name, metric] : metrics) {
      if (auto v = metric->compute(logits, labels)) result.metrics[name] = *v;
    }
  }
  result.statistics = statistics.read().scalars;
  if (was_training) model.train();
  return result;
}

}  // namespace attnlab::train
