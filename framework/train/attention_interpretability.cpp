// Attention interpretability metrics over a split.
#include "framework/train/attention_interpretability.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "attention/regularizers/perturbation.h"
#include "framework/metrics/interpretability.h"
#include "framework/train/batch_input.h"

namespace attnlab::train {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Per-example values of each metric, and the pooled tokens of localisation_auc.
struct Accumulator {
  std::map<std::string, std::vector<double>> values;
  std::vector<double> pooled_scores;
  std::vector<int> pooled_truth;

  void add(const std::string& name, const std::optional<double>& v) {
    auto& list = values[name];  // created even when undefined, so the metric shows with n = 0
    if (v) list.push_back(*v);
  }
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

std::string pick_site(const attention::ForwardContext& ctx, const std::string& wanted) {
  const auto& sites = ctx.sites();
  if (sites.empty()) throw std::invalid_argument("the model has no attention site to measure");
  if (wanted.empty()) {
    return std::find(sites.begin(), sites.end(), "pool") != sites.end() ? "pool" : sites.back();
  }
  if (std::find(sites.begin(), sites.end(), wanted) == sites.end()) {
    std::string msg = "the model has no attention site '" + wanted + "'; it has:";
    for (const auto& s : sites) msg += " " + s;
    throw std::invalid_argument(msg);
  }
  return wanted;
}

}  // namespace

torch::Tensor token_attention(const torch::Tensor& weights, const torch::Tensor& key_padding_mask) {
  TORCH_CHECK(weights.dim() == 4, "attention weights must be (N, H, Tq, Tk), got ", weights.sizes());
  const int64_t tq = weights.size(2), tk = weights.size(3);
  auto per_query = weights.mean(1);  // (N, Tq, Tk)
  if (tq == tk && key_padding_mask.defined()) {
    // Self-attention: rows of padded queries are not the example's attention.
    const auto rows = (~key_padding_mask).to(per_query.scalar_type()).unsqueeze(-1);  // (N, Tq, 1)
    return (per_query * rows).sum(1) / rows.sum(1).clamp_min(1.0);
  }
  return per_query.mean(1);
}

InterpretabilityResult evaluate_interpretability(models::Model& model, const datasets::Split& split,
                                                 const InterpretabilityOptions& options,
                                                 const torch::Device& device) {
  const bool was_training = model.is_training();
  model.eval();
  InterpretabilityResult result;
  Accumulator acc;
  for (int64_t start = 0; start < split.size(); start += options.batch_size) {
    const datasets::Batch batch = split.batch(index_range(start, std::min(split.size(), start + options.batch_size)));
    const models::ModelInput input = model_input(batch, device);
    attention::ForwardContext ctx;
    ctx.set_record_weights(true);
    ctx.set_record_embeddings(true);
    ctx.set_detach_attention(true);  // the gradient must not flow through the attention weights
    const auto out = model.forward(input, ctx);
    TORCH_CHECK(out.logits.dim() == 2, "attention interpretability needs a classifier (logits (B, C)), got ",
                out.logits.sizes());
    if (result.site.empty()) result.site = pick_site(ctx, options.site);
    const auto& site = result.site;
    const auto weights = ctx.weights().at(site).detach().to(torch::kDouble);
    const auto mask_it = ctx.masks().find(site);
    const torch::Tensor site_mask = mask_it == ctx.masks().end() ? torch::Tensor() : mask_it->second;

    // Entropy of the site's rows, per example the mean over its valid rows.
    for (const bool normalized : {false, true}) {
      const auto [h, valid] = attention::attention_row_entropy(weights, site_mask, normalized);
      const auto v = valid.to(torch::kDouble);
      const auto per_example = (h * v).flatten(1).sum(1) / v.flatten(1).sum(1).clamp_min(1.0);
      for (const double x : to_vector(per_example)) {
        acc.add(normalized ? "attention_entropy_normalized" : "attention_entropy", x);
      }
    }

    // Token attention over the batch's tokens (dropping a prepended CLS key).
    auto attn = token_attention(weights, site_mask);  // (B, Tk)
    const int64_t t = batch.inputs.size(1);
    if (attn.size(1) == t + 1) attn = attn.narrow(1, 1, t);
    // A site over something other than the batch's tokens (e.g. Mega's chunks) has no token scores.
    if (attn.size(0) != batch.size() || attn.size(1) != t) continue;
    const auto token_mask = batch.padding_mask.defined() ? batch.padding_mask.cpu()
                                                         : torch::zeros({batch.size(), t}, torch::kBool);

    // Gradient x input of the predicted class's probability, attention detached.
    torch::Tensor grad, embeddings;
    const auto e_it = ctx.embeddings().find("embed");
    if (e_it != ctx.embeddings().end() && e_it->second.requires_grad()) {
      embeddings = e_it->second;
      const auto probs = torch::softmax(out.logits, -1);
      const auto predicted = std::get<1>(probs.max(-1, /*keepdim=*/true));
      const auto objective = probs.gather(-1, predicted).sum();
      grad = torch::autograd::grad({objective}, {embeddings}, {}, false, false, true)[0];
      if (grad.defined()) grad = grad.detach().cpu().to(torch::kDouble);
      embeddings = embeddings.detach().cpu().to(torch::kDouble);
    }

    const auto attn_cpu = attn.cpu();
    for (int64_t i = 0; i < batch.size(); ++i) {
      const auto valid = ~token_mask[i];
      const auto scores = to_vector(attn_cpu[i].masked_select(valid));
      if (grad.defined() && embeddings.size(1) == t) {
        const auto importance = metrics::gradient_importance(grad[i], embeddings[i], valid);
        acc.add("gradient_pearson", metrics::pearson(scores, importance));
        acc.add("gradient_kendall", metrics::kendall_tau(scores, importance));
      }
      if (!batch.rationale.defined()) continue;
      const auto truth_d = to_vector(batch.rationale[i].masked_select(valid));
      const std::vector<int> truth(truth_d.begin(), truth_d.end());
      acc.add("rationale_auprc", metrics::token_auprc(scores, truth));
      acc.add("rationale_average_precision", metrics::average_precision(scores, truth));
      acc.add("rationale_roc_auc", metrics::roc_auc(scores, truth));
      if (std::find(truth.begin(), truth.end(), 1) == truth.end()) continue;
      for (size_t k = 0; k < scores.size(); ++k) {
        acc.pooled_scores.push_back(scores[k] * static_cast<double>(scores.size()));
        acc.pooled_truth.push_back(truth[k]);
      }
    }
  }
  for (auto& [name, values] : acc.values) {
    result.counted[name] = static_cast<int64_t>(values.size());
    if (!values.empty()) result.metrics[name] = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
    if (name.rfind("gradient_", 0) == 0) result.per_example[name] = std::move(values);
  }
  if (const auto auc = metrics::roc_auc(acc.pooled_scores, acc.pooled_truth)) {
    result.metrics["localisation_auc"] = *auc;
    result.counted["localisation_auc"] = static_cast<int64_t>(acc.pooled_truth.size());
  }
  if (was_training) model.train();
  return result;
}

nlohmann::json InterpretabilityResult::to_json() const {
  nlohmann::json j = {{"site", site}};
  for (const auto& [name, v] : metrics) j[name] = v;
  for (const auto& [name, n] : counted) j[name + "_n"] = n;
  for (const auto& [name, values] : per_example) {
    if (values.empty()) continue;
    j[name + "_quantiles"] = {{"p10", quantile(values, 0.1)}, {"p25", quantile(values, 0.25)},
                              {"p50", quantile(values, 0.5)}, {"p75", quantile(values, 0.75)},
                              {"p90", quantile(values, 0.9)}};
  }
  return j;
}

std::string InterpretabilityResult::to_line() const {
  std::ostringstream s;
  s << "attention (" << site << "):";
  const char* sep = " ";
  for (const auto& [name, v] : metrics) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v);
    s << sep << name << " " << buf;
    sep = " | ";
  }
  return s.str();
}

}  // namespace attnlab::train
