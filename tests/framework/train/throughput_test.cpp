// The trainer's throughput meter: untimed warm-up steps, excluded work inside a step, loading
// timed apart inside the step, and the examples rate as the steps rate times the examples per
// step. Counts, identities and lower bounds of sleeps only: no assertion depends on how fast this
// machine is.
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

TEST(ThroughputMeter, TimesLoadingAsPartOfTheStepAndOnlyInTimedSteps) {
  ThroughputMeter meter(/*examples_per_step=*/8, /*warmup_steps=*/1);
  const auto sleep_ms = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  for (int i = 0; i < 3; ++i) {
    meter.begin_step();
    // Warm-up loading (step 0) is not counted; the batch the work returns is handed back.
    const int batch = meter.loading([&] {
      sleep_ms(20);
      return i;
    });
    EXPECT_EQ(batch, i);
    sleep_ms(20);  // "forward and backward"
    meter.end_step();
  }
  const auto j = meter.to_json();
  const double loading = j.at("loading_seconds").get<double>();
  EXPECT_GE(loading, 0.04);  // two timed steps of at least 20 ms each
  EXPECT_LT(loading, j.at("seconds").get<double>());
  EXPECT_DOUBLE_EQ(j.at("loading_share").get<double>(), loading / j.at("seconds").get<double>());
}

}  // namespace
}  // namespace attnlab::train
