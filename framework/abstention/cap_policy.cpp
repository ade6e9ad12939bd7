#include "framework/abstention/cap_policy.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

void check_quantiles(const CapQuantiles& q, const std::string& where) {
  if (std::isnan(q.q_predict) || std::isnan(q.q_abstain))
    throw std::invalid_argument(where + ": quantiles must not be NaN");
}

void check_slope(double slope, const std::string& where) {
  if (!(slope > 0.0) || !std::isfinite(slope))
    throw std::invalid_argument(where + ": slope must be finite and > 0");
}

}  // namespace

CapQuantiles cap_calibrate(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                           const CapThresholds& thresholds, QuantileMode mode) {
  if (cal_probs.defined() && cal_probs.dim() == 2 && cal_probs.size(0) == 0)
    throw std::invalid_argument("cap_calibrate: empty calibration set");
  check_probs(cal_probs, "cap_calibrate");
  check_labels(cal_labels, cal_probs.size(0), cal_probs.size(1), "cap_calibrate");
  check_alpha(thresholds.alpha, "cap_calibrate (thresholds.alpha)");
  check_alpha(thresholds.beta, "cap_calibrate (thresholds.beta)");
  const auto p = cal_probs.to(torch::kFloat64);
  const auto p_true = p.gather(1, cal_labels.to(torch::kLong).unsqueeze(1)).squeeze(1).contiguous();
  std::vector<double> scores(static_cast<size_t>(p_true.numel()));
  const double* pt = p_true.data_ptr<double>();
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = 1.0 - pt[i];
  return {conformal_quantile(scores, thresholds.alpha, mode),
          conformal_quantile(scores, thresholds.beta, mode)};
}

torch::Tensor cap_action_probabilities(const torch::Tensor& test_probs, const CapQuantiles& quantiles,
                                       double slope) {
  check_probs(test_probs, "cap_action_probabilities");
  check_quantiles(quantiles, "cap_action_probabilities");
  check_slope(slope, "cap_action_probabilities");
  const auto p_max = std::get<0>(test_probs.to(torch::kFloat64).max(1)).contiguous();
  const int64_t m = p_max.size(0);
  auto out = torch::empty({m, 3}, torch::kFloat64);
  const double* pm = p_max.data_ptr<double>();
  double* a = out.data_ptr<double>();
  for (int64_t i = 0; i < m; ++i) {
    const double s = 1.0 - pm[i];
    double row[3];
    row[0] = sigmoid(-slope * (s - quantiles.q_predict));
    row[2] = sigmoid(slope * (s - quantiles.q_abstain));
    row[1] = std::max(0.0, 1.0 - row[0] - row[2]);
    bool finite = true;
    double sum = 0.0;
    for (double& v : row) {
      v = std::max(v, 1e-6);  // std::max keeps a NaN first argument; checked next
      finite = finite && std::isfinite(v);
      sum += v;
    }
    if (!finite) {
      row[0] = 0.4, row[1] = 0.2, row[2] = 0.4;
      sum = 1.0;
    }
    for (int j = 0; j < 3; ++j) a[i * 3 + j] = row[j] / sum;
  }
  return out;
}

CapResult cap_predict(const torch::Tensor& test_probs, const CapQuantiles& quantiles,
                      const CapOptions& options) {
  check_probs(test_probs, "cap_predict");
  check_quantiles(quantiles, "cap_predict");
  CapResult result;
  result.quantiles = quantiles;
  result.action_probs = cap_action_probabilities(test_probs, quantiles, options.slope);
  const auto p = test_probs.to(torch::kFloat64).contiguous();
  const int64_t m = p.size(0), k = p.size(1);
  const double* pp = p.data_ptr<double>();
  const double* ap = result.action_probs.data_ptr<double>();
  const double predict_cut = 1.0 - quantiles.q_predict;
  const double abstain_cut = 1.0 - quantiles.q_abstain;  // also the LAC set's cut at 1-beta
  auto sets = torch::zeros({m, k}, torch::kBool);
  auto* st = sets.data_ptr<bool>();
  result.output.method = "abstention_cp";
  result.output.decisions.resize(static_cast<size_t>(m));
  std::mt19937_64 engine(options.seed);
  for (int64_t i = 0; i < m; ++i) {
    const double* row = pp + i * k;
    int64_t top = 0;
    for (int64_t y = 1; y < k; ++y)
      if (row[y] > row[top]) top = y;  // first maximum
    Decision d;
    if (options.mode == CapDecisionMode::hard) {
      if (row[top] > predict_cut) d = Decision::single;
      else if (row[top] < abstain_cut) d = Decision::abstain;
      else d = Decision::set;
    } else {
      const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
      const double* a = ap + i * 3;
      d = u < a[0] ? Decision::single : u < a[0] + a[1] ? Decision::set : Decision::abstain;
    }
    result.output.decisions[static_cast<size_t>(i)] = d;
    bool* out = st + i * k;
    if (d == Decision::single) {
      out[top] = true;
    } else if (d == Decision::set) {
      bool any = false;
      for (int64_t y = 0; y < k; ++y)
        if (row[y] >= abstain_cut) out[y] = any = true;
      if (!any) out[top] = true;
    }
  }
  result.output.sets = sets;
  return result;
}

