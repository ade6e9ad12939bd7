// Best-value tracking for checkpoints and early stopping.
#include "framework/train/monitor.h"

#include <cmath>

namespace attnlab::train {

MetricMonitor::MetricMonitor(std::string monitor, std::string mode, double min_delta)
    : monitor_(std::move(monitor)), mode_(std::move(mode)), min_delta_(min_delta) {}

bool MetricMonitor::observe(double value, int64_t step) {
  // A non-finite value never counts as an improvement (Lightning's check_finite).
  bool better = std::isfinite(value) &&
                (!has_best_ || (mode_ == "max" ? value > best_ + min_delta_ : value < best_ - min_delta_));
  if (better) {
    has_best_ = true;
    best_ = value;
    best_step_ = step;
    stale_ = 0;
  } else {
    ++stale_;
  }
  return better;
}

nlohmann::json MetricMonitor::state() const {
  return {{"monitor", monitor_}, {"mode", mode_}, {"has_best", has_best_},
          {"best", has_best_ ? best_ : 0.0}, {"best_step", best_step_}, {"stale", stale_}};
}

void MetricMonitor::load_state(const nlohmann::json& s) {
  has_best_ = s.at("has_best").get<bool>();
  best_ = s.at("best").get<double>();
  best_step_ = s.at("best_step").get<int64_t>();
  stale_ = s.at("stale").get<int64_t>();
}

}  // namespace attnlab::train
