#include "framework/report/attention_examples.h"

#include <algorithm>

#include "attention/context.h"
#include "framework/train/attention_interpretability.h"
#include "framework/train/batch_input.h"

namespace attnlab::report {
namespace {

std::vector<double> row(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU).to(torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

std::vector<AttentionExample> attention_examples(models::Model& model, const datasets::Dataset& dataset,
                                                 const datasets::Split& split, int64_t count,
                                                 const torch::Device& device) {
  const int64_t n = std::min(count, split.size());
  if (n <= 0) return {};
  const datasets::Batch batch = split.batch(train::index_range(0, n));
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  const auto out = model.forward(train::model_input(batch, device), ctx);
  if (was_training) model.train();

  const int64_t t = batch.inputs.size(1);
  const auto real = batch.padding_mask.defined() ? (~batch.padding_mask).cpu()
                                                 : torch::ones({n, t}, torch::kBool);
  const auto* readable = dynamic_cast<const datasets::ReadableTokens*>(&dataset);
  std::vector<AttentionExample> examples(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto& e = examples[static_cast<size_t>(i)];
    e.index = i;
    if (out.logits.dim() == 2) {
      e.label = batch.labels[i].item<int64_t>();
      e.prediction = out.logits[i].argmax().item<int64_t>();
    }
    const auto keep = real[i];
    if (readable) e.view = readable->token_view(batch, i);
    const int64_t tokens = keep.sum().item<int64_t>();
    if (e.view.labels.size() != static_cast<size_t>(tokens)) {
      e.view.labels.clear();
      for (int64_t k = 0; k < tokens; ++k) e.view.labels.push_back("#" + std::to_string(k));
    }
    if (batch.rationale.defined()) {
      for (double v : row(batch.rationale[i].cpu().masked_select(keep))) e.rationale.push_back(v != 0);
    }
  }
  for (const auto& site : ctx.sites()) {
    const auto w = ctx.weights().find(site);
    if (w == ctx.weights().end()) continue;  // visited without recording (no weights to show)
    const auto mask = ctx.masks().find(site);
    auto attn = train::token_attention(w->second.detach().to(torch::kDouble),
                                       mask == ctx.masks().end() ? torch::Tensor() : mask->second);
    if (attn.size(1) == t + 1) attn = attn.narrow(1, 1, t);  // a prepended CLS key
    if (attn.size(0) != n || attn.size(1) != t) continue;    // not over the tokens
    attn = attn.cpu();
    for (int64_t i = 0; i < n; ++i) {
      auto& e = examples[static_cast<size_t>(i)];
      e.sites.push_back(site);
      e.attention.push_back(row(attn[i].masked_select(real[i])));
    }
  }
  return examples;
}

}  // namespace attnlab::report
