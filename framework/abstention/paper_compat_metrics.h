// The metrics exactly as vlm-uncertainty computes them (notes §1.4 for the RL method, "ours", from
// utils/metrics.py; §1.5 for the LAC/APS baselines, from baseline_evaluate.py). These reproduce the
// paper's tables; they are NOT comparable across the two flavours and several are biased (see the
// quirks below). Use set_metrics.h / selective_metrics.h (clean mode) for honest comparisons.
//
// Per test item i with probabilities p, label y, set S (the MethodOutput row), top(S) = the member
// with the largest p (lowest index on ties, Python's max over the list in class order):
//   partial-credit accuracy: 1 if top(S) = y; 1/|S| if y in S otherwise; else 0 (single: 1[pred = y]).
//
// flavour ours (§1.4; decisions single / set / abstain):
//   accuracy  = mean over all N of the partial credit, an abstention counting 1 (as correct!);
//   coverage  = mean over all N of 1[y in S], an abstention counting 1 (as covered!);
//   set_size  = mean over all N of |S|, an abstention counting 7 = len("abstain") (the code's bug);
//   uacc      = accuracy·sqrt(K)/set_size (0 when set_size = 0). The paper has K = 6 options
//               always; here K = the number of classes (test_probs.size(1)), equal to 6 on its data;
//   auroc     = roc_auc_score(correct, conf), positive = correct, with abstain -> (conf 1.0, correct),
//               single -> (p_pred, pred = y), set -> (0.7·max_S p + 0.3·p_y·1[y in S], y in S):
//               the set confidence uses the TRUE LABEL (leaks it). 0.5 when only one class is present
//               or the confidence is constant. Ties count 1/2 (Mann-Whitney, = auroc_correct).
//   auarc     = paper_auarc with abstain -> (1.0, 1), single -> (p_pred, pred = y),
//               set -> (max_S p, y in S);
//   ece       = paper_ece over the NON-abstained items only: single -> (p_pred, pred = y),
//               set -> (sum_{y' in S} p_y' (the set's mass), y in S); 0 when all abstain.
// flavour baseline (§1.5; every row is a set, an abstain decision throws):
//   accuracy  = mean partial credit; coverage = mean 1[y in S]; set_size = mean |S|; uacc as above;
//   auroc     = (max_S p, y in S), same 0.5 rules;
//   auarc     = paper_auarc with correctness MULTIPLIED by the confidence (1[y in S]·max_S p), so the
//               baseline AUARC is deflated relative to ours;
//   ece       = paper_ece over all N with (max_S p, y in S) (not the set mass).
// An empty set (possible only with EmptySetPolicy::allow_empty; the paper always falls back to the
// top-1) gets confidence 0 and counts as wrong and uncovered; the Python code would fail on max([]).
//
// paper_auarc(conf, c): order = stable ascending sort of conf, reversed (descending; numpy's default
//   argsort is not stable for n > 16, so ties with mixed correctness may be ordered differently
//   there); mean_acc[i] = (sum of c over the first i+1)/(i+1); x = linspace(0, 1, N) built as numpy
//   does (i·(1/(N-1)), last = 1); trapezoid sum (sklearn.metrics.auc). NaN for N < 2 (sklearn raises).
//   Differs from selective_metrics' auarc: no tie grouping, trapezoid over linspace instead of the mean.
// paper_ece(conf, c, bins): edges = linspace(0, 1, bins+1) as numpy builds it (b·(1/bins), last = 1);
//   bin = np.digitize(conf, edges, right=True) = #edges strictly below conf, so bin b holds
//   (edges[b-1], edges[b]]; bins 1..bins are summed; conf == 0 (bin 0) and conf > 1 (bin bins+1,
//   e.g. a set mass of 1 + 1e-16) are dropped from the numerator but stay in N:
//   ECE = sum_b |mean conf_b - mean c_b|·n_b/N. 0 for no items. Differs from calibration_error,
//   which puts conf == 0 in the first bin.
// Bad input (shapes, labels, decisions count, a single row without exactly one label) throws
// std::invalid_argument naming the function and the argument.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "framework/abstention/method_output.h"

namespace attnlab::abstention {

enum class PaperCompatFlavor { ours, baseline };

// len("abstain"): what the paper's set-size average adds for an abstention.
inline constexpr double kPaperAbstainSetSize = 7.0;

struct PaperCompatMetrics {
  double accuracy = 0.0;
  double coverage = 0.0;
  double set_size = 0.0;
  double uacc = 0.0;
  double auroc = 0.5;
  double auarc = 0.0;
  double ece = 0.0;
  double single_rate = 0.0;  // prediction_distribution, from the decisions
  double set_rate = 0.0;
  double abstain_rate = 0.0;
};

PaperCompatMetrics paper_compat_metrics(const MethodOutput& output, const torch::Tensor& test_probs,
                                        const torch::Tensor& labels, PaperCompatFlavor flavor);

// The pieces, on per-item vectors (same non-zero length; confidences finite).
double paper_auroc(const std::vector<double>& confidence, const std::vector<bool>& correct);
double paper_auarc(const std::vector<double>& confidence, const std::vector<double>& correctness);
// np.digitize(confidence, linspace(0, 1, bins + 1), right=True): 0 .. bins + 1.
int64_t paper_ece_bin(double confidence, int64_t bins);
double paper_ece(const std::vector<double>& confidence, const std::vector<double>& correctness,
                 int64_t bins = 15);

}  // namespace attnlab::abstention
