// Learning-rate schedules: factor(step) for the 0-based optimizer step, with a linear warmup of W
// steps, (step + 1) / W, reaching exactly 1 at step W - 1, then a decay over progress
//   p = clamp((step - W) / max(1, total - W), 0, 1)
// towards the floor f = min_lr_ratio (cosine and linear reach f at step `total`, and stay there).
// max(1, .) keeps total <= W well defined: the decay then finishes one step after warmup.
// warmup_inverse_sqrt is fairseq's inverse_sqrt: sqrt(W) / sqrt(step + 1), equal to 1 where the
// warmup ends, never below f; it ignores `total`.
#include "framework/optim/schedules.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace attnlab::optim {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The shared warmup and progress arithmetic; subclasses say what happens after warmup.
class WarmupSchedule : public Schedule {
 public:
  explicit WarmupSchedule(const ScheduleOptions& o)
      : warmup_(o.warmup_steps), total_(o.total_steps), floor_(o.min_lr_ratio) {}

  double factor(int64_t step) const final {
    if (step < 0) throw std::invalid_argument("schedule: negative step " + std::to_string(step));
    if (step < warmup_) return static_cast<double>(step + 1) / static_cast<double>(warmup_);
    return after_warmup(step);
  }

 protected:
  virtual double after_warmup(int64_t step) const = 0;

  double progress(int64_t step) const {
    const double span = static_cast<double>(std::max<int64_t>(1, total_ - warmup_));
    return std::clamp(static_cast<double>(step - warmup_) / span, 0.0, 1.0);
  }

  const int64_t warmup_;
  const int64_t total_;
  const double floor_;
};

class ConstantSchedule final : public WarmupSchedule {
 public:
  using WarmupSchedule::WarmupSchedule;

 private:
  double after_warmup(int64_t) const override { return 1.0; }
};

class CosineSchedule final : public WarmupSchedule {
 public:
  using WarmupSchedule::WarmupSchedule;

 private:
  double after_warmup(int64_t step) const override {
    return floor_ + (1.0 - floor_) * 0.5 * (1.0 + std::cos(kPi * progress(step)));
  }
};

class LinearSchedule final : public WarmupSchedule {
 public:
  using WarmupSchedule::WarmupSchedule;

 private:
  double after_warmup(int64_t step) const override {
    return floor_ + (1.0 - floor_) * (1.0 - progress(step));
  }
};

class InverseSqrtSchedule final : public WarmupSchedule {
 public:
  using WarmupSchedule::WarmupSchedule;

 private:
  double after_warmup(int64_t step) const override {
    const double w = static_cast<double>(std::max<int64_t>(warmup_, 1));
    return std::max(floor_, std::sqrt(w) / std::sqrt(static_cast<double>(step + 1)));
  }
};

}  // namespace

std::unique_ptr<Schedule> make_schedule(const ScheduleOptions& o) {
  if (o.warmup_steps < 0)
    throw std::invalid_argument("schedule: warmup_steps must be >= 0, got " +
                                std::to_string(o.warmup_steps));
  if (o.total_steps < 0)
    throw std::invalid_argument("schedule: total_steps must be >= 0, got " +
                                std::to_string(o.total_steps));
  // Written so that NaN fails too.
  if (!(o.min_lr_ratio >= 0.0 && o.min_lr_ratio <= 1.0))
    throw std::invalid_argument("schedule: min_lr_ratio must be in [0, 1], got " +
                                std::to_string(o.min_lr_ratio));
  if (o.name == "constant") return std::make_unique<ConstantSchedule>(o);
  if (o.name == "warmup_cosine") return std::make_unique<CosineSchedule>(o);
  if (o.name == "warmup_linear") return std::make_unique<LinearSchedule>(o);
  if (o.name == "warmup_inverse_sqrt") return std::make_unique<InverseSqrtSchedule>(o);
  throw std::invalid_argument("schedule: unknown name \"" + o.name +
                              "\" (constant, warmup_cosine, warmup_linear, warmup_inverse_sqrt)");
}

}  // namespace attnlab::optim
