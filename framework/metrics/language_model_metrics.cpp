// Language-model metrics from token totals.
#include "framework/metrics/language_model_metrics.h"

#include <cmath>

namespace attnlab::metrics {

std::optional<double> perplexity(const TokenTotals& t) {
  if (t.tokens <= 0) return std::nullopt;
  return std::exp(t.nll_sum / static_cast<double>(t.tokens));
}

std::optional<double> bits_per_token(const TokenTotals& t) {
  if (t.tokens <= 0) return std::nullopt;
  return t.nll_sum / (static_cast<double>(t.tokens) * std::log(2.0));
}

std::optional<double> bits_per_byte(const TokenTotals& t) {
  if (t.bytes <= 0) return std::nullopt;
  return t.nll_sum / (static_cast<double>(t.bytes) * std::log(2.0));
}

std::optional<double> token_accuracy(const TokenTotals& t) {
  if (t.tokens <= 0) return std::nullopt;
  return static_cast<double>(t.correct) / static_cast<double>(t.tokens);
}

torch::Tensor token_totals_of_batch(const torch::Tensor& logits, const torch::Tensor& targets,
                                    const torch::Tensor& target_bytes) {
  TORCH_CHECK(logits.dim() == 3 && targets.dim() == 2 && logits.size(0) == targets.size(0) &&
                  logits.size(1) == targets.size(1),
              "language-model totals need logits (B, T, V) and targets (B, T); got ", logits.sizes(),
              " and ", targets.sizes());
  namespace F = torch::nn::functional;
  const auto flat_logits = logits.reshape({-1, logits.size(2)});
  const auto flat_targets = targets.reshape({-1});
  const auto valid = flat_targets != datasets::kIgnoreTarget;
  // Per-target losses in the logits' precision, summed in double (a float sum over a whole split
  // would lose digits); ignored targets contribute 0.
  const auto nll = F::cross_entropy(flat_logits, flat_targets,
                                    F::CrossEntropyFuncOptions()
                                        .ignore_index(datasets::kIgnoreTarget)
                                        .reduction(torch::kNone))
                       .to(torch::kDouble)
                       .sum();
  const auto tokens = valid.sum().to(torch::kDouble);
  const auto bytes = target_bytes.defined()
                         ? (target_bytes.reshape({-1}) * valid).sum().to(torch::kDouble)
                         : tokens;
  const auto correct = (flat_logits.argmax(1).eq(flat_targets) & valid).sum().to(torch::kDouble);
  return torch::stack({nll, tokens, bytes, correct});
}

TokenTotals token_totals_from(const torch::Tensor& summed) {
  const auto host = summed.to(torch::kCPU, torch::kDouble).contiguous();
  const double* v = host.data_ptr<double>();
  return TokenTotals{v[0], static_cast<int64_t>(std::llround(v[1])), static_cast<int64_t>(std::llround(v[2])),
                     static_cast<int64_t>(std::llround(v[3]))};
}

}  // namespace attnlab::metrics
