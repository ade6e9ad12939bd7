// Whole-split evaluation.
#include "framework/train/evaluator.h"

#include <cstdio>
#include <sstream>

#include "framework/metrics/language_model_metrics.h"
#include "framework/train/attention_statistics.h"
#include "framework/train/batch_input.h"

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

namespace {

// The sharded parts of one evaluation put together on every rank (EvalSharding in evaluator.h).
torch::Tensor sum_over_ranks(const EvalSharding& sharding, const torch::Tensor& local) {
  torch::Tensor t = local.to(torch::kCPU, torch::kDouble).contiguous().clone();
  sharding.sum(t);
  return t;
}

// This rank's rows placed at [begin, begin + n) of a zero (N, ...) tensor, summed over ranks: the
// whole split's rows in split order on every rank.
torch::Tensor gather_rows(const EvalSharding& sharding, const torch::Tensor& local, int64_t begin, int64_t total) {
  std::vector<int64_t> shape = local.sizes().vec();
  shape[0] = total;
  torch::Tensor full = torch::zeros(shape, torch::kDouble);
  full.narrow(0, begin, local.size(0)).copy_(local.to(torch::kDouble));
  sharding.sum(full);
  return full;
}

}  // namespace

EvalResult evaluate(models::Model& model, const datasets::Split& split, const std::string& split_name,
                    int64_t batch_size, const objective::Objective& objective,
                    const run::NamedMetrics& metrics, const torch::Device& device,
                    const EvalSharding* sharding_in) {
  // Every rank needs at least one example: the shapes it shares (classes, statistics) come from them.
  const EvalSharding* sharding = sharding_in && sharding_in->world_size > 1 && split.size() >= sharding_in->world_size
                                     ? sharding_in : nullptr;
  const int64_t first = sharding ? sharding->rank * split.size() / sharding->world_size : 0;
  const int64_t last = sharding ? (sharding->rank + 1) * split.size() / sharding->world_size : split.size();
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
  int64_t batches = 0;
  for (int64_t start = first; start < last; start += batch_size) {
    const int64_t end = std::min(last, start + batch_size);
    ++batches;
    const datasets::Batch batch = split.batch(index_range(start, end));
    const models::ModelInput input = model_input(batch, device);
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
  AttentionStatistics::Read read = statistics.read();
  if (sharding) {
    loss_sum = sum_over_ranks(*sharding, loss_sum.reshape({1}))[0];
    token_sums = sum_over_ranks(*sharding, token_sums);
    // Each statistic is a mean over this rank's batches: weight it by them.
    std::vector<double> weighted = {static_cast<double>(batches)};
    for (const auto& [name, v] : read.scalars) weighted.push_back(v * static_cast<double>(batches));
    const torch::Tensor sums = sum_over_ranks(*sharding, torch::tensor(weighted, torch::kDouble));
    size_t i = 1;
    for (auto& [name, v] : read.scalars) v = sums[static_cast<int64_t>(i++)].item<double>() / sums[0].item<double>();
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
    torch::Tensor logits = torch::cat(all_logits).to(torch::kCPU);
    torch::Tensor labels = torch::cat(all_labels);
    if (sharding) {
      logits = gather_rows(*sharding, logits, first, split.size()).to(torch::kFloat);
      labels = gather_rows(*sharding, labels, first, split.size()).to(torch::kLong);
    }
    for (const auto& [name, metric] : metrics) {
      if (auto v = metric->compute(logits, labels)) result.metrics[name] = *v;
    }
  }
  result.statistics = read.scalars;
  if (was_training) model.train();
  return result;
}

}  // namespace attnlab::train
