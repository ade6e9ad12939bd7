// Language-model metrics from a split's token totals (metrics::TokenTotals):
//   perplexity     = exp(NLL / tokens)
//   bits_per_token = NLL / (tokens * ln 2)
//   bits_per_byte  = NLL / (bytes * ln 2)   (the whole split's information over its text's bytes, so
//                    byte- and word-level models compare; equals bits_per_token at byte level)
//   token_accuracy = correct / tokens       (next-token argmax)
// Each is nullopt when its denominator is zero.
#pragma once

#include <optional>

#include "framework/metrics/metric.h"

namespace attnlab::metrics {

std::optional<double> perplexity(const TokenTotals& t);
std::optional<double> bits_per_token(const TokenTotals& t);
std::optional<double> bits_per_byte(const TokenTotals& t);
std::optional<double> token_accuracy(const TokenTotals& t);

// The totals of one batch: logits (B, T, V), targets (B, T) int64 with datasets::kIgnoreTarget
// where nothing is predicted, target_bytes (B, T) int64 or undefined (then one byte per target).
// Returned as a (4) double tensor on the logits' device, [nll_sum, tokens, bytes, correct], so an
// evaluation can sum batches without reading each back to the host.
torch::Tensor token_totals_of_batch(const torch::Tensor& logits, const torch::Tensor& targets,
                                    const torch::Tensor& target_bytes);
TokenTotals token_totals_from(const torch::Tensor& summed);  // reads a (4) tensor back

}  // namespace attnlab::metrics
