// Classification metrics over a whole evaluation split, computed in double on the CPU.
//   accuracy   = mean(argmax(logits) == label)   (argmax ties go to the lowest class index)
//   macro-F1   = mean over classes c present in labels or predictions of
//                F1_c = 2 P_c R_c / (P_c + R_c),  P_c = TP/(TP+FP), R_c = TP/(TP+FN),
//                where a zero denominator makes P_c, R_c or F1_c 0 (sklearn's zero_division=0);
//                a class with no true and no predicted example has no F1 and is skipped, as
//                sklearn's f1_score(average="macro") does with its default labels.
//   AUROC      = U / (n_pos n_neg), U = (sum of the positives' ranks) - n_pos (n_pos + 1) / 2,
//                ranks 1-based over ascending scores, tied scores sharing their average rank
//                (Mann-Whitney U; equals the probability that a random positive outscores a
//                random negative, ties counting 1/2).
#include "framework/metrics/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace attnlab::metrics {
namespace {

void check_logits_and_labels(const torch::Tensor& logits, const torch::Tensor& labels,
                             const char* who) {
  TORCH_CHECK(logits.dim() == 2, who, ": logits must be (N, C), got ", logits.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0), who,
              ": labels must be (N) with N = ", logits.size(0), ", got ", labels.sizes());
  TORCH_CHECK(logits.size(0) > 0, who, ": empty evaluation set");
  TORCH_CHECK(!c10::isFloatingType(labels.scalar_type()), who, ": labels must be integers");
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  TORCH_CHECK(lo >= 0 && hi < logits.size(1), who, ": labels must be in [0, ", logits.size(1),
              "), got values in [", lo, ", ", hi, "]");
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<int64_t> to_int64s(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  check_logits_and_labels(logits, labels, "accuracy");
  const auto predictions = logits.detach().argmax(1);
  return predictions.eq(labels.to(predictions.device(), torch::kLong))
      .to(torch::kDouble)
      .mean()
      .item<double>();
}

double macro_f1(const torch::Tensor& logits, const torch::Tensor& labels) {
  check_logits_and_labels(logits, labels, "macro_f1");
  const int64_t classes = logits.size(1);
  const auto predicted = to_int64s(logits.detach().argmax(1));
  const auto truth = to_int64s(labels);
  std::vector<int64_t> tp(classes, 0), fp(classes, 0), fn(classes, 0);
  for (size_t i = 0; i < truth.size(); ++i) {
    if (predicted[i] == truth[i]) {
      ++tp[truth[i]];
    } else {
      ++fp[predicted[i]];
      ++fn[truth[i]];
    }
  }
  double sum = 0.0;
  int64_t counted = 0;
  for (int64_t c = 0; c < classes; ++c) {
    if (tp[c] + fp[c] + fn[c] == 0) continue;  // neither true nor predicted anywhere
    // 2PR/(P+R) simplifies to 2TP/(2TP+FP+FN), which is 0 exactly when P or R is 0 by the
    // zero-denominator convention above, and never divides by zero here.
    sum += 2.0 * tp[c] / static_cast<double>(2 * tp[c] + fp[c] + fn[c]);
    ++counted;
  }
  return sum / static_cast<double>(counted);  // counted >= 1: N > 0 gives at least one class
}

std::optional<double> binary_auroc(const torch::Tensor& logits, const torch::Tensor& labels) {
  check_logits_and_labels(logits, labels, "binary_auroc");
  TORCH_CHECK(logits.size(1) == 2, "binary_auroc: needs 2 classes, got ", logits.size(1));
  // softmax(z)[1] = sigmoid(z1 - z0) is increasing in z1 - z0, and AUROC depends only on the
  // order of scores, so the logit margin gives the same value without the float saturation of
  // the probability (which would turn confident but different scores into ties).
  const auto z = logits.detach().to(torch::kDouble);
  return auroc_from_scores(z.select(1, 1) - z.select(1, 0), labels);
}

std::optional<double> auroc_from_scores(const torch::Tensor& scores, const torch::Tensor& labels) {
  TORCH_CHECK(scores.dim() == 1 && labels.dim() == 1 && scores.size(0) == labels.size(0),
              "auroc_from_scores: scores and labels must be (N), got ", scores.sizes(), " and ",
              labels.sizes());
  TORCH_CHECK(!c10::isFloatingType(labels.scalar_type()), "auroc_from_scores: labels must be integers");
  const auto s = to_doubles(scores);
  const auto y = to_int64s(labels);
  int64_t positives = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    TORCH_CHECK(y[i] == 0 || y[i] == 1, "auroc_from_scores: labels must be 0 or 1, got ", y[i]);
    TORCH_CHECK(!std::isnan(s[i]), "auroc_from_scores: score ", i, " is NaN");
    positives += y[i];
  }
  const int64_t negatives = static_cast<int64_t>(y.size()) - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;

  std::vector<size_t> order(s.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] < s[b]; });
  double positive_rank_sum = 0.0;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    int64_t tied_positives = 0;
    while (end < order.size() && s[order[end]] == s[order[begin]]) tied_positives += y[order[end++]];
    // Ranks begin+1 .. end share their mean.
    const double average_rank = 0.5 * static_cast<double>(begin + 1 + end);
    positive_rank_sum += average_rank * static_cast<double>(tied_positives);
    begin = end;
  }
  const double p = static_cast<double>(positives), n = static_cast<double>(negatives);
  const double u = positive_rank_sum - p * (p + 1.0) / 2.0;
  return u / (p * n);
}

}  // namespace attnlab::metrics
