#include "framework/abstention/method_metrics.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_output(const MethodOutput& output, const torch::Tensor& probs, const torch::Tensor& labels) {
  check_probs(probs, "method_metrics");
  check_labels(labels, probs.size(0), probs.size(1), "method_metrics");
  if (!output.sets.defined() || output.sets.sizes() != probs.sizes() || output.sets.scalar_type() != torch::kBool) {
    throw std::invalid_argument("method_metrics: " + output.method + ": sets must be (M, K) bool like the probabilities");
  }
  if (static_cast<int64_t>(output.decisions.size()) != probs.size(0)) {
    throw std::invalid_argument("method_metrics: " + output.method + ": one decision per item is needed");
  }
}

}  // namespace

std::vector<double> max_probability(const torch::Tensor& probs) {
  const torch::Tensor m = std::get<0>(probs.to(torch::kFloat64).max(1)).contiguous();
  return std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
}

std::vector<bool> top1_correct(const torch::Tensor& probs, const torch::Tensor& labels) {
  // argmax returns the first maximal index on CPU, the documented tie rule.
  const torch::Tensor hit = probs.argmax(1).eq(labels.to(torch::kLong)).contiguous();
  return std::vector<bool>(hit.data_ptr<bool>(), hit.data_ptr<bool>() + hit.numel());
}

MethodMetrics method_metrics(const MethodOutput& output, const torch::Tensor& probs, const torch::Tensor& labels,
                             double penalty_c) {
  check_output(output, probs, labels);
  const int64_t m = probs.size(0);
  const torch::Tensor p = probs.to(torch::kFloat64).contiguous();
  const torch::Tensor sets = output.sets.contiguous();
  const torch::Tensor y = labels.to(torch::kLong).contiguous();
  // top(C): the most probable member; -1 for an empty set.
  const torch::Tensor masked = p.masked_fill(sets.logical_not(), -1.0);
  const torch::Tensor top = torch::where(sets.any(1), masked.argmax(1), torch::full({m}, -1, torch::kLong)).contiguous();
  const torch::Tensor sizes = sets.sum(1).to(torch::kLong).contiguous();
  const torch::Tensor covered = sets.gather(1, y.view({-1, 1})).squeeze(1).contiguous();

  MethodMetrics r;
  r.items = m;
  r.set_size_counts.assign(static_cast<size_t>(sets.size(1)) + 1, 0);
  int64_t answered = 0, hits = 0, correct = 0, wrong = 0, size_total = 0, singletons = 0, empties = 0;
  for (int64_t i = 0; i < m; ++i) {
    if (output.decisions[static_cast<size_t>(i)] == Decision::abstain) continue;
    ++answered;
    hits += covered.data_ptr<bool>()[i];
    const int64_t s = sizes.data_ptr<int64_t>()[i];
    size_total += s;
    ++r.set_size_counts[static_cast<size_t>(s)];
    singletons += s == 1;
    empties += s == 0;
    (top.data_ptr<int64_t>()[i] == y.data_ptr<int64_t>()[i] ? correct : wrong) += 1;
  }
  r.answer_rate = double(answered) / m;
  r.abstention_rate = 1.0 - r.answer_rate;
  r.coverage_all = double(hits) / m;
  const double a = static_cast<double>(answered);
  r.coverage = answered ? hits / a : kNaN;
  r.average_set_size = answered ? size_total / a : kNaN;
  r.singleton_rate = answered ? singletons / a : kNaN;
  r.empty_rate = answered ? empties / a : kNaN;
  r.accuracy = answered ? correct / a : kNaN;
  r.selective_risk = answered ? 1.0 - r.accuracy : kNaN;
  r.penalty_score = 100.0 * (double(correct) - penalty_c * double(wrong)) / double(m);
  return r;
}

ModelMetrics model_metrics(const torch::Tensor& probs, const torch::Tensor& labels, double penalty_c) {
  check_probs(probs, "model_metrics");
  check_labels(labels, probs.size(0), probs.size(1), "model_metrics");
  const std::vector<double> kappa = max_probability(probs);
  const std::vector<bool> correct = top1_correct(probs, labels);
  ModelMetrics r;
  r.items = probs.size(0);
  int64_t n_correct = 0;
  for (bool c : correct) n_correct += c;
  r.accuracy = double(n_correct) / double(r.items);
  r.aurc = aurc(kappa, correct);
  r.eaurc = eaurc(kappa, correct);
  r.auarc = auarc(kappa, correct);
  r.auroc = auroc_correct(kappa, correct);
  r.calibration = calibration_error(kappa, correct, 15);
  r.risk_coverage = risk_coverage_curve(kappa, correct);
  r.penalty_c = penalty_c;
  r.best_penalty = optimal_penalty_threshold(kappa, correct, penalty_c);
  r.chow_threshold = chow_threshold(penalty_c);
  std::vector<bool> answered(kappa.size());
  for (size_t i = 0; i < kappa.size(); ++i) answered[i] = kappa[i] > r.chow_threshold;
  r.chow_penalty_score = penalty_score(correct, answered, penalty_c);
  return r;
}

}  // namespace attnlab::abstention
