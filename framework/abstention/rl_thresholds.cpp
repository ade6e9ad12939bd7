#include "framework/abstention/rl_thresholds.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

#include "framework/abstention/check.h"

namespace attnlab::abstention {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void check_bounds(double lo, double hi, double init, const std::string& where, const std::string& name) {
  if (!(lo > 0.0 && lo <= hi && hi < 1.0))
    throw std::invalid_argument(where + ": " + name + " bounds must satisfy 0 < min <= max < 1");
  if (!(init >= lo && init <= hi))
    throw std::invalid_argument(where + ": init." + name + " must lie inside [" + name + "_min, " + name +
                                "_max]");
}

void check_options(const RlThresholdOptions& o, const std::string& where) {
  check_bounds(o.alpha_min, o.alpha_max, o.init.alpha, where, "alpha");
  check_bounds(o.beta_min, o.beta_max, o.init.beta, where, "beta");
  if (o.epochs < 1) throw std::invalid_argument(where + ": epochs must be >= 1");
  if (o.hidden < 1) throw std::invalid_argument(where + ": hidden must be >= 1");
  if (!(o.learning_rate >= 0.0) || !std::isfinite(o.learning_rate))
    throw std::invalid_argument(where + ": learning_rate must be finite and >= 0");
  if (!(o.adjustment_scale >= 0.0) || !std::isfinite(o.adjustment_scale))
    throw std::invalid_argument(where + ": adjustment_scale must be finite and >= 0");
  if (!(o.slope > 0.0) || !std::isfinite(o.slope))
    throw std::invalid_argument(where + ": slope must be finite and > 0");
}

void check_calibration(const torch::Tensor& probs, const torch::Tensor& labels, const std::string& where) {
  if (probs.defined() && probs.dim() == 2 && probs.size(0) == 0)
    throw std::invalid_argument(where + ": empty calibration set");
  check_probs(probs, where + " (cal_probs)");
  check_labels(labels, probs.size(0), probs.size(1), where + " (cal_labels)");
}

// LAC calibration scores 1 - p_y.
std::vector<double> lac_scores(const torch::Tensor& probs, const torch::Tensor& labels) {
  const auto p_true =
      probs.to(torch::kFloat64).gather(1, labels.to(torch::kLong).unsqueeze(1)).squeeze(1).contiguous();
  std::vector<double> scores(static_cast<size_t>(p_true.numel()));
  const double* pt = p_true.data_ptr<double>();
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = 1.0 - pt[i];
  return scores;
}

CapQuantiles quantiles_at(const std::vector<double>& scores, const CapThresholds& t, QuantileMode mode) {
  return {conformal_quantile(scores, t.alpha, mode), conformal_quantile(scores, t.beta, mode)};
}

// The REINFORCE loop shared by both variants. episode(thresholds, epoch) returns the reward.
RlThresholdResult reinforce(const RlThresholdOptions& o, const std::vector<double>& features,
                            bool use_baseline, double momentum,
                            const std::function<double(const CapThresholds&, int64_t)>& episode) {
  RlThresholdResult r;
  const auto state_dim = static_cast<int64_t>(2 + features.size());
  r.policy = make_threshold_policy(state_dim, o.hidden, o.seed);
  torch::optim::Adam optimizer(r.policy->parameters(), torch::optim::AdamOptions(o.learning_rate));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(splitmix64(o.seed ^ 1ULL));
  CapThresholds current = o.init;
  double baseline = 0.0;
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    std::vector<double> state_values = {current.alpha, current.beta};
    state_values.insert(state_values.end(), features.begin(), features.end());
    const auto state = torch::tensor(state_values, torch::kFloat64);
    const auto sample = sample_threshold_action(r.policy, state, generator);
    const CapThresholds next = apply_threshold_action(current, sample.delta, o);
    const double reward = episode(next, epoch);
    double advantage = reward;
    if (use_baseline) {
      if (epoch == 0) baseline = reward;
      advantage = reward - baseline;
      baseline = momentum * baseline + (1.0 - momentum) * reward;
    }
    reinforce_step(optimizer, sample.log_prob, advantage);
    r.rewards.push_back(reward);
    r.trajectory.push_back(next);
    const auto d = sample.delta.contiguous();
    r.deltas.push_back({d.data_ptr<double>()[0], d.data_ptr<double>()[1]});
    if (epoch == 0 || reward > r.best_reward) {
      r.best_reward = reward;
      r.best = next;
    }
    current = next;
  }
  r.last = current;
  return r;
}

}  // namespace