CapResult abstention_cp(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                        const torch::Tensor& test_probs, const CapThresholds& thresholds,
                        const CapOptions& options) {
  if (test_probs.defined() && cal_probs.defined() && test_probs.dim() == 2 && cal_probs.dim() == 2 &&
      test_probs.size(1) != cal_probs.size(1))
    throw std::invalid_argument("abstention_cp: test_probs have " + std::to_string(test_probs.size(1)) +
                                " classes, cal_probs " + std::to_string(cal_probs.size(1)));
  return cap_predict(test_probs, cap_calibrate(cal_probs, cal_labels, thresholds, options.quantile_mode),
                     options);
}

CapSummary cap_summary(const MethodOutput& output, const torch::Tensor& labels) {
  const auto& sets = output.sets;
  if (!sets.defined() || sets.dim() != 2 || sets.scalar_type() != torch::kBool)
    throw std::invalid_argument("cap_summary: output.sets must be a 2-D (M, K) bool tensor");
  const int64_t m = sets.size(0), k = sets.size(1);
  if (m == 0) throw std::invalid_argument("cap_summary: no test items");
  if (static_cast<int64_t>(output.decisions.size()) != m)
    throw std::invalid_argument("cap_summary: " + std::to_string(output.decisions.size()) +
                                " decisions for " + std::to_string(m) + " set rows");
  check_labels(labels, m, k, "cap_summary");
  const auto s = sets.contiguous();
  const auto y = labels.to(torch::kLong).contiguous();
  const bool* st = s.data_ptr<bool>();
  const int64_t* yl = y.data_ptr<int64_t>();
  double n_single = 0, n_set = 0, n_abstain = 0, right = 0, size_sum = 0;
  for (int64_t i = 0; i < m; ++i) {
    const bool* row = st + i * k;
    const bool covered = row[yl[i]];
    switch (output.decisions[static_cast<size_t>(i)]) {
      case Decision::single:
        n_single += 1;
        right += covered ? 1.0 : 0.0;  // the single row holds the one predicted label
        break;
      case Decision::set:
        n_set += 1;
        right += covered ? 1.0 : 0.0;
        for (int64_t c = 0; c < k; ++c) size_sum += row[c] ? 1.0 : 0.0;
        break;
      case Decision::abstain:
        n_abstain += 1;
        break;
    }
  }
  const double n = static_cast<double>(m);
  CapSummary summary;
  const double answered = n_single + n_set;
  summary.accuracy = answered > 0 ? right / answered : 0.0;
  summary.abstention_rate = n_abstain / n;
  summary.avg_set_size = n_set > 0 ? size_sum / n_set : 0.0;
  summary.single_fraction = n_single / n;
  summary.set_fraction = n_set / n;
  summary.abstain_fraction = n_abstain / n;
  return summary;
}

double cap_cost(const CapSummary& summary, const CapRewardWeights& w) {
  double entropy = 0.0;
  for (double pi : {summary.single_fraction, summary.set_fraction, summary.abstain_fraction})
    if (pi > 0.0) entropy -= pi * std::log(pi + w.entropy_eps);  // 0·ln 0 = 0
  return (1.0 - summary.accuracy) + w.lambda1 * summary.avg_set_size +
         w.lambda2 * summary.abstention_rate - w.lambda3 * (1.0 - summary.abstention_rate) -
         w.lambda4 * entropy + w.lambda5 * std::max(0.0, summary.single_fraction - w.single_cap);
}

double cap_reward(const CapSummary& summary, const CapRewardWeights& weights) {
  return -cap_cost(summary, weights);
}

}  // namespace attnlab::abstention
