// Interpretability metrics for attention (notes attention_regularizers.md §1.7, §2.3): agreement of
// attention with gradient importance (Pearson r, Kendall tau-b, per instance) and with a binary
// token rationale (AUPRC, average precision, ROC-AUC, per document, as the ERASER scorer computes
// them with sklearn). One instance's vectors are plain std::vector<double> over its real tokens.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <vector>

namespace attnlab::metrics {

// Pearson correlation; nullopt when either vector is constant (undefined) or sizes differ / < 2.
std::optional<double> pearson(const std::vector<double>& a, const std::vector<double>& b);
// Kendall's tau-b (scipy.stats.kendalltau's default: ties in either vector reduce the
// denominator); nullopt when either vector is constant or sizes differ / < 2.
std::optional<double> kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

// Against a binary truth (1 = rationale token). nullopt when the truth is all 0 or all 1: ERASER
// skips such documents.
// Area under sklearn's precision_recall_curve (every distinct score a threshold, then the point
// recall 0 / precision 1), by the trapezoid rule over recall: sklearn.metrics.auc(recall, precision).
std::optional<double> token_auprc(const std::vector<double>& scores, const std::vector<int>& truth);
// sklearn's average_precision_score: sum over thresholds of (R_k - R_{k-1}) * P_k.
std::optional<double> average_precision(const std::vector<double>& scores, const std::vector<int>& truth);
// ROC-AUC with ties counted 1/2 (Mann-Whitney U).
std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<int>& truth);

// Gradient-times-input importance of one instance (Jain & Wallace's XxE): imp_t = |sum_d g_td e_td|
// over the real tokens (valid (T) bool), normalised to sum to 1 (all zeros stay zero). grad and
// embeddings (T, D); the caller computes grad with the attention weights detached.
std::vector<double> gradient_importance(const torch::Tensor& grad, const torch::Tensor& embeddings,
                                        const torch::Tensor& valid);

// Mean and count of the defined values of per-instance scores (undefined ones are counted apart).
struct InstanceSummary {
  double mean = 0.0;
  int64_t counted = 0;
  int64_t skipped = 0;
};
InstanceSummary summarize(const std::vector<std::optional<double>>& values);

}  // namespace attnlab::metrics
