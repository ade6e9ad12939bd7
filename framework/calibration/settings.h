// The `abstention:` recipe section (and `attnlab calibrate`'s options): which methods to compare
// after training, on which splits, with which parameters. Parameters follow the papers' defaults
// (notes §1.3 for the RL thresholds, §2 for the dual threshold). `attnlab list section abstention`
// documents every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/config/schema.h"
#include "framework/config/section.h"

namespace attnlab::calibration {

struct AbstentionSettings {
  bool enabled = false;                  // run the stage at the end of `attnlab train`
  std::string calibration_split = "val";
  std::string test_split;                // "" = the recipe's eval.test_split
  double alpha = 0.1;                    // miscoverage of the conformal sets
  std::vector<std::string> methods = {"lac", "aps", "raps", "top_k", "dual_threshold", "rl_paper", "rl_sound"};
  bool randomized = true;                // randomised APS / RAPS / top-k scores
  std::string quantile = "exact";        // exact | numpy_higher
  bool class_conditional = false;        // Mondrian thresholds, one per class
  std::string empty_sets = "allow";      // allow | top1
  int64_t raps_k_reg = 5;
  double raps_lambda = 0.02;
  // Dual threshold (notes §2): the set comes from `dual_set_score`, abstention from `abstention_score`.
  std::string dual_set_score = "raps";   // lac | aps | raps | top_k
  std::string abstention_score = "neg_log_max_prob";  // neg_log_max_prob | entropy | set_size | oracle_neg_log_true_prob
  std::string threshold_rule = "youden";  // youden | target_fpr
  double target_fpr = 0.05;
  std::string threshold_grid = "exact";   // exact | paper_grid
  // RL thresholds (notes §1.3).
  int64_t rl_epochs = 200;
  double rl_lr = 1e-3;
  double rl_tuning_fraction = 0.5;        // rl_sound: the held-out part of the calibration split
  std::string metrics_mode = "clean";     // clean | paper_compat (adds the papers' own definitions)
  double penalty_c = 1.0;                 // the penalty score's cost of a wrong answer
  int64_t seed = 0;
  // Robustness sweep: calibrate on clean data, evaluate the test split under each corruption.
  std::vector<std::string> corruptions;   // gaussian_noise | blur | occlusion
  std::vector<int64_t> severities = {1, 2, 3, 4, 5};
};

config::Schema abstention_schema();
// Reads a validated section (the recipe's `abstention`, or a map built from command-line options).
AbstentionSettings read_abstention_settings(const config::Section& section);

}  // namespace attnlab::calibration