ThresholdPolicyImpl::ThresholdPolicyImpl(int64_t state_dim, int64_t hidden) {
  if (state_dim < 1 || hidden < 1)
    throw std::invalid_argument("ThresholdPolicy: state_dim and hidden must be >= 1");
  fc = register_module("fc", torch::nn::Linear(state_dim, hidden));
  mean_head = register_module("mean_head", torch::nn::Linear(hidden, 2));
  log_std_head = register_module("log_std_head", torch::nn::Linear(hidden, 2));
}

std::pair<torch::Tensor, torch::Tensor> ThresholdPolicyImpl::forward(const torch::Tensor& state) {
  const auto h = torch::relu(fc->forward(state));
  return {mean_head->forward(h), torch::exp(log_std_head->forward(h))};
}

ThresholdPolicy make_threshold_policy(int64_t state_dim, int64_t hidden, uint64_t seed) {
  // torch::nn::Linear initialises itself from the global generator; keep that generator's state
  // unchanged, then overwrite every parameter from our own generator.
  auto global = at::detail::getDefaultCPUGenerator();
  torch::Tensor saved;
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    saved = global.get_state();
  }
  ThresholdPolicy policy(state_dim, hidden);
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    global.set_state(saved);
  }
  policy->to(torch::kFloat64);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto* layer : {&policy->fc, &policy->mean_head, &policy->log_std_head}) {
    const double bound = 1.0 / std::sqrt(static_cast<double>((*layer)->options.in_features()));
    (*layer)->weight.uniform_(-bound, bound, generator);
    (*layer)->bias.uniform_(-bound, bound, generator);
  }
  return policy;
}

torch::Tensor threshold_action_log_prob(ThresholdPolicy& policy, const torch::Tensor& state,
                                        const torch::Tensor& delta) {
  if (!state.defined() || state.dim() != 1 || state.size(0) != policy->fc->options.in_features())
    throw std::invalid_argument("threshold_action_log_prob: state must be 1-D of the policy's state_dim");
  if (!delta.defined() || delta.dim() != 1 || delta.size(0) != 2)
    throw std::invalid_argument("threshold_action_log_prob: delta must be 1-D of size 2");
  const auto [mean, sd] = policy->forward(state.to(torch::kFloat64));
  const auto z = (delta.to(torch::kFloat64) - mean) / sd;
  const double log_sqrt_2pi = 0.5 * std::log(2.0 * 3.14159265358979323846);
  return (-0.5 * z * z - torch::log(sd) - log_sqrt_2pi).sum();
}

PolicySample sample_threshold_action(ThresholdPolicy& policy, const torch::Tensor& state,
                                     at::Generator& generator) {
  if (!state.defined() || state.dim() != 1 || state.size(0) != policy->fc->options.in_features())
    throw std::invalid_argument("sample_threshold_action: state must be 1-D of the policy's state_dim");
  PolicySample sample;
  {
    torch::NoGradGuard no_grad;
    const auto [mean, sd] = policy->forward(state.to(torch::kFloat64));
    const auto noise = torch::randn({2}, generator, torch::kFloat64);
    sample.delta = (mean + sd * noise).detach();
  }
  sample.log_prob = threshold_action_log_prob(policy, state, sample.delta);
  return sample;
}

void reinforce_step(torch::optim::Optimizer& optimizer, const torch::Tensor& log_prob, double advantage) {
  if (!log_prob.defined() || log_prob.numel() != 1 || !log_prob.requires_grad())
    throw std::invalid_argument("reinforce_step: log_prob must be a differentiable scalar");
  if (!std::isfinite(advantage)) throw std::invalid_argument("reinforce_step: advantage is NaN or infinite");
  optimizer.zero_grad();
  const auto loss = -log_prob.sum() * advantage;
  loss.backward();
  optimizer.step();
}

CapThresholds apply_threshold_action(const CapThresholds& current, const torch::Tensor& delta,
                                     const RlThresholdOptions& options) {
  if (!delta.defined() || delta.numel() != 2)
    throw std::invalid_argument("apply_threshold_action: delta must hold 2 values");
  const auto d = delta.to(torch::kFloat64).contiguous();
  const double* v = d.data_ptr<double>();
  return {std::clamp(current.alpha + options.adjustment_scale * v[0], options.alpha_min, options.alpha_max),
          std::clamp(current.beta + options.adjustment_scale * v[1], options.beta_min, options.beta_max)};
}

