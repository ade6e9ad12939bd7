// Learning-rate schedules: hand-computed factors at the steps where the formulas change (first
// step, mid warmup, end of warmup, start, middle and end of the decay, beyond the run), the
// floor, monotonicity, the degenerate total <= warmup, and rejected options.
#include "framework/optim/schedules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace attnlab::optim {
namespace {

constexpr double kTol = 1e-12;

std::unique_ptr<Schedule> make(const std::string& name, int64_t warmup, int64_t total,
                               double floor = 0.0) {
  ScheduleOptions o;
  o.name = name;
  o.warmup_steps = warmup;
  o.total_steps = total;
  o.min_lr_ratio = floor;
  return make_schedule(o);
}

TEST(Schedules, ConstantWithAndWithoutWarmup) {
  const auto plain = make("constant", 0, 100, 0.5);
  EXPECT_DOUBLE_EQ(plain->factor(0), 1.0);
  EXPECT_DOUBLE_EQ(plain->factor(100000), 1.0);
  const auto warm = make("constant", 4, 100);
  EXPECT_DOUBLE_EQ(warm->factor(0), 0.25);
  EXPECT_DOUBLE_EQ(warm->factor(1), 0.5);
  EXPECT_DOUBLE_EQ(warm->factor(3), 1.0);
  EXPECT_DOUBLE_EQ(warm->factor(4), 1.0);
  EXPECT_DOUBLE_EQ(warm->factor(1000), 1.0);
}

// Warmup 10, total 110: the decay spans steps 10..110, p = (step - 10) / 100.
TEST(Schedules, WarmupCosine) {
  const auto s = make("warmup_cosine", 10, 110, 0.1);
  EXPECT_NEAR(s->factor(0), 0.1, kTol);                  // (0 + 1) / 10
  EXPECT_NEAR(s->factor(4), 0.5, kTol);                  // mid warmup
  EXPECT_NEAR(s->factor(9), 1.0, kTol);                  // last warmup step
  EXPECT_NEAR(s->factor(10), 1.0, kTol);                 // p = 0
  EXPECT_NEAR(s->factor(35), 0.8681980515339464, kTol);  // p = 1/4: 0.1 + 0.45 (1 + cos(pi/4))
  EXPECT_NEAR(s->factor(60), 0.55, kTol);                // p = 1/2: halfway to the floor
  EXPECT_NEAR(s->factor(109), 0.10022204783542078, kTol);  // last step of the run, p = 0.99
  EXPECT_NEAR(s->factor(110), 0.1, kTol);                // p = 1: the floor
  EXPECT_NEAR(s->factor(5000), 0.1, kTol);               // beyond total: stays at the floor
}

TEST(Schedules, WarmupLinear) {
  const auto s = make("warmup_linear", 10, 110);
  EXPECT_NEAR(s->factor(0), 0.1, kTol);
  EXPECT_NEAR(s->factor(9), 1.0, kTol);
  EXPECT_NEAR(s->factor(10), 1.0, kTol);
  EXPECT_NEAR(s->factor(35), 0.75, kTol);
  EXPECT_NEAR(s->factor(60), 0.5, kTol);
  EXPECT_NEAR(s->factor(109), 0.01, kTol);
  EXPECT_NEAR(s->factor(110), 0.0, kTol);
  EXPECT_NEAR(s->factor(200), 0.0, kTol);

  const auto floored = make("warmup_linear", 10, 110, 0.2);
  EXPECT_NEAR(floored->factor(60), 0.6, kTol);  // 0.2 + 0.8 * 0.5
  EXPECT_NEAR(floored->factor(109), 0.20800000000000002, kTol);
  EXPECT_NEAR(floored->factor(110), 0.2, kTol);
}

TEST(Schedules, WarmupInverseSqrt) {
  const auto s = make("warmup_inverse_sqrt", 4, 1000);
  EXPECT_NEAR(s->factor(0), 0.25, kTol);
  EXPECT_NEAR(s->factor(3), 1.0, kTol);
  EXPECT_NEAR(s->factor(4), 0.8944271909999159, kTol);  // sqrt(4) / sqrt(5)
  EXPECT_NEAR(s->factor(15), 0.5, kTol);                // 2 / 4
  EXPECT_NEAR(s->factor(99), 0.2, kTol);                // 2 / 10
  EXPECT_NEAR(s->factor(4999), 2.0 / std::sqrt(5000.0), kTol);  // ignores total

  EXPECT_NEAR(make("warmup_inverse_sqrt", 4, 1000, 0.3)->factor(99), 0.3, kTol);  // floored
  const auto no_warmup = make("warmup_inverse_sqrt", 0, 1000);
  EXPECT_NEAR(no_warmup->factor(0), 1.0, kTol);
  EXPECT_NEAR(no_warmup->factor(3), 0.5, kTol);
}

TEST(Schedules, NoWarmupStartsAtFullRate) {
  for (const char* name : {"warmup_cosine", "warmup_linear"}) {
    const auto s = make(name, 0, 100);
    EXPECT_NEAR(s->factor(0), 1.0, kTol) << name;
    EXPECT_NEAR(s->factor(50), 0.5, kTol) << name;  // cos and linear agree at p = 1/2
    EXPECT_NEAR(s->factor(100), 0.0, kTol) << name;
  }
}

TEST(Schedules, TotalNotBeyondWarmupIsWellDefined) {
  for (const char* name : {"warmup_cosine", "warmup_linear", "warmup_inverse_sqrt", "constant"}) {
    for (int64_t total : {0, 1, 5, 10}) {
      const auto s = make(name, 10, total, 0.25);
      for (int64_t step = 0; step < 30; ++step) ASSERT_TRUE(std::isfinite(s->factor(step)));
      EXPECT_NEAR(s->factor(9), 1.0, kTol) << name << " total " << total;
    }
  }
  // The decay ends one step after the warmup.
  const auto s = make("warmup_cosine", 10, 5, 0.25);
  EXPECT_NEAR(s->factor(10), 1.0, kTol);
  EXPECT_NEAR(s->factor(11), 0.25, kTol);
  const auto degenerate = make("warmup_linear", 0, 0);
  EXPECT_NEAR(degenerate->factor(0), 1.0, kTol);
  EXPECT_NEAR(degenerate->factor(1), 0.0, kTol);
}

TEST(Schedules, WarmupRisesDecayFallsAndTheFloorHolds) {
  const double floor = 0.25;
  for (const char* name : {"warmup_cosine", "warmup_linear", "warmup_inverse_sqrt"}) {
    const auto s = make(name, 20, 200, floor);
    for (int64_t step = 1; step < 20; ++step)
      ASSERT_GT(s->factor(step), s->factor(step - 1)) << name << " step " << step;
    for (int64_t step = 21; step < 300; ++step) {
      ASSERT_LE(s->factor(step), s->factor(step - 1)) << name << " step " << step;
      ASSERT_GE(s->factor(step), floor) << name << " step " << step;
    }
    EXPECT_LT(s->factor(199), s->factor(20)) << name;  // it does decay
  }
}

TEST(Schedules, InvalidOptionsAreRejected) {
  const auto rejects = [](ScheduleOptions o) {
    EXPECT_THROW(make_schedule(o), std::invalid_argument) << o.name;
  };
  ScheduleOptions o;
  o.name = "warmup_cosine";
  o.total_steps = 100;
  auto bad = o;
  bad.warmup_steps = -1;
  rejects(bad);
  bad = o;
  bad.total_steps = -5;
  rejects(bad);
  for (double ratio : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    bad = o;
    bad.min_lr_ratio = ratio;
    rejects(bad);
  }
  bad = o;
  bad.name = "cosine_with_typo";
  rejects(bad);
  for (double ratio : {0.0, 1.0}) {
    bad = o;
    bad.min_lr_ratio = ratio;
    EXPECT_NO_THROW(make_schedule(bad));
  }
  EXPECT_THROW(make_schedule(o)->factor(-1), std::invalid_argument);
}

}  // namespace
}  // namespace attnlab::optim
