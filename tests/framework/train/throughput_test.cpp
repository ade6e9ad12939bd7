// The trainer's throughput meter: untimed warm-up steps, excluded work inside a step, and the
// examples rate as the steps rate times the examples per step. Counts and identities only: no
// assertion depends on how fast this machine is.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "framework/train/throughput.h"

namespace attnlab::train {
namespace {

TEST(ThroughputMeter, SkipsWarmupStepsAndExcludedWork) {
  ThroughputMeter meter(/*examples_per_step=*/32, /*warmup_steps=*/2);
  for (int i = 0; i < 2; ++i) {
    meter.begin_step();
    meter.end_step();
  }
  EXPECT_TRUE(meter.to_json().is_null());  // nothing timed yet
  bool ran = false;
  for (int i = 0; i < 3; ++i) {
    meter.begin_step();
    meter.exclude([&] {
      ran = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    });
    meter.end_step();
  }
  EXPECT_TRUE(ran);
  const auto j = meter.to_json();
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j.at("steps_timed").get<int64_t>(), 3);
  // The 90 ms of excluded sleep are not in the step time.
  EXPECT_LT(j.at("seconds").get<double>(), 0.09);
  EXPECT_DOUBLE_EQ(j.at("examples_per_s").get<double>(), 32 * j.at("steps_per_s").get<double>());
}

}  // namespace
}  // namespace attnlab::train
