// Classification metrics over a whole evaluation split: accuracy, macro-F1 (mean over classes of
// per-class F1; a class absent from both labels and predictions is skipped, as in sklearn; a
// precision or recall with a zero denominator counts as 0, sklearn's zero_division=0), and binary
// AUROC (Mann-Whitney U with ties counted as 1/2; positive class 1, score = softmax probability of
// class 1, ranked through the equivalent logit margin z1 - z0, which does not saturate).
// Malformed inputs (shapes, labels outside [0, C), an empty split, NaN scores) fail TORCH_CHECK.
#pragma once

#include <torch/torch.h>

#include <optional>

namespace attnlab::metrics {

// logits (N, C) float, labels (N) int64.
double accuracy(const torch::Tensor& logits, const torch::Tensor& labels);
double macro_f1(const torch::Tensor& logits, const torch::Tensor& labels);
// Only for C == 2; nullopt when one class is absent from labels (AUROC undefined).
std::optional<double> binary_auroc(const torch::Tensor& logits, const torch::Tensor& labels);
// From scores directly (higher = more positive), labels in {0,1}.
std::optional<double> auroc_from_scores(const torch::Tensor& scores, const torch::Tensor& labels);

}  // namespace attnlab::metrics
