// A run's metrics.jsonl as series for plots: every numeric value of the training records and of
// each split's evaluation records against the step, and the newest vector value (e.g. MoH's
// per-head usage "attention/layer0/moh_head_usage") of each kind of record.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace attnlab::report {

struct Curve {
  std::vector<double> steps, values;
};

struct RunHistory {
  std::map<std::string, Curve> train;                         // "loss", "loss/task", "lr", "grad_norm", ...
  std::map<std::string, std::map<std::string, Curve>> eval;   // split -> metric -> curve
  std::map<std::string, std::vector<double>> train_vectors;   // key -> the newest training record's list
  std::map<std::string, std::vector<double>> eval_vectors;    // key -> the newest evaluation record's list
};

// Reads RUN_DIR/metrics.jsonl. "step", "epoch", "kind", "split" and "examples" are bookkeeping,
// not series. A line that is not a JSON object throws UserError "PATH:LINE: ..."; a missing file
// gives an empty history.
RunHistory read_run_history(const std::string& metrics_path);

}  // namespace attnlab::report
