// Learning-rate schedules as pure functions of the optimizer step, so resuming needs only the step
// (LibTorch has nothing beyond StepLR). `factor(step)` multiplies each parameter group's base lr
// for the update with 0-based index `step`. All schedules share:
//   warmup (step < W):       factor = (step + 1) / W
//   after warmup, p = (step - W) / max(1, total - W) clamped to [0, 1], floor f = min_lr_ratio:
//   constant:                1
//   warmup_cosine:           f + (1 - f) * 0.5 * (1 + cos(pi * p))
//   warmup_linear:           f + (1 - f) * (1 - p)
//   warmup_inverse_sqrt:     max(f, sqrt(max(W, 1)) / sqrt(step + 1))   (fairseq's inverse_sqrt)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace attnlab::optim {

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual double factor(int64_t step) const = 0;
};

struct ScheduleOptions {
  std::string name = "constant";  // constant | warmup_cosine | warmup_linear | warmup_inverse_sqrt
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;        // the run's optimizer steps (from train.steps or epochs)
  double min_lr_ratio = 0.0;      // the floor, as a fraction of the base lr
};

// Throws std::invalid_argument for an unknown name.
std::unique_ptr<Schedule> make_schedule(const ScheduleOptions& options);

}  // namespace attnlab::optim