RlThresholdResult learn_thresholds_paper(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                                         const torch::Tensor& test_probs, const torch::Tensor& test_labels,
                                         const RlThresholdOptions& options) {
  const std::string where = "learn_thresholds_paper";
  check_options(options, where);
  check_calibration(cal_probs, cal_labels, where);
  check_probs(test_probs, where + " (test_probs)");
  if (test_probs.size(1) != cal_probs.size(1))
    throw std::invalid_argument(where + ": test_probs and cal_probs differ in the number of classes");
  check_labels(test_labels, test_probs.size(0), test_probs.size(1), where + " (test_labels)");
  const auto scores = lac_scores(cal_probs, cal_labels);
  const auto episode = [&](const CapThresholds& t, int64_t epoch) {
    CapOptions cap;
    cap.mode = CapDecisionMode::stochastic;
    cap.slope = options.slope;
    cap.quantile_mode = options.quantile_mode;
    cap.seed = splitmix64(options.seed ^ (0x100ULL + static_cast<uint64_t>(epoch)));
    const auto out = cap_predict(test_probs, quantiles_at(scores, t, options.quantile_mode), cap);
    return cap_reward(cap_summary(out.output, test_labels), options.weights);
  };
  auto result = reinforce(options, {}, /*use_baseline=*/false, 0.0, episode);
  result.thresholds = result.last;
  return result;
}

RlThresholdResult learn_thresholds_sound(const torch::Tensor& cal_probs, const torch::Tensor& cal_labels,
                                         const SoundRlOptions& options) {
  const std::string where = "learn_thresholds_sound";
  check_options(options, where);
  check_calibration(cal_probs, cal_labels, where);
  if (!(options.tuning_fraction > 0.0 && options.tuning_fraction < 1.0))
    throw std::invalid_argument(where + ": tuning_fraction must lie strictly inside (0, 1)");
  if (!(options.baseline_momentum >= 0.0 && options.baseline_momentum < 1.0))
    throw std::invalid_argument(where + ": baseline_momentum must lie in [0, 1)");
  const int64_t n = cal_probs.size(0);
  if (n < 2) throw std::invalid_argument(where + ": need at least 2 calibration items to split");

  // Seeded split: Fisher-Yates, the first n - n_tune rows calibrate, the rest tune.
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 engine(splitmix64(options.seed ^ 2ULL));
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<size_t>(i)],
              order[static_cast<size_t>(engine() % static_cast<uint64_t>(i + 1))]);
  const int64_t n_tune = std::clamp<int64_t>(
      static_cast<int64_t>(std::llround(static_cast<double>(n) * options.tuning_fraction)), 1, n - 1);
  std::vector<int64_t> conformal(order.begin(), order.end() - n_tune);
  std::vector<int64_t> tuning(order.end() - n_tune, order.end());
  std::sort(conformal.begin(), conformal.end());
  std::sort(tuning.begin(), tuning.end());
  const auto pick = [](const torch::Tensor& t, const std::vector<int64_t>& rows) {
    return t.index_select(0, torch::tensor(rows, torch::kLong));
  };
  const auto conf_probs = pick(cal_probs, conformal), conf_labels = pick(cal_labels, conformal);
  const auto tune_probs = pick(cal_probs, tuning), tune_labels = pick(cal_labels, tuning);

  std::vector<double> features;
  if (options.tuning_features) {
    const auto p = tune_probs.to(torch::kFloat64);
    const double k = static_cast<double>(p.size(1));
    const auto plogp = torch::where(p > 0, p * torch::log(p), torch::zeros_like(p));
    const auto entropy = -plogp.sum(1);
    features.push_back(std::get<0>(p.max(1)).mean().item<double>());
    features.push_back(k > 1 ? (entropy / std::log(k)).mean().item<double>() : 0.0);
  }

  const auto scores = lac_scores(conf_probs, conf_labels);
  const auto episode = [&](const CapThresholds& t, int64_t epoch) {
    CapOptions cap;
    cap.mode = options.reward_decisions;
    cap.slope = options.slope;
    cap.quantile_mode = options.quantile_mode;
    cap.seed = splitmix64(options.seed ^ (0x100ULL + static_cast<uint64_t>(epoch)));
    const auto out = cap_predict(tune_probs, quantiles_at(scores, t, options.quantile_mode), cap);
    return cap_reward(cap_summary(out.output, tune_labels), options.weights);
  };
  auto result = reinforce(options, features, /*use_baseline=*/true, options.baseline_momentum, episode);
  result.thresholds = result.best;
  result.conformal_indices = std::move(conformal);
  result.tuning_indices = std::move(tuning);
  return result;
}

}  // namespace attnlab::abstention
