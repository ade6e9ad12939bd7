#include "framework/abstention/paper_compat_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "framework/abstention/check.h"
#include "framework/abstention/selective_metrics.h"

namespace attnlab::abstention {
namespace {

template <typename C>
void check_pairs(const std::vector<double>& confidence, const std::vector<C>& correct,
                 const std::string& where) {
  if (confidence.size() != correct.size())
    throw std::invalid_argument(where + ": " + std::to_string(confidence.size()) + " confidences for " +
                                std::to_string(correct.size()) + " outcomes");
  for (double c : confidence)
    if (!std::isfinite(c)) throw std::invalid_argument(where + ": confidence is NaN or infinite");
}

// numpy.linspace(0, 1, num)[i]: i·(1/(num-1)), the last point exactly 1.
double linspace_point(int64_t i, int64_t num) {
  if (i == num - 1) return 1.0;
  return static_cast<double>(i) * (1.0 / static_cast<double>(num - 1));
}

}  // namespace

double paper_auroc(const std::vector<double>& confidence, const std::vector<bool>& correct) {
  check_pairs(confidence, correct, "paper_auroc");
  if (confidence.empty()) return 0.5;
  const bool constant = std::all_of(confidence.begin(), confidence.end(),
                                    [&](double c) { return c == confidence[0]; });
  const bool one_class = std::all_of(correct.begin(), correct.end(),
                                     [&](bool c) { return c == correct[0]; });
  if (constant || one_class) return 0.5;
  return auroc_correct(confidence, correct);  // sklearn's roc_auc_score: Mann-Whitney, ties 1/2
}

double paper_auarc(const std::vector<double>& confidence, const std::vector<double>& correctness) {
  check_pairs(confidence, correctness, "paper_auarc");
  const auto n = static_cast<int64_t>(confidence.size());
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  std::vector<size_t> order(confidence.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return confidence[a] < confidence[b]; });
  std::reverse(order.begin(), order.end());  // sorted_correctness[::-1]
  std::vector<double> mean_acc(order.size());
  double cum = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    cum += correctness[order[i]];
    mean_acc[i] = cum / static_cast<double>(i + 1);
  }
  double area = 0.0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const double dx = linspace_point(i + 1, n) - linspace_point(i, n);
    area += dx * (mean_acc[static_cast<size_t>(i)] + mean_acc[static_cast<size_t>(i + 1)]) / 2.0;
  }
  return area;
}

int64_t paper_ece_bin(double confidence, int64_t bins) {
  if (bins < 1) throw std::invalid_argument("paper_ece_bin: need at least one bin");
  if (std::isnan(confidence)) throw std::invalid_argument("paper_ece_bin: confidence is NaN");
  int64_t below = 0;  // searchsorted(edges, conf, side="left")
  for (int64_t b = 0; b <= bins; ++b)
    if (linspace_point(b, bins + 1) < confidence) ++below;
  return below;
}

double paper_ece(const std::vector<double>& confidence, const std::vector<double>& correctness,
                 int64_t bins) {
  check_pairs(confidence, correctness, "paper_ece");
  if (bins < 1) throw std::invalid_argument("paper_ece: need at least one bin");
  if (confidence.empty()) return 0.0;
  std::vector<double> count(static_cast<size_t>(bins + 2), 0.0), conf_sum(count), right(count);
  for (size_t i = 0; i < confidence.size(); ++i) {
    const auto b = static_cast<size_t>(paper_ece_bin(confidence[i], bins));
    count[b] += 1;
    conf_sum[b] += confidence[i];
    right[b] += correctness[i];
  }
  const double n = static_cast<double>(confidence.size());
  double ece = 0.0;
  for (size_t b = 1; b <= static_cast<size_t>(bins); ++b) {
    if (count[b] == 0) continue;
    ece += std::abs(conf_sum[b] / count[b] - right[b] / count[b]) * (count[b] / n);
  }
  return ece;
}

