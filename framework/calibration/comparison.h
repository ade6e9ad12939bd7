// The abstention methods of a settings block, fitted on a calibration split and scored side by
// side on a test split: one JSON object and one printed table.
//
// Methods (names as in `abstention.methods`):
//   lac, aps, raps, top_k   split-conformal sets at 1 - alpha (never abstain)
//   dual_threshold          the set of `dual_set_score` plus abstention on `abstention_score`
//                           above a threshold chosen on the calibration split (notes §2)
//   rl_paper                Abstention_CP with (α, β) learned by REINFORCE as published: the
//                           reward is computed on the TEST split (notes §1.3); marked as such
//   rl_sound                the same policy with the reward on a held-out part of the
//                           calibration split; never reads test labels
// Fitting is separate from applying, so a robustness sweep fits once on clean data and applies
// the same thresholds to every corrupted test set.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/abstention/method_metrics.h"
#include "framework/abstention/method_output.h"
#include "framework/calibration/settings.h"

namespace attnlab::calibration {

struct Scored {
  torch::Tensor probs;   // (N, K)
  torch::Tensor labels;  // (N)
};

// One fitted method: applies its thresholds to test probabilities.
class FittedMethod {
 public:
  virtual ~FittedMethod() = default;
  virtual std::string name() const = 0;
  // Thresholds and what the fit measured, for the JSON report.
  virtual nlohmann::json parameters() const = 0;
  // labels: read only by the dual threshold's oracle score (a diagnostic) — never by a rule.
  virtual abstention::MethodOutput apply(const Scored& test, uint64_t seed) const = 0;
  // True when the fit read the test split (rl_paper), so the table can say so.
  virtual bool tuned_on_test() const { return false; }
  // Method-specific measurements on a labelled test split (the dual threshold's detection AUROC).
  virtual nlohmann::json diagnostics(const Scored& /*test*/, uint64_t /*seed*/) const { return nlohmann::json::object(); }
};
using FittedMethods = std::vector<std::unique_ptr<FittedMethod>>;

// `test` is read only by rl_paper, whose published method computes its reward there.
// Throws UserError for an empty calibration split or settings the methods reject.
FittedMethods fit_methods(const Scored& calibration, const Scored& test, const AbstentionSettings& settings);

struct MethodReport {
  std::string name;
  bool tuned_on_test = false;
  nlohmann::json parameters;
  abstention::MethodMetrics metrics;
  nlohmann::json diagnostics;
  nlohmann::json paper_metrics;  // metrics_mode paper_compat only
};
struct Comparison {
  std::string condition = "clean";  // or "<corruption>@<severity>"
  abstention::ModelMetrics model;
  std::vector<MethodReport> methods;
  nlohmann::json to_json() const;
};

Comparison compare(const FittedMethods& methods, const Scored& test, const AbstentionSettings& settings,
                   const std::string& condition = "clean");

// The side-by-side table: one row per method, then the model's selective-prediction line.
std::string comparison_table(const Comparison& comparison, double alpha);
// One row per (condition, method): coverage, set size, abstention rate, accuracy on answered.
std::string sweep_table(const std::vector<Comparison>& conditions);

}  // namespace attnlab::calibration
