#include "framework/calibration/settings.h"

namespace attnlab::calibration {

config::Schema abstention_schema() {
  using config::Type;
  config::Schema s("post-training abstention: conformal sets, dual-threshold and RL-learned abstention, compared on the test split");
  s.add_bool("enabled", false, "run the stage at the end of `attnlab train` (or run `attnlab calibrate RUN_DIR`)");
  s.add_string("calibration_split", "val", "split the thresholds are calibrated on");
  s.add_string("test_split", "", "split the methods are scored on (\"\": eval.test_split)");
  s.add_float("alpha", 0.1, "miscoverage of the conformal sets (coverage target 1 - alpha)").at_least(1e-6).less_than(1);
  s.add("methods", Type::StringList, "[lac, aps, raps, top_k, dual_threshold, rl_paper, rl_sound]",
        "methods to compare")
      .one_of({"lac", "aps", "raps", "top_k", "dual_threshold", "rl_paper", "rl_sound"});
  s.add_bool("randomized", true, "randomised APS/RAPS/top-k scores (exact coverage in expectation)");
  s.add_string("quantile", "exact", "exact (k-th order statistic) or numpy_higher (the papers' np.quantile)")
      .one_of({"exact", "numpy_higher"});
  s.add_bool("class_conditional", false, "Mondrian calibration: one threshold per class");
  s.add_string("empty_sets", "allow", "allow (an empty set is not covered) or top1 (add the arg-max)")
      .one_of({"allow", "top1"});
  s.add_int("raps_k_reg", 5, "RAPS: ranks up to k_reg are not penalised").at_least(0);
  s.add_float("raps_lambda", 0.02, "RAPS: penalty per rank beyond k_reg").at_least(0);
  s.add_string("dual_set_score", "raps", "dual threshold: the conformal score of the set")
      .one_of({"lac", "aps", "raps", "top_k"});
  s.add_string("abstention_score", "neg_log_max_prob",
               "dual threshold: abstain when this is high; oracle_neg_log_true_prob reads the true label (the paper's diagnostic)")
      .one_of({"neg_log_max_prob", "entropy", "set_size", "oracle_neg_log_true_prob"});
  s.add_string("threshold_rule", "youden", "dual threshold on the calibration split: youden (max TPR - FPR) or target_fpr")
      .one_of({"youden", "target_fpr"});
  s.add_float("target_fpr", 0.05, "threshold_rule target_fpr: the largest false-positive rate allowed").at_least(0).at_most(1);
  s.add_string("threshold_grid", "exact", "candidate thresholds: exact (every calibration score) or paper_grid (~150 points)")
      .one_of({"exact", "paper_grid"});
  s.add_int("rl_epochs", 200, "RL thresholds: REINFORCE episodes").at_least(1);
  s.add_float("rl_lr", 1e-3, "RL thresholds: Adam learning rate").at_least(0);
  s.add_float("rl_tuning_fraction", 0.5, "rl_sound: fraction of the calibration split held out to compute the reward")
      .at_least(0.05).at_most(0.95);
  s.add_string("metrics_mode", "clean", "clean, or paper_compat (also the papers' own metric definitions)")
      .one_of({"clean", "paper_compat"});
  s.add_float("penalty_c", 1.0, "penalty score: a wrong answer costs c, an abstention 0, a right answer earns 1").at_least(0);
  s.add_int("seed", 0, "seed of randomised scores, data splits and the RL policy");
  s.add("corruptions", Type::StringList, "[]", "robustness sweep: corrupt the test images (image datasets)")
      .one_of({"gaussian_noise", "blur", "occlusion"});
  s.add("severities", Type::IntList, "[1, 2, 3, 4, 5]", "robustness sweep: corruption severities (1-5)");
  return s;
}

AbstentionSettings read_abstention_settings(const config::Section& sec) {
  AbstentionSettings s;
  s.enabled = sec.get_bool("enabled");
  s.calibration_split = sec.get_string("calibration_split");
  s.test_split = sec.get_string("test_split");
  s.alpha = sec.get_float("alpha");
  s.methods = sec.get_string_list("methods");
  s.randomized = sec.get_bool("randomized");
  s.quantile = sec.get_string("quantile");
  s.class_conditional = sec.get_bool("class_conditional");
  s.empty_sets = sec.get_string("empty_sets");
  s.raps_k_reg = sec.get_int("raps_k_reg");
  s.raps_lambda = sec.get_float("raps_lambda");
  s.dual_set_score = sec.get_string("dual_set_score");
  s.abstention_score = sec.get_string("abstention_score");
  s.threshold_rule = sec.get_string("threshold_rule");
  s.target_fpr = sec.get_float("target_fpr");
  s.threshold_grid = sec.get_string("threshold_grid");
  s.rl_epochs = sec.get_int("rl_epochs");
  s.rl_lr = sec.get_float("rl_lr");
  s.rl_tuning_fraction = sec.get_float("rl_tuning_fraction");
  s.metrics_mode = sec.get_string("metrics_mode");
  s.penalty_c = sec.get_float("penalty_c");
  s.seed = sec.get_int("seed");
  s.corruptions = sec.get_string_list("corruptions");
  s.severities = sec.get_int_list("severities");
  return s;
}

}  // namespace attnlab::calibration