PaperCompatMetrics paper_compat_metrics(const MethodOutput& output, const torch::Tensor& test_probs,
                                        const torch::Tensor& labels, PaperCompatFlavor flavor) {
  const std::string where = "paper_compat_metrics";
  check_probs(test_probs, where + " (test_probs)");
  const int64_t m = test_probs.size(0), k = test_probs.size(1);
  check_labels(labels, m, k, where);
  const auto& sets = output.sets;
  if (!sets.defined() || sets.dim() != 2 || sets.scalar_type() != torch::kBool || sets.size(0) != m ||
      sets.size(1) != k)
    throw std::invalid_argument(where + ": output.sets must be a bool tensor shaped like test_probs");
  if (static_cast<int64_t>(output.decisions.size()) != m)
    throw std::invalid_argument(where + ": " + std::to_string(output.decisions.size()) +
                                " decisions for " + std::to_string(m) + " items");
  const auto p = test_probs.to(torch::kFloat64).contiguous();
  const auto s = sets.contiguous();
  const auto y = labels.to(torch::kLong).contiguous();
  const double* pp = p.data_ptr<double>();
  const bool* st = s.data_ptr<bool>();
  const int64_t* yl = y.data_ptr<int64_t>();

  PaperCompatMetrics r;
  double acc_sum = 0, cover_sum = 0, size_sum = 0;
  std::vector<double> roc_conf, arc_conf, arc_correct, ece_conf, ece_correct;
  std::vector<bool> roc_correct;
  for (int64_t i = 0; i < m; ++i) {
    const double* prob = pp + i * k;
    const bool* row = st + i * k;
    const int64_t label = yl[i];
    const Decision d = output.decisions[static_cast<size_t>(i)];
    if (d == Decision::single) r.single_rate += 1;
    if (d == Decision::set) r.set_rate += 1;
    if (d == Decision::abstain) {
      if (flavor == PaperCompatFlavor::baseline)
        throw std::invalid_argument(where + ": the baseline flavour has no abstentions (item " +
                                    std::to_string(i) + ")");
      r.abstain_rate += 1;
      acc_sum += 1.0;                    // abstain counted as correct
      cover_sum += 1.0;                  // and as covered
      size_sum += kPaperAbstainSetSize;  // len("abstain")
      roc_conf.push_back(1.0);
      roc_correct.push_back(true);
      arc_conf.push_back(1.0);
      arc_correct.push_back(1.0);
      continue;  // excluded from the ECE
    }
    int64_t size = 0, top = -1;
    double mass = 0.0;
    for (int64_t c = 0; c < k; ++c)
      if (row[c]) {
        ++size;
        mass += prob[c];
        if (top < 0 || prob[c] > prob[top]) top = c;
      }
    if (d == Decision::single && size != 1)
      throw std::invalid_argument(where + ": a single decision needs exactly one label in its set row (item " +
                                  std::to_string(i) + ")");
    const bool covered = row[label];
    const double max_p = top < 0 ? 0.0 : prob[top];
    acc_sum += top == label ? 1.0 : covered ? 1.0 / static_cast<double>(size) : 0.0;
    cover_sum += covered ? 1.0 : 0.0;
    size_sum += static_cast<double>(size);
    if (flavor == PaperCompatFlavor::baseline) {
      roc_conf.push_back(max_p);
      roc_correct.push_back(covered);
      arc_conf.push_back(max_p);
      arc_correct.push_back((covered ? 1.0 : 0.0) * max_p);  // the deflating product
      ece_conf.push_back(max_p);
      ece_correct.push_back(covered ? 1.0 : 0.0);
    } else if (d == Decision::single) {
      roc_conf.push_back(max_p);
      roc_correct.push_back(covered);
      arc_conf.push_back(max_p);
      arc_correct.push_back(covered ? 1.0 : 0.0);
      ece_conf.push_back(max_p);
      ece_correct.push_back(covered ? 1.0 : 0.0);
    } else {
      roc_conf.push_back(0.7 * max_p + 0.3 * (covered ? prob[label] : 0.0));  // leaks the label
      roc_correct.push_back(covered);
      arc_conf.push_back(max_p);
      arc_correct.push_back(covered ? 1.0 : 0.0);
      ece_conf.push_back(mass);  // the set's mass
      ece_correct.push_back(covered ? 1.0 : 0.0);
    }
  }
  const double n = static_cast<double>(m);
  r.accuracy = acc_sum / n;
  r.coverage = cover_sum / n;
  r.set_size = size_sum / n;
  r.uacc = r.set_size > 0 ? r.accuracy * std::sqrt(static_cast<double>(k)) / r.set_size : 0.0;
  r.auroc = paper_auroc(roc_conf, roc_correct);
  r.auarc = paper_auarc(arc_conf, arc_correct);
  r.ece = paper_ece(ece_conf, ece_correct);
  r.single_rate /= n;
  r.set_rate /= n;
  r.abstain_rate /= n;
  return r;
}

}  // namespace attnlab::abstention
