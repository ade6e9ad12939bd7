// Training throughput of one invocation, for summary.json and `attnlab bench train`: the time of
// the optimizer steps themselves (data loading, forward, backward, update, logging), without the
// evaluations and checkpoints that fall inside them, and without the first steps (thread pools and
// allocator caches warming up). The part of that time spent making batches is timed on its own:
// loading runs on the training thread, so it adds to the step time one for one.
#pragma once

#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace attnlab::train {

class ThroughputMeter {
 public:
  ThroughputMeter(int64_t examples_per_step, int64_t warmup_steps = 5)
      : examples_per_step_(examples_per_step), warmup_steps_(warmup_steps) {}

  void begin_step() { begin_ = Clock::now(), excluded_ = 0, step_loading_ = 0; }
  // Making a batch (sampling, gathering, collating, moving it to the device): part of the step.
  template <typename F>
  auto loading(F&& work) {
    const auto t0 = Clock::now();
    auto batch = work();
    step_loading_ += seconds_since(t0);
    return batch;
  }
  // Time spent between begin_step and end_step that is not the step's (an evaluation, a checkpoint).
  template <typename F>
  void exclude(F&& work) {
    const auto t0 = Clock::now();
    work();
    excluded_ += seconds_since(t0);
  }
  void end_step() {
    if (++steps_seen_ <= warmup_steps_) return;
    seconds_ += seconds_since(begin_) - excluded_;
    loading_seconds_ += step_loading_;
    ++steps_timed_;
  }

  // {"steps_timed", "seconds", "steps_per_s", "examples_per_s", "loading_seconds",
  // "loading_share"}; null when no step was timed.
  nlohmann::json to_json() const {
    if (steps_timed_ == 0 || seconds_ <= 0) return nullptr;
    return {{"steps_timed", steps_timed_}, {"seconds", seconds_},
            {"steps_per_s", steps_timed_ / seconds_},
            {"examples_per_s", static_cast<double>(steps_timed_ * examples_per_step_) / seconds_},
            {"loading_seconds", loading_seconds_},
            {"loading_share", loading_seconds_ / seconds_}};
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

  int64_t examples_per_step_, warmup_steps_;
  int64_t steps_seen_ = 0, steps_timed_ = 0;
  double seconds_ = 0, excluded_ = 0, loading_seconds_ = 0, step_loading_ = 0;
  Clock::time_point begin_;
};

}  // namespace attnlab::train
