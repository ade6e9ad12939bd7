// Tracks the best value of a monitored metric (for the best checkpoint and early stopping).
// A value improves on the best when it is better by more than min_delta in the monitor's mode.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace attnlab::train {

class MetricMonitor {
 public:
  MetricMonitor(std::string monitor, std::string mode, double min_delta = 0.0);

  // Records an evaluation; returns whether it improved on the best so far.
  bool observe(double value, int64_t step);

  bool has_best() const { return has_best_; }
  double best() const { return best_; }
  int64_t best_step() const { return best_step_; }
  int64_t evals_without_improvement() const { return stale_; }
  const std::string& monitor() const { return monitor_; }
  const std::string& mode() const { return mode_; }

  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  std::string monitor_, mode_;
  double min_delta_;
  bool has_best_ = false;
  double best_ = 0.0;
  int64_t best_step_ = -1;
  int64_t stale_ = 0;
};

}  // namespace attnlab::train
